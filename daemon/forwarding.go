package daemon

import (
	"maps"
	"net/netip"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/rib"
)

// desiredForwarding is what lsrd asks of the kernel: LDP's label routes as
// they are, and IP routes for the prefixes whose best route lsrd itself owns
// (static routes from its configuration, BGP routes), pushing LDP's label
// where one exists and unlabelled otherwise.
//
// Routes of other daemons and of the kernel (connected) are never replaced:
// the kernel keeps one route per prefix and metric, and lsrd must not take
// over what it did not install, so LDP's push for those prefixes is left out.
func desiredForwarding(ldp *fib.Table, best []rib.Route) *fib.Table {
	t := fib.NewTable()
	if ldp != nil {
		maps.Copy(t.LFIB, ldp.LFIB)
	}
	for _, r := range best {
		if r.Source != rib.SourceStatic && r.Source != rib.SourceBGP {
			continue
		}
		if ldp != nil {
			if e, ok := ldp.FTN[r.Prefix]; ok {
				t.FTN[r.Prefix] = e
				continue
			}
			// BGP-free core: a route whose next hop is a remote LSR's
			// address follows the LSP to that address, pushing its label.
			// Every prefix behind the same next hop gets the same next hops
			// and labels, so the kernel layer shares one nexthop object.
			if e, ok := viaLSP(ldp, r); ok {
				t.FTN[r.Prefix] = withRouteLabels(e, r, true)
				continue
			}
		}
		e := fib.FTNEntry{Prefix: r.Prefix}
		for _, nh := range r.NextHops {
			if nh.Ifname == "" {
				continue // unresolved: the RIB publishes none, but be safe
			}
			e.NextHops = append(e.NextHops, fib.NextHop{Addr: nh.Addr, Ifname: nh.Ifname})
		}
		if len(e.NextHops) > 0 {
			t.FTN[r.Prefix] = withRouteLabels(e, r, false)
		}
	}
	return t
}

// viaLSP returns r's forwarding over the LSPs to its recursive next hops,
// when every one of them has an LSP (LDP's FTN entry for its host prefix).
func viaLSP(ldp *fib.Table, r rib.Route) (fib.FTNEntry, bool) {
	if len(r.Recursive) == 0 {
		return fib.FTNEntry{}, false
	}
	e := fib.FTNEntry{Prefix: r.Prefix}
	for _, a := range r.Recursive {
		lsp, ok := ldp.FTN[netip.PrefixFrom(a, a.BitLen())]
		if !ok {
			return fib.FTNEntry{}, false
		}
		e.NextHops = append(e.NextHops, lsp.NextHops...)
	}
	return e, true
}
