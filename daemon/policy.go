package daemon

import (
	"fmt"

	"github.com/lsrd/lsrd/rib"
)

// allocatePolicy turns the configuration's ldp.labels.allocate into the LIB's
// filter. "host-routes", the default, gives labels to connected prefixes and
// to /32 and /128 routes that are not from BGP: every router's loopback gets
// an LSP, a full BGP table never gets labels.
func allocatePolicy(name string) (func(rib.Route) bool, error) {
	switch name {
	case "all":
		return nil, nil
	case "host-routes", "":
		return func(r rib.Route) bool {
			if r.Source == rib.SourceConnected {
				return true
			}
			return r.Source != rib.SourceBGP && r.Prefix.Bits() == r.Prefix.Addr().BitLen()
		}, nil
	}
	return nil, fmt.Errorf("unknown label allocation policy %q", name)
}
