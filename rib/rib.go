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
//
// The published table is defined by rounds (see recompute), but a change
// costs only what it touches: the prefixes whose routes changed and, through
// an index of next-hop addresses, the routes whose next hops a changed
// prefix covers, transitively. A BGP batch of N routes over a few next hops
// costs O(N); a change of the route to a next hop costs O(its dependents).
type RIB struct {
	prefixes map[netip.Prefix]*entry
	// bySource lists each source's prefixes for ReplaceSource, for every
	// source but BGP (a full table's worth of index, never replaced whole:
	// ReplaceSource walks prefixes for it).
	bySource map[Source]map[netip.Prefix]struct{}
	// watchers indexes the routes by the next-hop addresses they resolve
	// recursively (next hops without an interface), over every candidate,
	// not just the best: a change of any prefix covering the address may
	// change their resolution.
	watchers map[netip.Addr]map[netip.Prefix]struct{}
	addrs    []netip.Addr // watchers' keys, sorted; nil when they changed
	seeds    map[netip.Prefix]struct{}
	// counts are the published best routes by source, kept as they
	// change (CountBySource without a walk).
	counts map[Source]int

	// scratch for resolve, reused across calls
	hopBuf []NextHop
	recBuf []netip.Addr
	// the last next hops and recursive addresses resolve allocated: the
	// routes behind one next hop share them (published routes are never
	// changed in place), 100,000 BGP routes hold one copy, not 100,000
	lastHops []NextHop
	lastRec  []netip.Addr
	// oneHop holds one slice per single next hop learned routes use, so
	// that routes over the same next hop share it however they arrive
	// (BGP's watch events carry a few paths each). Bounded: emptied when
	// it reaches maxOneHop (slices handed out stay valid).
	oneHop map[NextHop][]NextHop
}

const maxOneHop = 4096

// entry is one prefix: its learned routes and what the RIB publishes.
type entry struct {
	// learned are the routes, one per source, most preferred first. The
	// array is copied on every write, never changed in place: steps of
	// the history point into it, and the history before a recompute
	// must keep the routes it was made of.
	learned []Route
	hist    history
}

// New returns an empty RIB.
func New() *RIB {
	return &RIB{
		prefixes: map[netip.Prefix]*entry{},
		bySource: map[Source]map[netip.Prefix]struct{}{},
		watchers: map[netip.Addr]map[netip.Prefix]struct{}{},
		seeds:    map[netip.Prefix]struct{}{},
		counts:   map[Source]int{},
	}
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
// its routes: a resync after a kernel dump or a configuration reload. Routes
// that did not change cost a comparison, nothing more.
func (r *RIB) ReplaceSource(source Source, routes []Route) []Change {
	keep := make(map[netip.Prefix]struct{}, len(routes))
	for _, rt := range routes {
		keep[rt.Prefix.Masked()] = struct{}{}
	}
	var gone []netip.Prefix
	if indexed(source) {
		for p := range r.bySource[source] {
			if _, ok := keep[p]; !ok {
				gone = append(gone, p)
			}
		}
	} else {
		for p, e := range r.prefixes {
			if _, ok := keep[p]; !ok && slices.ContainsFunc(e.learned, func(c Route) bool { return c.Source == source }) {
				gone = append(gone, p)
			}
		}
	}
	for _, p := range gone {
		r.drop(p, source)
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
	if len(rt.NextHops) == 1 {
		rt.NextHops = r.shareHop(rt.NextHops)
	}
	e := r.prefixes[rt.Prefix]
	if e == nil {
		e = &entry{}
		r.prefixes[rt.Prefix] = e
	}
	i := slices.IndexFunc(e.learned, func(c Route) bool { return c.Source == source })
	if i >= 0 && sameRoute(e.learned[i], rt) {
		return
	}
	r.unwatch(e, rt.Prefix)
	// Sized exactly: most prefixes have one route, and a spare slot would
	// double what each holds.
	var learned []Route
	if i >= 0 {
		learned = slices.Clone(e.learned)
		learned[i] = rt
	} else {
		learned = make([]Route, len(e.learned), len(e.learned)+1)
		copy(learned, e.learned)
		learned = append(learned, rt)
	}
	slices.SortFunc(learned, compareCandidates)
	e.learned = learned
	r.watch(e, rt.Prefix)
	if indexed(source) {
		m := r.bySource[source]
		if m == nil {
			m = map[netip.Prefix]struct{}{}
			r.bySource[source] = m
		}
		m[rt.Prefix] = struct{}{}
	}
	r.seeds[rt.Prefix] = struct{}{}
}

// indexed tells whether bySource lists source's prefixes.
func indexed(source Source) bool { return source != SourceBGP }

// shareHop returns the shared slice with hops' one next hop.
func (r *RIB) shareHop(hops []NextHop) []NextHop {
	if s, ok := r.oneHop[hops[0]]; ok {
		return s
	}
	if r.oneHop == nil || len(r.oneHop) >= maxOneHop {
		r.oneHop = map[NextHop][]NextHop{}
	}
	r.oneHop[hops[0]] = hops
	return hops
}

// drop forgets source's route to prefix.
func (r *RIB) drop(prefix netip.Prefix, source Source) {
	prefix = prefix.Masked()
	e := r.prefixes[prefix]
	if e == nil {
		return
	}
	i := slices.IndexFunc(e.learned, func(c Route) bool { return c.Source == source })
	if i < 0 {
		return
	}
	r.unwatch(e, prefix)
	e.learned = slices.Delete(slices.Clone(e.learned), i, i+1)
	r.watch(e, prefix)
	delete(r.bySource[source], prefix)
	r.seeds[prefix] = struct{}{}
}

// watch and unwatch keep the next-hop index in step with e's learned routes.
func (r *RIB) watch(e *entry, p netip.Prefix) {
	for _, rt := range e.learned {
		for _, nh := range rt.NextHops {
			if nh.Ifname != "" || !nh.Addr.IsValid() {
				continue
			}
			m := r.watchers[nh.Addr]
			if m == nil {
				m = map[netip.Prefix]struct{}{}
				r.watchers[nh.Addr] = m
				r.addrs = nil
			}
			m[p] = struct{}{}
		}
	}
}

func (r *RIB) unwatch(e *entry, p netip.Prefix) {
	for _, rt := range e.learned {
		for _, nh := range rt.NextHops {
			if nh.Ifname != "" || !nh.Addr.IsValid() {
				continue
			}
			if m := r.watchers[nh.Addr]; m != nil {
				delete(m, p)
				if len(m) == 0 {
					delete(r.watchers, nh.Addr)
					r.addrs = nil
				}
			}
		}
	}
}

// Best returns the published best route to prefix.
func (r *RIB) Best(prefix netip.Prefix) (Route, bool) {
	e := r.prefixes[prefix.Masked()]
	if e == nil {
		return Route{}, false
	}
	return e.hist.final()
}

// Len returns how many prefixes have a published best route.
func (r *RIB) Len() int {
	n := 0
	for _, c := range r.counts {
		n += c
	}
	return n
}

// CountBySource returns the number of published best routes by source:
// a copy of counts kept as routes change, so that it costs the same at
// 100,000 routes as at ten.
func (r *RIB) CountBySource() map[Source]int {
	out := make(map[Source]int, len(r.counts))
	for s, n := range r.counts {
		if n > 0 {
			out[s] = n
		}
	}
	return out
}

// Routes returns every published best route, sorted by prefix.
func (r *RIB) Routes() []Route {
	out := make([]Route, 0, len(r.prefixes))
	for _, e := range r.prefixes {
		if rt, ok := e.hist.final(); ok {
			out = append(out, rt)
		}
	}
	slices.SortFunc(out, func(a, b Route) int { return comparePrefix(a.Prefix, b.Prefix) })
	return out
}

// maxRecursion bounds how many recursive next hops may stand between a route
// and an interface (a BGP route via a loopback learned by BGP via a connected
// peer address is two).
const maxRecursion = 4

// rounds is how many rounds define the published table.
const rounds = maxRecursion + 1

// recompute brings the published table up to date after puts and drops, and
// returns what changed, sorted by prefix.
//
// The table is defined in rounds: round k picks, for every prefix, the most
// preferred route that is direct or resolves against round k-1's table,
// starting from nothing before round 0; the table published is round
// maxRecursion's. So every resolution rests on routes that reach an
// interface within maxRecursion steps, and a loop of routes resolving only
// through each other never resolves. (A full recompute may stop at a round
// equal to the one before: the rounds after it are equal too.)
//
// Each prefix keeps the value it has in every round (its history), so a
// change reruns the rounds only for the prefixes it affects: those whose
// routes changed (the seeds) and, from round k+1 on, those with a next hop
// covered by a prefix whose round-k value changed.
func (r *RIB) recompute() []Change {
	if len(r.seeds) == 0 {
		return nil
	}
	// The affected prefixes, each with its history before this recompute.
	type affected struct {
		p      netip.Prefix
		e      *entry
		before history
	}
	aff := make([]affected, 0, len(r.seeds))
	in := make(map[netip.Prefix]struct{}, len(r.seeds))
	join := func(p netip.Prefix) {
		if _, ok := in[p]; !ok {
			in[p] = struct{}{}
			e := r.prefixes[p]
			aff = append(aff, affected{p, e, e.hist})
		}
	}
	for p := range r.seeds {
		join(p)
	}
	// A map keeps its size once grown: a full table's first batch would
	// otherwise hold its memory for good.
	if len(r.seeds) > 4096 {
		r.seeds = map[netip.Prefix]struct{}{}
	} else {
		clear(r.seeds)
	}
	memo := map[lookupKey]lookupResult{}
	var joined []netip.Prefix // dependents of round k's changes, active from round k+1
	for k := range rounds {
		for _, p := range joined {
			join(p)
		}
		joined = joined[:0]
		for _, a := range aff {
			rt, base, ok := r.eval(a.e, k, memo)
			a.e.hist = a.e.hist.setFrom(k, rt, base, ok)
			was, wasOK := a.before.at(k)
			if ok == wasOK && (!ok || sameRoute(rt, was)) {
				continue
			}
			if k < maxRecursion {
				joined = r.dependents(a.p, joined)
			}
		}
	}
	var changes []Change
	for _, a := range aff {
		was, wasOK := a.before.final()
		now, ok := a.e.hist.final()
		if wasOK {
			r.counts[was.Source]--
		}
		if ok {
			r.counts[now.Source]++
		}
		switch {
		case ok && (!wasOK || !sameRoute(was, now)):
			changes = append(changes, Change{Prefix: a.p, Best: now})
		case !ok && wasOK:
			changes = append(changes, Change{Prefix: a.p, Deleted: true})
		}
		if len(a.e.learned) == 0 {
			delete(r.prefixes, a.p)
		}
	}
	slices.SortFunc(changes, func(a, b Change) int { return comparePrefix(a.Prefix, b.Prefix) })
	return changes
}

// dependents appends the prefixes with a next hop q covers.
func (r *RIB) dependents(q netip.Prefix, out []netip.Prefix) []netip.Prefix {
	if len(r.watchers) == 0 {
		return out
	}
	if r.addrs == nil {
		r.addrs = make([]netip.Addr, 0, len(r.watchers))
		for a := range r.watchers {
			r.addrs = append(r.addrs, a)
		}
		slices.SortFunc(r.addrs, netip.Addr.Compare)
	}
	// The addresses a prefix covers are contiguous in address order.
	i, _ := slices.BinarySearchFunc(r.addrs, q.Addr(), netip.Addr.Compare)
	for ; i < len(r.addrs) && q.Contains(r.addrs[i]); i++ {
		for p := range r.watchers[r.addrs[i]] {
			out = append(out, p)
		}
	}
	return out
}

// eval is round k's value of e's prefix: its most preferred route that is
// direct or resolves against round k-1, and the learned route it is made
// of.
func (r *RIB) eval(e *entry, k int, memo map[lookupKey]lookupResult) (Route, *Route, bool) {
	for i := range e.learned {
		c := &e.learned[i]
		if isDirect(*c) {
			return *c, c, true
		}
		if res, ok := r.resolve(*c, k-1, e, memo); ok {
			return res, c, true
		}
	}
	return Route{}, nil, false
}

// resolve replaces rt's next hops without an interface by the forwarding
// next hops of the longest route of round k covering their address. When
// the result equals e's current value, that value is returned, so a route
// that stays the same allocates nothing.
func (r *RIB) resolve(rt Route, k int, e *entry, memo map[lookupKey]lookupResult) (Route, bool) {
	hops, recursive := r.hopBuf[:0], r.recBuf[:0]
	for _, nh := range rt.NextHops {
		if nh.Ifname != "" {
			hops = append(hops, nh)
			continue
		}
		via, ok := r.longestMatch(nh.Addr, k, rt.Prefix, memo)
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
	r.hopBuf, r.recBuf = hops, recursive
	if len(hops) == 0 {
		return Route{}, false
	}
	hops = dedup(hops)
	out := rt
	if cur, ok := e.hist.last(); ok && slices.Equal(cur.NextHops, hops) && slices.Equal(cur.Recursive, recursive) {
		// The slices of the route before, shared, not copied.
		out.NextHops, out.Recursive = cur.NextHops, cur.Recursive
		return out, true
	}
	if !slices.Equal(r.lastHops, hops) {
		r.lastHops = slices.Clone(hops)
	}
	out.NextHops = r.lastHops
	out.Recursive = nil
	if len(recursive) > 0 {
		if !slices.Equal(r.lastRec, recursive) {
			r.lastRec = slices.Clone(recursive)
		}
		out.Recursive = r.lastRec
	}
	return out, true
}

type lookupKey struct {
	addr  netip.Addr
	round int
}

// lookupResult holds the two longest prefixes covering an address in one
// round: the second serves the route that is itself the longest.
type lookupResult struct {
	match [2]netip.Prefix
	n     int
}

// longestMatch returns round k's value of the longest prefix covering a,
// other than self. Called only for rounds already complete, so the memo
// stays valid for the whole recompute.
func (r *RIB) longestMatch(a netip.Addr, k int, self netip.Prefix, memo map[lookupKey]lookupResult) (Route, bool) {
	if !a.IsValid() || k < 0 {
		return Route{}, false // round 0 resolves against nothing
	}
	key := lookupKey{a, k}
	res, ok := memo[key]
	if !ok {
		for bits := a.BitLen(); bits >= 0 && res.n < 2; bits-- {
			p, err := a.Prefix(bits)
			if err != nil {
				break
			}
			if e := r.prefixes[p]; e != nil {
				if _, ok := e.hist.at(k); ok {
					res.match[res.n] = p
					res.n++
				}
			}
		}
		memo[key] = res
	}
	for _, p := range res.match[:res.n] {
		if p != self {
			return r.prefixes[p].hist.at(k)
		}
	}
	return Route{}, false
}

// history is a prefix's value in each round: a list of steps, each holding
// from its round until the next step's; absent before the first. A prefix
// present in one round is present in every later one (each round's table
// covers the one before), so the steps are all present values.
//
// A step holds the learned route it was made of by pointer, with the next
// hops resolved for it: the best route is not held a second time.
type history []step

type step struct {
	from int32
	base *Route       // the learned route (entry.learned: never changed in place)
	hops []NextHop    // its next hops, resolved
	rec  []netip.Addr // the recursive next hops they were resolved through
}

func (s step) route() Route {
	rt := *s.base
	rt.NextHops, rt.Recursive = s.hops, s.rec
	return rt
}

func (h history) at(k int) (Route, bool) {
	for i := len(h) - 1; i >= 0; i-- {
		if int(h[i].from) <= k {
			return h[i].route(), true
		}
	}
	return Route{}, false
}

func (h history) final() (Route, bool) { return h.last() }

func (h history) last() (Route, bool) {
	if len(h) == 0 {
		return Route{}, false
	}
	return h[len(h)-1].route(), true
}

// setFrom gives rounds k and later the value rt, made of the learned route
// base (absent when !ok). It never changes h's backing array: the caller
// may hold h as the history before.
func (h history) setFrom(k int, rt Route, base *Route, ok bool) history {
	i := len(h)
	for i > 0 && int(h[i-1].from) > k {
		i--
	}
	// h[i-1] holds at k, when i > 0.
	// rt is made of base, so with the same base only the next hops may
	// differ.
	if same := i > 0 && ok && h[i-1].base == base && slices.Equal(h[i-1].hops, rt.NextHops) && slices.Equal(h[i-1].rec, rt.Recursive); same || i == 0 && !ok {
		// Same at k; the later rounds are set when they are evaluated.
		if i == len(h) {
			return h
		}
		return slices.Clip(h[:i])
	}
	i = 0
	for i < len(h) && int(h[i].from) < k {
		i++
	}
	out := make(history, i, i+1)
	copy(out, h[:i])
	if ok {
		out = append(out, step{from: int32(k), base: base, hops: rt.NextHops, rec: rt.Recursive})
	}
	return out
}

func isDirect(rt Route) bool {
	for _, nh := range rt.NextHops {
		if nh.Ifname == "" {
			return false
		}
	}
	return len(rt.NextHops) > 0
}

// compareCandidates orders one prefix's routes by preference: lower
// distance, then lower source number (connected before static before kernel
// before BGP).
func compareCandidates(a, b Route) int {
	if c := cmp.Compare(a.Distance, b.Distance); c != 0 {
		return c
	}
	return cmp.Compare(a.Source, b.Source)
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
