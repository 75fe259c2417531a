package daemon

import (
	"fmt"

	"github.com/lsrd/lsrd/config"
	"github.com/lsrd/lsrd/rib"
)

// allocatePolicy turns the configuration's ldp.labels into the LIB's filter.
// "host-routes", the default, gives labels to connected prefixes and to /32
// and /128 routes: every router's loopback gets an LSP. "all" gives labels to
// every route. Neither gives labels to BGP routes: a full BGP table must
// never get labels. bgp-host-routes adds BGP-learned host routes, the
// loopbacks of remote LSRs where BGP is the only routing protocol over the
// overlay.
//
// protocols narrows the kernel routes (other daemons', an IGP's) to those
// route protocols, and prefix-list narrows every route to its entries: what
// operators write as "label only loopbacks of these IGPs".
func allocatePolicy(l config.Labels) (func(rib.Route) bool, error) {
	isHost := func(r rib.Route) bool { return r.Prefix.Bits() == r.Prefix.Addr().BitLen() }
	var igp func(rib.Route) bool
	switch l.Allocate {
	case "all":
		igp = func(rib.Route) bool { return true }
	case "host-routes", "":
		igp = func(r rib.Route) bool { return r.Source == rib.SourceConnected || isHost(r) }
	default:
		return nil, fmt.Errorf("unknown label allocation policy %q", l.Allocate)
	}
	var protos *rib.Protocols
	if len(l.Protocols) > 0 {
		protos = &rib.Protocols{}
		for _, p := range l.Protocols {
			protos[p] = true
		}
	}
	list := config.PrefixList("ldp.labels.prefix-list", l.PrefixList)
	return func(r rib.Route) bool {
		if len(list.Rules) > 0 && !list.Permits(r.Prefix) {
			return false
		}
		switch r.Source {
		case rib.SourceBGP:
			return l.BGPHostRoutes && isHost(r)
		case rib.SourceKernel:
			if protos != nil && !protos[r.Protocol] {
				return false
			}
		}
		return igp(r)
	}, nil
}
