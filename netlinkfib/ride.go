package netlinkfib

import (
	"iter"
	"net/netip"
	"slices"

	"github.com/lsrd/lsrd/fib"
)

// rideScope is one fib.Ride a scoped pass takes: the routes riding one
// LSP.
type rideScope struct {
	prefixes []netip.Prefix
	hops     [2][]fib.NextHop // the routes' next hops now: IPv4, IPv6 (fib.RideHops)
}

// ridesInPlace moves the routes of sc's rides with their LSP, without
// touching a route, where it can: when the routes of one ride and family
// all go through one nexthop object (or group) that nothing else uses but
// routes in sc, that object's hops (a group's members) are rewritten in
// place to the ride's new next hops, the way FRR's and Holo's resolvers
// move the routes behind a recursive next hop. It sets want's entries for
// those routes, records the rewrites in have (a request the kernel
// refuses makes the next pass re-read it all) and returns them, for the
// plan. The routes of every other ride come back in rest, for the
// per-route scoped diff; moved and fallen count the rides of each kind.
//
// The check is a few map lookups per route, against a per-route resolve and
// diff: 66,714 prefixes behind one LSP took seconds of the kernel layer
// under emulation before.
func ridesInPlace(want *desiredState, have *kernelState, t *fib.Table, sc *scope, ifindex func(string) (int, bool)) (rewrites []nexthopObject, rest *scope, moved, fallen int) {
	rest = &scope{prefixes: map[netip.Prefix]struct{}{}}
	for _, r := range sc.rides {
		for _, v6 := range []bool{false, true} {
			// The ride's routes of this family, but for the delta's own
			// entries: those are diffed with the rest.
			routes := func(yield func(netip.Prefix) bool) {
				for _, p := range r.prefixes {
					if _, named := sc.prefixes[p]; !named && p.Addr().Is6() == v6 && !yield(p) {
						return
					}
				}
			}
			hops, objs, n := rideObject(have, t, sc, routes, v6, ifindex)
			switch {
			case n == 0:
				continue // none of this family
			case hops == nil:
				for p := range routes {
					rest.prefixes[p] = struct{}{}
				}
				fallen++
				continue
			}
			for p := range routes {
				want.ftn[p] = hops
			}
			for _, o := range objs {
				have.nexthops[o.id] = o.hop
			}
			rewrites = append(rewrites, objs...)
			moved++
		}
	}
	return rewrites, rest, moved, fallen
}

// rideObject decides whether the routes (one ride, one family) can follow
// their LSP by rewriting the object they share: it returns their new hops
// resolved and the objects to rewrite (none when the object has them
// already), or nil hops; and the number of routes (0: nothing to do).
func rideObject(have *kernelState, t *fib.Table, sc *scope, routes iter.Seq[netip.Prefix], v6 bool, ifindex func(string) (int, bool)) ([]hop, []nexthopObject, int) {
	var n int
	var id uint32
	var first netip.Prefix
	ok := true
	for p := range routes {
		cur, routed := have.routes[p]
		_, wanted := t.FTN[p]
		if n == 0 {
			id, first = cur, p
		}
		n++
		if !routed || cur != id || have.ingress[p] || !wanted {
			ok = false
		}
	}
	if n == 0 || !ok || have.legacyObjects[id] {
		return nil, nil, n
	}
	hops, err := resolveHopsFor(v6, t.FTN[first].NextHops, ifindex)
	if err != nil {
		return nil, nil, n // each route reports it
	}
	// Nothing but these routes and routes the scoped diff looks at may
	// use the object: those see it with its new hops, and stay on it or
	// leave it as they want.
	users := n
	for q := range sc.prefixes {
		if cur, ok := have.routes[q]; ok && cur == id {
			users++
		}
	}
	if have.users[id] != users {
		return nil, nil, n
	}
	var objs []nexthopObject
	if h, single := have.nexthops[id]; single {
		if len(hops) != 1 || h.gw.Is4() != hops[0].gw.Is4() {
			return nil, nil, n
		}
		if !h.equal(hops[0]) {
			objs = append(objs, nexthopObject{id: id, hop: hops[0]})
		}
		return hops, objs, n
	}
	members, group := have.groups[id]
	if !group || len(members) != len(hops) {
		return nil, nil, n
	}
	// Members sorted by their hops pair with the new hops (sorted too):
	// an LSP whose labels change keeps each leg on its member.
	ms := slices.Clone(members)
	for _, m := range ms {
		if _, ok := have.nexthops[m]; !ok || have.users[m] != 1 || have.legacyObjects[m] {
			return nil, nil, n
		}
	}
	slices.SortFunc(ms, func(a, b uint32) int { return compareHops(have.nexthops[a], have.nexthops[b]) })
	for i, m := range ms {
		h := have.nexthops[m]
		if h.gw.Is4() != hops[i].gw.Is4() {
			return nil, nil, n
		}
		if !h.equal(hops[i]) {
			objs = append(objs, nexthopObject{id: m, hop: hops[i]})
		}
	}
	return hops, objs, n
}
