package netlinkfib

import (
	"context"
	"fmt"

	"golang.org/x/sys/unix"
)

// readKernel dumps the nexthop objects and the MPLS, IPv4 and IPv6 routes and
// keeps what is lsrd's (its protocol, or the legacy one while adopting; for
// nexthops also an ID in lsrd's block; for IP routes also lsrd's table and
// metric, or the ingress table). It notes what of
// others' stands on a label or prefix lsrd may want, and every nexthop ID in
// use.
func (f *FIB) readKernel(ctx context.Context) (*kernelState, error) {
	s := newKernelState()
	adopting := f.adopting()
	err := f.c.dump(ctx, nexthopDumpRequest(), func(typ uint16, b []byte) error {
		if typ != unix.RTM_NEWNEXTHOP {
			return nil
		}
		n, err := decodeNexthop(b)
		if err != nil {
			return fmt.Errorf("nexthop dump: %w", err)
		}
		s.usedIDs[n.id] = true
		if !f.own.nexthop(n.protocol, n.id, adopting) || n.other {
			return nil
		}
		if n.protocol != f.own.proto {
			s.legacyObjects[n.id] = true
		}
		if n.group != nil {
			s.setGroup(n.id, n.group)
		} else {
			s.nexthops[n.id] = n.hop
		}
		return nil
	})
	if err != nil {
		// A kernel without nexthop objects (before 5.3) answers EINVAL or
		// EOPNOTSUPP; lsrd needs them for label push.
		return nil, fmt.Errorf("reading nexthop objects: %w", err)
	}
	// A VRF's FIB has no label routes: the main FIB's are not its own.
	if !f.vrf {
		if err := f.readLabels(ctx, s, adopting); err != nil {
			return nil, err
		}
	}
	for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		err = f.c.dump(ctx, routeDumpRequest(fam), func(typ uint16, b []byte) error {
			if typ != unix.RTM_NEWROUTE {
				return nil
			}
			r, err := decodeRoute(b)
			if err != nil {
				return fmt.Errorf("route dump: %w", err)
			}
			if r.family != fam || !r.prefix.IsValid() {
				return nil
			}
			ingress := f.ingress.table != 0 && r.table == f.ingress.table && f.ingress.sameMetric(fam, r.metric)
			if !ingress && (r.table != f.target.table || !f.target.sameMetric(fam, r.metric)) {
				return nil
			}
			switch {
			case !f.own.route(r.protocol, adopting) && ingress:
				s.foreignIngress[r.prefix] = r.protocol
			case !f.own.route(r.protocol, adopting):
				s.foreignRoutes[r.prefix] = r.protocol
			case ingress && r.typ == unix.RTN_THROW && r.protocol == f.own.proto:
				s.throws[r.prefix] = true
			case r.typ == unix.RTN_UNICAST:
				s.setRoute(r.prefix, r.nhid)
				if ingress {
					s.ingress[r.prefix] = true
				}
				if r.protocol != f.own.proto {
					s.legacyRoutes[r.prefix] = true
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading IP routes (family %d): %w", fam, err)
		}
	}
	return s, nil
}

// adopting reports whether routes of the legacy protocol still count as
// lsrd's: from the start until its sweep. Called with f.mu held.
func (f *FIB) adopting() bool { return !f.adopted || f.keep != nil }

// readLinks maps interface names to indexes in the FIB's namespace.
func (f *FIB) readLinks(ctx context.Context) (map[string]int, error) {
	links := map[string]int{}
	err := f.c.dump(ctx, linkDumpRequest(), func(typ uint16, b []byte) error {
		if typ != unix.RTM_NEWLINK {
			return nil
		}
		idx, name, err := decodeLinkName(b)
		if err != nil {
			return fmt.Errorf("link dump: %w", err)
		}
		links[name] = idx
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading interfaces: %w", err)
	}
	return links, nil
}

// readLabels reads lsrd's MPLS routes into s.
func (f *FIB) readLabels(ctx context.Context, s *kernelState, adopting bool) error {
	err := f.c.dump(ctx, routeDumpRequest(unix.AF_MPLS), func(typ uint16, b []byte) error {
		if typ != unix.RTM_NEWROUTE {
			return nil
		}
		r, err := decodeRoute(b)
		if err != nil {
			return fmt.Errorf("MPLS route dump: %w", err)
		}
		if r.family != unix.AF_MPLS {
			return nil
		}
		if !f.own.route(r.protocol, adopting) {
			s.foreignLabels[r.label] = r.protocol
			return nil
		}
		if r.protocol != f.own.proto {
			s.legacyLabels[r.label] = true
		}
		s.labels[r.label] = labelRoute{in: r.label, hops: normalizeHops(r.hops)}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading MPLS routes: %w", err)
	}
	return nil
}
