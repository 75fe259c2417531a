package netlinkfib

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"maps"
	"net/netip"
	"slices"

	"github.com/lsrd/lsrd/fib"
)

// nexthopObject is a single kernel nexthop object: gateway, device, and the
// labels it pushes.
type nexthopObject struct {
	id  uint32
	hop hop
}

// groupObject is a kernel nexthop group (ECMP) of single objects.
type groupObject struct {
	id      uint32
	members []uint32
}

// prefixRoute is an IP route that forwards through a nexthop object, in
// the main target or the ingress table. For a delete, legacy says it
// carries the legacy protocol (the kernel deletes by protocol).
type prefixRoute struct {
	prefix  netip.Prefix
	nhid    uint32
	ingress bool
	legacy  bool
}

// plan is the difference between desired and actual, in the order the kernel
// needs it: label routes stand alone; nexthops before the groups that hold
// them, groups before the routes that use them, and garbage (routes, then
// groups, then nexthops) last, once nothing points at it any more.
type plan struct {
	labelAdd, labelReplace []labelRoute
	labelDelete            []fib.Label

	nexthopAdd, nexthopReplace []nexthopObject
	groupAdd, groupReplace     []groupObject
	routeAdd, routeReplace     []prefixRoute
	routeDelete                []prefixRoute
	throwAdd, throwDelete      []netip.Prefix
	groupDelete                []uint32 // garbage if every route move succeeds
	nexthopDelete              []uint32

	conflicts Errors // desired items held by another protocol: never touched
}

// empty reports whether the plan changes nothing.
func (p *plan) empty() bool {
	return len(p.labelAdd)+len(p.labelReplace)+len(p.labelDelete)+
		len(p.nexthopAdd)+len(p.nexthopReplace)+len(p.groupAdd)+len(p.groupReplace)+
		len(p.routeAdd)+len(p.routeReplace)+len(p.routeDelete)+len(p.throwAdd)+len(p.throwDelete)+
		len(p.groupDelete)+len(p.nexthopDelete) == 0
}

// idAllocator hands out nexthop IDs from lsrd's block, skipping every ID
// the kernel already has.
type idAllocator struct {
	block idBlock
	next  uint32
	used  map[uint32]bool
}

func (a *idAllocator) alloc() (uint32, error) {
	if a.block == (idBlock{}) {
		a.block = blockOf(DefaultProtocol)
	}
	if !a.block.holds(a.next) {
		a.next = a.block.first
	}
	// From where the last search stopped to the end of the block, then
	// once more from its start: a long run that keeps making objects
	// reaches the end, and the IDs freed below are usable again.
	for n := uint64(a.block.last-a.block.first) + 1; n > 0; n-- {
		id := a.next
		if a.next == a.block.last {
			a.next = a.block.first
		} else {
			a.next++
		}
		if !a.used[id] {
			a.used[id] = true
			return id, nil
		}
	}
	return 0, fmt.Errorf("nexthop ID block %d-%d exhausted", a.block.first, a.block.last)
}

// diff computes the plan that makes actual equal to desired. It never
// changes actual; alloc remembers the IDs it handed out.
//
// keep is a previous run's state not swept yet (nil: none): the plan
// deletes none of it, and changes no route of it that nothing wants yet,
// not even through a nexthop object it shares with a route that changes.
// Wanted with other contents, it is replaced in place. Everything else is
// diffed as usual, so desired items are added and replaced as they come.
func diff(want desiredState, have *kernelState, alloc *idAllocator, keep *adoption) *plan {
	p := &plan{}
	diffLabels(p, want, have, keep, nil)
	diffFTN(p, want, have, alloc, keep, nil)
	diffThrows(p, want, have, keep, nil)
	return p
}

// scope is what may have changed since a pass that left the kernel as
// wanted: a scoped pass diffs only these labels and prefixes (FTN entries
// and throws), so its cost follows the change, not the table.
//
// rides are the fib.Rides of the deltas: routes that follow their LSP
// together, each ride's routes one object's users when the pass can
// rewrite that object in place (ridesInPlace), else added to prefixes.
type scope struct {
	labels   map[fib.Label]struct{}
	prefixes map[netip.Prefix]struct{}
	rides    []rideScope
}

// diffScoped is diff restricted to sc, for a kernel that matched want
// everywhere else at the end of the last pass (its cache trusted, no
// previous run's state kept). The plan is the one diff would make, except
// that an object a route outside sc still uses is never relabelled, and
// only objects the scoped routes leave are offered as garbage.
func diffScoped(want desiredState, have *kernelState, alloc *idAllocator, sc *scope) *plan {
	p := &plan{}
	diffLabels(p, want, have, nil, sc)
	diffFTN(p, want, have, alloc, nil, sc)
	diffThrows(p, want, have, nil, sc)
	return p
}

func diffLabels(p *plan, want desiredState, have *kernelState, keep *adoption, sc *scope) {
	if sc != nil {
		for _, in := range sortedKeys(sc.labels) {
			w, wanted := want.labels[in]
			_, had := have.labels[in]
			switch {
			case wanted:
				diffLabel(p, w, have)
			case had:
				p.labelDelete = append(p.labelDelete, in)
			}
		}
		return
	}
	for _, in := range sortedKeys(want.labels) {
		diffLabel(p, want.labels[in], have)
	}
	for _, in := range sortedKeys(have.labels) {
		if _, ok := want.labels[in]; !ok && !keep.keepsLabel(in) {
			p.labelDelete = append(p.labelDelete, in)
		}
	}
}

// diffLabel plans the wanted label route w.
func diffLabel(p *plan, w labelRoute, have *kernelState) {
	if proto, ok := have.foreignLabels[w.in]; ok {
		p.conflicts = append(p.conflicts, labelError(w.in, "conflict",
			fmt.Errorf("the kernel holds a route for this label with protocol %d, not lsrd's", proto)))
		return
	}
	h, ok := have.labels[w.in]
	switch {
	case !ok:
		p.labelAdd = append(p.labelAdd, w)
	case !h.equal(w) || have.legacyLabels[w.in]: // a replace writes lsrd's protocol
		p.labelReplace = append(p.labelReplace, w)
	}
}

// diffFTN maps every desired prefix onto shared nexthop objects: one object
// per distinct (gateway, interface, label stack), one group per distinct
// ECMP set. An object whose stack nobody wants any more is relabelled in
// place (one RTM_NEWNEXTHOP replace) when the prefixes that use it now want
// the new stack, instead of creating a new object and moving every prefix.
//
// Scoped (sc not nil), it plans the prefixes of sc alone: an object that a
// route outside sc uses (its use count is above the scoped routes on it) is
// claimed as it is, and the garbage offered is what the scoped routes
// leave.
func diffFTN(p *plan, want desiredState, have *kernelState, alloc *idAllocator, keep *adoption, sc *scope) {
	var prefixes []netip.Prefix
	// inScope counts the scoped prefixes each object routes today.
	var inScope map[uint32]int
	if sc == nil {
		prefixes = sortedPrefixes(want.ftn)
	} else {
		inScope = map[uint32]int{}
		for pfx := range sc.prefixes {
			if _, ok := want.ftn[pfx]; ok {
				prefixes = append(prefixes, pfx)
			}
			if cur, ok := have.routes[pfx]; ok {
				inScope[cur]++
			}
		}
		// A group whose every route is in scope holds its members
		// within the scope too: relabelling a member in place changes
		// nothing outside it.
		var whole []uint32
		for id, n := range inScope {
			if _, isGroup := have.groups[id]; isGroup && have.users[id] == n {
				whole = append(whole, id)
			}
		}
		for _, id := range whole {
			for _, m := range have.groups[id] {
				inScope[m]++
			}
		}
		slices.SortFunc(prefixes, comparePrefixes)
	}

	// Frozen: the objects (and a group's members) that kept routes nothing
	// wants yet forward through. They are neither relabelled in place nor
	// collected, so those routes forward exactly as the previous run left
	// them until the sweep.
	frozen := map[uint32]bool{}
	for pfx, cur := range have.routes {
		if keep == nil {
			break // nothing kept: nothing frozen
		}
		if _, wanted := want.ftn[pfx]; wanted || !keep.keepsRoute(pfx) {
			continue
		}
		frozen[cur] = true
		for _, m := range have.groups[cur] {
			frozen[m] = true
		}
	}

	// Single objects: reuse exact matches.
	wantHops := map[hopKey]hop{}
	for _, pfx := range prefixes {
		for _, h := range want.ftn[pfx] {
			wantHops[h.key()] = h
		}
	}
	byKey := map[hopKey]uint32{}
	for _, id := range sortedKeys(have.nexthops) {
		if have.legacyObjects[id] {
			continue // never reused: collected once nothing uses it
		}
		k := have.nexthops[id].key()
		if _, dup := byKey[k]; !dup {
			byKey[k] = id
		}
	}
	single := map[hopKey]uint32{}
	for k := range wantHops {
		if id, ok := byKey[k]; ok {
			single[k] = id
		}
	}
	// The objects that stay as they are: one per wanted hop, and any other
	// with a wanted hop a prefix on it still wants (it keeps it).
	claimed := maps.Clone(frozen)
	for id := range have.legacyObjects {
		claimed[id] = true
	}
	for _, id := range single {
		claimed[id] = true
	}
	keeps := func(pfx netip.Prefix, cur uint32) {
		if w := want.ftn[pfx]; len(w) == 1 {
			if h, ok := have.nexthops[cur]; ok && h.key() == w[0].key() {
				claimed[cur] = true
			}
		}
	}
	if sc == nil {
		for pfx, cur := range have.routes {
			keeps(pfx, cur)
		}
	} else {
		for _, pfx := range prefixes {
			if cur, ok := have.routes[pfx]; ok {
				keeps(pfx, cur)
			}
		}
		// Routes outside the scope keep what they have.
		for id, n := range have.users {
			if n > inScope[id] {
				claimed[id] = true
			}
		}
	}
	// Relabel in place: objects nobody wants as they are, voted for by the
	// prefixes that use them today and want a new stack, even when another
	// object already has that stack: an LSP that goes (its prefixes fall
	// back to plain IP, which a route to the next hop itself may already
	// use) and comes back costs one replace each way, not a move of every
	// prefix.
	votes := map[hopKey]map[uint32]int{}
	for _, pfx := range prefixes {
		cur, ok := have.routes[pfx]
		if !ok {
			continue
		}
		curMembers := []uint32{cur}
		m, isGroup := have.groups[cur]
		if isGroup {
			curMembers = m
		}
		for _, h := range want.ftn[pfx] {
			k := h.key()
			if _, exact := single[k]; exact && (isGroup || len(want.ftn[pfx]) > 1) {
				continue // ECMP legs keep to the shared objects
			}
			for _, id := range curMembers {
				old, ok := have.nexthops[id]
				if !ok || claimed[id] || old.gw.Is4() != h.gw.Is4() {
					continue
				}
				if votes[k] == nil {
					votes[k] = map[uint32]int{}
				}
				votes[k][id]++
			}
		}
	}
	relabelled := map[uint32]hopKey{}
	for _, k := range sortedHopKeys(wantHops) {
		if best, ok := mostVoted(votes[k], claimed); ok {
			if _, done := single[k]; !done {
				single[k] = best
			}
			claimed[best] = true
			relabelled[best] = k
			p.nexthopReplace = append(p.nexthopReplace, nexthopObject{id: best, hop: wantHops[k]})
			continue
		}
		if _, done := single[k]; done {
			continue
		}
		id, err := alloc.alloc()
		if err != nil {
			p.conflicts = append(p.conflicts, &ItemError{Item: "nexthop " + wantHops[k].String(), Op: "add", Err: err})
			continue
		}
		single[k] = id
		p.nexthopAdd = append(p.nexthopAdd, nexthopObject{id: id, hop: wantHops[k]})
	}
	// The next pass names each hop by the lowest ID that has it (byKey);
	// an object relabelled to a hop another object already has may be the
	// lower. Groups must name that one now, or the next pass would replace
	// them again (prefixes on single objects stay where they are anyway).
	for id, k := range relabelled {
		if cur, ok := single[k]; ok && id < cur {
			single[k] = id
		}
	}

	// Groups: the same again, one level up.
	// target[i] is the object prefixes[i] should route through; 0 (never
	// one of lsrd's IDs) when none could be had. A slice beside prefixes,
	// not a map: 400 KB for 100,000 prefixes.
	target := make([]uint32, len(prefixes))
	wantGroups := map[string][]uint32{}
	groupOf := map[int]string{} // by index in prefixes
	var scratch []uint32
	for i, pfx := range prefixes {
		hops := want.ftn[pfx]
		ids := scratch[:0]
		for _, h := range hops {
			if id, ok := single[h.key()]; ok {
				ids = append(ids, id)
			}
		}
		scratch = ids
		if len(ids) != len(hops) {
			continue // an ID could not be allocated; reported above
		}
		if len(ids) == 1 {
			// A prefix stays on an object that has (or is relabelled to)
			// its hop, even when another object has the same.
			target[i] = ids[0]
			if cur, ok := have.routes[pfx]; ok && cur != ids[0] && !have.legacyObjects[cur] {
				k, known := relabelled[cur]
				if !known {
					var h hop
					if h, known = have.nexthops[cur]; known {
						k = h.key()
					}
				}
				if known && k == hops[0].key() {
					target[i] = cur
				}
			}
			continue
		}
		// A group is named by the hops it forwards to, not by its
		// members' IDs: two objects may have the same hop (one relabelled
		// in place to a stack another had), and a group of either
		// forwards the same.
		gk := groupKey(hops)
		if _, ok := wantGroups[gk]; !ok {
			ids = slices.Clone(ids) // kept: the scratch is not
			slices.Sort(ids)
			wantGroups[gk] = ids
		}
		groupOf[i] = gk
	}
	groupByKey := map[string]uint32{}
	keyOf := map[uint32]string{} // each group's key, after this plan's relabels
	var members []hop
	for _, id := range sortedKeys(have.groups) {
		if have.legacyObjects[id] {
			continue
		}
		members = members[:0]
		for _, m := range have.groups[id] {
			h, ok := have.nexthops[m]
			if k, moved := relabelled[m]; moved {
				h, ok = wantHops[k], true
			}
			if !ok {
				members = nil
				break
			}
			members = append(members, h)
		}
		if members == nil {
			continue
		}
		slices.SortFunc(members, compareHops)
		gk := groupKey(members)
		keyOf[id] = gk
		if _, dup := groupByKey[gk]; !dup {
			groupByKey[gk] = id
		}
	}
	group := map[string]uint32{}
	claimedGroup := maps.Clone(frozen)
	for id := range have.legacyObjects {
		claimedGroup[id] = true
	}
	for gk := range wantGroups {
		if id, ok := groupByKey[gk]; ok {
			group[gk] = id
			claimedGroup[id] = true
		}
	}
	if sc != nil {
		for id := range have.groups {
			if have.users[id] > inScope[id] {
				claimedGroup[id] = true
			}
		}
	}
	gvotes := map[string]map[uint32]int{}
	for i, pfx := range prefixes {
		gk, ok := groupOf[i]
		if !ok {
			continue
		}
		if _, done := group[gk]; done {
			continue
		}
		cur, ok := have.routes[pfx]
		if _, isGroup := have.groups[cur]; !ok || !isGroup || claimedGroup[cur] {
			continue
		}
		if gvotes[gk] == nil {
			gvotes[gk] = map[uint32]int{}
		}
		gvotes[gk][cur]++
	}
	for _, gk := range sortedKeys(wantGroups) {
		if _, done := group[gk]; done {
			continue
		}
		if best, ok := mostVoted(gvotes[gk], claimedGroup); ok {
			group[gk] = best
			claimedGroup[best] = true
			p.groupReplace = append(p.groupReplace, groupObject{id: best, members: wantGroups[gk]})
			continue
		}
		id, err := alloc.alloc()
		if err != nil {
			p.conflicts = append(p.conflicts, &ItemError{Item: fmt.Sprint("nexthop group ", wantGroups[gk]), Op: "add", Err: err})
			continue
		}
		group[gk] = id
		p.groupAdd = append(p.groupAdd, groupObject{id: id, members: wantGroups[gk]})
	}
	// The groups this plan adds or replaces, with their members.
	planned := map[uint32][]uint32{}
	for _, g := range slices.Concat(p.groupAdd, p.groupReplace) {
		planned[g.id] = g.members
	}
	for i, gk := range groupOf {
		if id, ok := group[gk]; ok {
			target[i] = id
		}
		// As for single objects: a prefix stays on a group that
		// forwards as it wants, even when another group does the same.
		cur, ok := have.routes[prefixes[i]]
		if _, changes := planned[cur]; ok && keyOf[cur] == gk && !changes && !have.legacyObjects[cur] {
			target[i] = cur
		}
	}

	// Routes. Counted first, so that the lists (100,000 routes on an
	// install) are allocated once at their size, not grown by doubling.
	adds, replaces := 0, 0
	for i, pfx := range prefixes {
		if target[i] == 0 {
			continue
		}
		if cur, ok := have.routes[pfx]; !ok {
			adds++
		} else if cur != target[i] {
			replaces++
		}
	}
	if adds > 0 {
		p.routeAdd = make([]prefixRoute, 0, adds)
	}
	if replaces > 0 {
		p.routeReplace = make([]prefixRoute, 0, replaces)
	}
	for i, pfx := range prefixes {
		id := target[i]
		if id == 0 {
			continue
		}
		ingress := want.ingress[pfx]
		foreign := have.foreignRoutes
		if ingress {
			foreign = have.foreignIngress
		}
		if proto, blocked := foreign[pfx]; blocked {
			p.conflicts = append(p.conflicts, prefixError(pfx, "", "conflict",
				fmt.Errorf("the kernel holds a route for this prefix with protocol %d, not lsrd's", proto)))
			continue
		}
		r := prefixRoute{prefix: pfx, nhid: id, ingress: ingress}
		cur, ok := have.routes[pfx]
		switch {
		case !ok:
			p.routeAdd = append(p.routeAdd, r)
		case have.ingress[pfx] != ingress:
			// Moving between tables: the new route first, then the
			// old one goes, so the prefix is never without lsrd's.
			p.routeAdd = append(p.routeAdd, r)
			p.routeDelete = append(p.routeDelete, prefixRoute{prefix: pfx, ingress: !ingress, legacy: have.legacyRoutes[pfx]})
		case cur != id || have.legacyRoutes[pfx]:
			p.routeReplace = append(p.routeReplace, r)
		}
	}
	gone := func(pfx netip.Prefix) {
		if _, ok := want.ftn[pfx]; !ok && !keep.keepsRoute(pfx) {
			p.routeDelete = append(p.routeDelete, prefixRoute{prefix: pfx, ingress: have.ingress[pfx], legacy: have.legacyRoutes[pfx]})
		}
	}
	if sc == nil {
		for pfx := range have.routes {
			gone(pfx)
		}
	} else {
		for pfx := range sc.prefixes {
			if _, ok := have.routes[pfx]; ok {
				gone(pfx)
			}
		}
	}
	slices.SortFunc(p.routeDelete, func(a, b prefixRoute) int { return comparePrefixes(a.prefix, b.prefix) })

	// Garbage: objects no target route or group uses, and no kept route;
	// and never an adopted one before the sweep.
	used := maps.Clone(frozen)
	for _, id := range target {
		if id != 0 {
			used[id] = true
		}
	}
	// The members of the groups routes go through: as this plan makes
	// them, or as they are (frozen groups' members are in used already).
	for _, id := range target {
		ms, ok := planned[id]
		if !ok {
			ms = have.groups[id]
		}
		for _, m := range ms {
			used[m] = true
		}
	}
	if sc != nil {
		// What the scoped routes leave; reconcile deletes what nothing
		// uses once they have moved.
		left := map[uint32]bool{}
		for pfx := range sc.prefixes {
			if cur, ok := have.routes[pfx]; ok && !used[cur] {
				left[cur] = true
				for _, m := range have.groups[cur] {
					left[m] = true
				}
			}
		}
		for _, g := range p.groupReplace {
			for _, m := range have.groups[g.id] {
				left[m] = true // the members a group replaced in place drops
			}
		}
		for _, id := range sortedKeys(left) {
			if _, isGroup := have.groups[id]; isGroup {
				p.groupDelete = append(p.groupDelete, id)
			} else if !used[id] {
				p.nexthopDelete = append(p.nexthopDelete, id)
			}
		}
		return
	}
	for _, id := range sortedKeys(have.groups) {
		switch {
		case used[id]: // its members, as wanted, are used already
		case keep.keepsObject(id):
			for _, m := range have.groups[id] {
				used[m] = true // a kept group's members stay with it
			}
		default:
			p.groupDelete = append(p.groupDelete, id)
		}
	}
	for _, id := range sortedKeys(have.nexthops) {
		if !used[id] && !keep.keepsObject(id) {
			p.nexthopDelete = append(p.nexthopDelete, id)
		}
	}
}

// groupKey names the ECMP set hs (sorted) forwards to.
func groupKey(hs []hop) string {
	b := make([]byte, 0, 16*len(hs))
	for _, h := range hs {
		a := h.gw.AsSlice()
		b = append(b, byte(len(a)))
		b = append(b, a...)
		b = binary.AppendUvarint(b, uint64(h.ifindex))
		b = binary.AppendUvarint(b, uint64(len(h.labels)))
		for _, l := range h.labels {
			b = binary.AppendUvarint(b, uint64(l))
		}
	}
	return string(b)
}

// diffThrows adds the throw routes wanted and deletes the others (an
// adopted one stays until the sweep, with the routes it makes way for).
func diffThrows(p *plan, want desiredState, have *kernelState, keep *adoption, sc *scope) {
	if sc != nil {
		for _, pfx := range sortedPrefixes(sc.prefixes) {
			switch {
			case want.throws[pfx] && !have.throws[pfx]:
				p.throwAdd = append(p.throwAdd, pfx)
			case !want.throws[pfx] && have.throws[pfx]:
				p.throwDelete = append(p.throwDelete, pfx)
			}
		}
		return
	}
	for _, pfx := range sortedPrefixes(want.throws) {
		if !have.throws[pfx] {
			p.throwAdd = append(p.throwAdd, pfx)
		}
	}
	for _, pfx := range sortedPrefixes(have.throws) {
		if !want.throws[pfx] && !keep.keepsThrow(pfx) {
			p.throwDelete = append(p.throwDelete, pfx)
		}
	}
}

func comparePrefixes(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return cmp.Compare(a.Bits(), b.Bits())
}

func sortedPrefixes[V any](m map[netip.Prefix]V) []netip.Prefix {
	return sortedKeysFunc(m, comparePrefixes)
}

func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	return sortedKeysFunc(m, cmp.Compare[K])
}

func sortedKeysFunc[K comparable, V any](m map[K]V, f func(a, b K) int) []K {
	ks := make([]K, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, f)
	return ks
}

func sortedHopKeys(m map[hopKey]hop) []hopKey {
	return sortedKeysFunc(m, func(a, b hopKey) int { return compareHops(m[a], m[b]) })
}

// mostVoted returns the unclaimed kernel object most of a wanted object's
// prefixes already use (lowest ID on a tie), so that relabelling replaces
// that object in place instead of moving the prefixes.
func mostVoted(votes map[uint32]int, claimed map[uint32]bool) (uint32, bool) {
	best, bestVotes := uint32(0), 0
	for _, id := range sortedKeys(votes) {
		if n := votes[id]; n > bestVotes && !claimed[id] {
			best, bestVotes = id, n
		}
	}
	return best, bestVotes > 0
}
