package netlinkfib

import (
	"net/netip"
	"slices"

	"github.com/lsrd/lsrd/fib"
)

// rideScope is one fib.Ride a scoped pass takes: the routes riding the
// LSP to addr, not named by the delta themselves.
type rideScope struct {
	addr     netip.Addr
	prefixes []netip.Prefix
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
// The check is one map lookup per route, against a per-route resolve and
// diff: 66,714 prefixes behind one LSP took seconds of the kernel layer
// under emulation before.
func ridesInPlace(want *desiredState, have *kernelState, t *fib.Table, sc *scope, ifindex func(string) (int, bool)) (rewrites []nexthopObject, rest *scope, moved, fallen int) {
	rest = &scope{prefixes: map[netip.Prefix]struct{}{}}
	for _, r := range sc.rides {
		var byFamily [2][]netip.Prefix
		for _, p := range r.prefixes {
			if _, named := sc.prefixes[p]; named {
				continue // the delta's own entry: diffed with the rest
			}
			i := 0
			if p.Addr().Is6() {
				i = 1
			}
			byFamily[i] = append(byFamily[i], p)
		}
		for i, ps := range byFamily {
			if len(ps) == 0 {
				continue
			}
			hops, objs, ok := rideObject(have, t, sc, ps, i == 1, ifindex)
			if !ok {
				for _, p := range ps {
					rest.prefixes[p] = struct{}{}
				}
				fallen++
				continue
			}
			for _, p := range ps {
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

// rideObject decides whether the routes ps (one ride, one family) can
// follow their LSP by rewriting the object they share: it returns their
// new hops resolved and the objects to rewrite (none when the object has
// them already), or false.
func rideObject(have *kernelState, t *fib.Table, sc *scope, ps []netip.Prefix, v6 bool, ifindex func(string) (int, bool)) ([]hop, []nexthopObject, bool) {
	e, ok := t.FTN[ps[0]]
	if !ok {
		return nil, nil, false
	}
	hops, err := resolveHopsFor(v6, e.NextHops, ifindex)
	if err != nil {
		return nil, nil, false // each route reports it
	}
	id, ok := have.routes[ps[0]]
	if !ok || have.legacyObjects[id] {
		return nil, nil, false
	}
	for _, p := range ps {
		if cur, ok := have.routes[p]; !ok || cur != id || have.ingress[p] {
			return nil, nil, false
		}
		if _, ok := t.FTN[p]; !ok {
			return nil, nil, false
		}
	}
	// Nothing but these routes and routes the scoped diff looks at may
	// use the object: those see it with its new hops, and stay on it or
	// leave it as they want.
	users := len(ps)
	for q := range sc.prefixes {
		if cur, ok := have.routes[q]; ok && cur == id {
			users++
		}
	}
	if have.users[id] != users {
		return nil, nil, false
	}
	var objs []nexthopObject
	if h, single := have.nexthops[id]; single {
		if len(hops) != 1 || h.gw.Is4() != hops[0].gw.Is4() {
			return nil, nil, false
		}
		if !h.equal(hops[0]) {
			objs = append(objs, nexthopObject{id: id, hop: hops[0]})
		}
		return hops, objs, true
	}
	members, group := have.groups[id]
	if !group || len(members) != len(hops) {
		return nil, nil, false
	}
	// Members sorted by their hops pair with the new hops (sorted too):
	// an LSP whose labels change keeps each leg on its member.
	ms := slices.Clone(members)
	for _, m := range ms {
		if _, ok := have.nexthops[m]; !ok || have.users[m] != 1 || have.legacyObjects[m] {
			return nil, nil, false
		}
	}
	slices.SortFunc(ms, func(a, b uint32) int { return compareHops(have.nexthops[a], have.nexthops[b]) })
	for i, m := range ms {
		h := have.nexthops[m]
		if h.gw.Is4() != hops[i].gw.Is4() {
			return nil, nil, false
		}
		if !h.equal(hops[i]) {
			objs = append(objs, nexthopObject{id: m, hop: hops[i]})
		}
	}
	return hops, objs, true
}
