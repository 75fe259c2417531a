package rib

import (
	"cmp"
	"net/netip"
	"slices"
)

// Change says that the best route to Prefix is now Best, or that there is
// none (Deleted).
type Change struct {
	Prefix  netip.Prefix
	Best    Route
	Deleted bool
}

// RIB holds every source's routes and the best usable one per prefix. It is
// not safe for concurrent use: one goroutine (lsrd's parent) owns it.
//
// A next hop with an interface is used as it is. A next hop with only an
// address (a static route written with a gateway alone, a BGP route) is
// resolved recursively through the best route covering the address, other
// than the route itself, to the forwarding next hops of that route; a route
// none of whose next hops resolves is not usable and is not published.
type RIB struct {
	routes map[netip.Prefix]map[Source]Route // as learned
	best   map[netip.Prefix]Route            // as published, next hops resolved
}

// New returns an empty RIB.
func New() *RIB {
	return &RIB{routes: map[netip.Prefix]map[Source]Route{}, best: map[netip.Prefix]Route{}}
}

// Update adds or replaces the route of r.Source for r.Prefix.
func (r *RIB) Update(rt Route) []Change {
	r.put(rt.Source, rt)
	return r.recompute()
}

// Delete removes the route of source for prefix.
func (r *RIB) Delete(prefix netip.Prefix, source Source) []Change {
	r.drop(prefix, source)
	return r.recompute()
}

// Apply removes the routes of source for dels and adds or replaces adds (in
// that order), then recomputes once: how a burst of BGP updates costs one
// pass instead of one per route.
func (r *RIB) Apply(source Source, adds []Route, dels []netip.Prefix) []Change {
	for _, p := range dels {
		r.drop(p, source)
	}
	for _, rt := range adds {
		r.put(source, rt)
	}
	return r.recompute()
}

// ReplaceSource makes routes the whole set source has, removing the rest of
// its routes: a resync after a kernel dump or a configuration reload.
func (r *RIB) ReplaceSource(source Source, routes []Route) []Change {
	for p, m := range r.routes {
		if _, ok := m[source]; ok {
			r.drop(p, source)
		}
	}
	for _, rt := range routes {
		r.put(source, rt)
	}
	return r.recompute()
}

// put records rt as source's route to its prefix.
func (r *RIB) put(source Source, rt Route) {
	rt.Source = source
	rt.Prefix = rt.Prefix.Masked()
	m := r.routes[rt.Prefix]
	if m == nil {
		m = map[Source]Route{}
		r.routes[rt.Prefix] = m
	}
	m[source] = rt
}

// drop forgets source's route to prefix.
func (r *RIB) drop(prefix netip.Prefix, source Source) {
	prefix = prefix.Masked()
	if m := r.routes[prefix]; m != nil {
		delete(m, source)
		if len(m) == 0 {
			delete(r.routes, prefix)
		}
	}
}

// Best returns the published best route to prefix.
func (r *RIB) Best(prefix netip.Prefix) (Route, bool) {
	rt, ok := r.best[prefix.Masked()]
	return rt, ok
}

// Routes returns every published best route, sorted by prefix.
func (r *RIB) Routes() []Route {
	out := make([]Route, 0, len(r.best))
	for _, rt := range r.best {
		out = append(out, rt)
	}
	slices.SortFunc(out, func(a, b Route) int { return comparePrefix(a.Prefix, b.Prefix) })
	return out
}

// maxRecursion bounds how many recursive next hops may stand between a route
// and an interface (a BGP route via a loopback learned by BGP via a connected
// peer address is two).
const maxRecursion = 4

// recompute derives the published table from the learned one and returns
// what changed. Each round resolves recursive next hops against the previous
// round's table, starting from nothing, so every resolution rests on routes
// that reach an interface, and a loop of routes resolving through each other
// never resolves.
func (r *RIB) recompute() []Change {
	next := map[netip.Prefix]Route{}
	for round := 0; round <= maxRecursion; round++ {
		cur := make(map[netip.Prefix]Route, len(r.routes))
		for p, m := range r.routes {
			// The most preferred route that is usable wins.
			for _, c := range candidates(m) {
				if isDirect(c) {
					cur[p] = c
					break
				}
				if res, ok := resolve(c, next); ok {
					cur[p] = res
					break
				}
			}
		}
		stable := len(cur) == len(next)
		for p, rt := range cur {
			if old, ok := next[p]; !ok || !sameRoute(old, rt) {
				stable = false
				break
			}
		}
		next = cur
		if stable {
			break
		}
	}
	var changes []Change
	for p, rt := range next {
		if old, ok := r.best[p]; !ok || !sameRoute(old, rt) {
			changes = append(changes, Change{Prefix: p, Best: rt})
		}
	}
	for p := range r.best {
		if _, ok := next[p]; !ok {
			changes = append(changes, Change{Prefix: p, Deleted: true})
		}
	}
	r.best = next
	slices.SortFunc(changes, func(a, b Change) int { return comparePrefix(a.Prefix, b.Prefix) })
	return changes
}

func isDirect(rt Route) bool {
	for _, nh := range rt.NextHops {
		if nh.Ifname == "" {
			return false
		}
	}
	return len(rt.NextHops) > 0
}

// candidates orders one prefix's routes by preference: lower distance, then
// lower source number (connected before static before kernel before BGP).
func candidates(m map[Source]Route) []Route {
	out := make([]Route, 0, len(m))
	for _, rt := range m {
		out = append(out, rt)
	}
	slices.SortFunc(out, func(a, b Route) int {
		if c := cmp.Compare(a.Distance, b.Distance); c != 0 {
			return c
		}
		return cmp.Compare(a.Source, b.Source)
	})
	return out
}

// resolve replaces next hops without an interface by the forwarding next hops
// of the longest route in table covering their address.
func resolve(rt Route, direct map[netip.Prefix]Route) (Route, bool) {
	var hops []NextHop
	var recursive []netip.Addr
	for _, nh := range rt.NextHops {
		if nh.Ifname != "" {
			hops = append(hops, nh)
			continue
		}
		via, ok := longestMatch(nh.Addr, direct, rt.Prefix)
		if !ok {
			continue
		}
		recursive = append(recursive, nh.Addr)
		for _, vnh := range via.NextHops {
			if vnh.Addr.IsValid() {
				hops = append(hops, vnh)
			} else {
				// Through a connected route the gateway is the next hop itself.
				hops = append(hops, NextHop{Addr: nh.Addr, Ifname: vnh.Ifname})
			}
		}
	}
	if len(hops) == 0 {
		return Route{}, false
	}
	out := rt
	out.NextHops = dedup(hops)
	out.Recursive = recursive
	return out, true
}

func longestMatch(a netip.Addr, table map[netip.Prefix]Route, self netip.Prefix) (Route, bool) {
	if !a.IsValid() {
		return Route{}, false
	}
	for bits := a.BitLen(); bits >= 0; bits-- {
		p, err := a.Prefix(bits)
		if err != nil {
			return Route{}, false
		}
		if p == self {
			continue
		}
		if rt, ok := table[p]; ok {
			return rt, true
		}
	}
	return Route{}, false
}

func dedup(hops []NextHop) []NextHop {
	slices.SortFunc(hops, compareNextHop)
	return slices.CompactFunc(hops, func(a, b NextHop) bool { return a == b })
}

func compareNextHop(a, b NextHop) int {
	if c := a.Addr.Compare(b.Addr); c != 0 {
		return c
	}
	return cmp.Compare(a.Ifname, b.Ifname)
}

func sameRoute(a, b Route) bool {
	return a.Prefix == b.Prefix && a.Source == b.Source && a.Distance == b.Distance &&
		slices.Equal(a.NextHops, b.NextHops) && slices.Equal(a.Recursive, b.Recursive) &&
		slices.Equal(a.Labels, b.Labels)
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return cmp.Compare(a.Bits(), b.Bits())
}
