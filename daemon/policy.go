package daemon

import (
	"fmt"

	"github.com/lsrd/lsrd/rib"
)

// allocatePolicy turns the configuration's ldp.labels into the LIB's filter.
// "host-routes", the default, gives labels to connected prefixes and to /32
// and /128 routes: every router's loopback gets an LSP. "all" gives labels to
// every route. Neither gives labels to BGP routes: a full BGP table must
// never get labels. bgpHosts adds BGP-learned host routes, the loopbacks of
// remote LSRs where BGP is the only routing protocol over the overlay.
func allocatePolicy(name string, bgpHosts bool) (func(rib.Route) bool, error) {
	isHost := func(r rib.Route) bool { return r.Prefix.Bits() == r.Prefix.Addr().BitLen() }
	var igp func(rib.Route) bool
	switch name {
	case "all":
		igp = func(rib.Route) bool { return true }
	case "host-routes", "":
		igp = func(r rib.Route) bool { return r.Source == rib.SourceConnected || isHost(r) }
	default:
		return nil, fmt.Errorf("unknown label allocation policy %q", name)
	}
	return func(r rib.Route) bool {
		if r.Source == rib.SourceBGP {
			return bgpHosts && isHost(r)
		}
		return igp(r)
	}, nil
}
