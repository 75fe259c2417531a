package rib

import (
	"net/netip"
	"slices"
)

// oracle is the RIB as it was before it became incremental: every change
// recomputes the whole table in up to maxRecursion+1 rounds. It is the
// reference the randomized test holds the incremental RIB to.
type oracle struct {
	routes map[netip.Prefix]map[Source]Route
	best   map[netip.Prefix]Route
}

func newOracle() *oracle {
	return &oracle{routes: map[netip.Prefix]map[Source]Route{}, best: map[netip.Prefix]Route{}}
}

func (r *oracle) Update(rt Route) []Change {
	r.put(rt.Source, rt)
	return r.recompute()
}

func (r *oracle) Delete(prefix netip.Prefix, source Source) []Change {
	r.drop(prefix, source)
	return r.recompute()
}

func (r *oracle) Apply(source Source, adds []Route, dels []netip.Prefix) []Change {
	for _, p := range dels {
		r.drop(p, source)
	}
	for _, rt := range adds {
		r.put(source, rt)
	}
	return r.recompute()
}

func (r *oracle) ReplaceSource(source Source, routes []Route) []Change {
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

func (r *oracle) put(source Source, rt Route) {
	rt.Source = source
	rt.Prefix = rt.Prefix.Masked()
	m := r.routes[rt.Prefix]
	if m == nil {
		m = map[Source]Route{}
		r.routes[rt.Prefix] = m
	}
	m[source] = rt
}

func (r *oracle) drop(prefix netip.Prefix, source Source) {
	prefix = prefix.Masked()
	if m := r.routes[prefix]; m != nil {
		delete(m, source)
		if len(m) == 0 {
			delete(r.routes, prefix)
		}
	}
}

func (r *oracle) Routes() []Route {
	out := make([]Route, 0, len(r.best))
	for _, rt := range r.best {
		out = append(out, rt)
	}
	slices.SortFunc(out, func(a, b Route) int { return comparePrefix(a.Prefix, b.Prefix) })
	return out
}

func (r *oracle) recompute() []Change {
	next := map[netip.Prefix]Route{}
	for round := 0; round <= maxRecursion; round++ {
		cur := make(map[netip.Prefix]Route, len(r.routes))
		for p, m := range r.routes {
			for _, c := range oracleCandidates(m) {
				if isDirect(c) {
					cur[p] = c
					break
				}
				if res, ok := oracleResolve(c, next); ok {
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

func oracleCandidates(m map[Source]Route) []Route {
	out := make([]Route, 0, len(m))
	for _, rt := range m {
		out = append(out, rt)
	}
	slices.SortFunc(out, compareCandidates)
	return out
}

func oracleResolve(rt Route, direct map[netip.Prefix]Route) (Route, bool) {
	var hops []NextHop
	var recursive []netip.Addr
	for _, nh := range rt.NextHops {
		if nh.Ifname != "" {
			hops = append(hops, nh)
			continue
		}
		via, ok := oracleLongestMatch(nh.Addr, direct, rt.Prefix)
		if !ok {
			continue
		}
		recursive = append(recursive, nh.Addr)
		for _, vnh := range via.NextHops {
			if vnh.Addr.IsValid() {
				hops = append(hops, vnh)
			} else {
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

func oracleLongestMatch(a netip.Addr, table map[netip.Prefix]Route, self netip.Prefix) (Route, bool) {
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
