package daemon

import (
	"maps"
	"net/netip"
	"slices"

	"github.com/gaissmai/bart"
	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/rib"
)

// forwarding is what lsrd asks of the kernel: LDP's label routes as they
// are, and IP routes for the prefixes whose best route lsrd itself owns
// (static routes from its configuration, BGP routes), pushing LDP's label
// where one exists and unlabelled otherwise.
//
// Routes of other daemons (an IGP's, in the kernel) are never replaced.
// Where LDP pushes a label for one, lsrd installs a labelled copy in its
// ingress table (FTN entries marked Foreign), which the kernel consults
// before the main table; a route of the main table more specific than such
// a copy gets a throw route there, so that longest-prefix match gives what
// the main table alone would. (Not the main table at a better metric:
// FRR's zebra takes any route of a protocol not its own for a kernel route
// at distance 0, removes its own route for the prefix, and puts it back
// when lsrd's goes; lsrd would then follow a route that comes and goes.)
// Connected routes need no push.
//
// It is kept up to date change by change, so that a BGP batch of N routes
// costs O(N) and a new label for one next hop costs the prefixes behind
// that next hop, not the whole table.
type forwarding struct {
	ldp *fib.Table // LDP's latest LFIB and FTN; nil before the first
	// best is the RIB's published best route for a prefix: forwarding
	// keeps no copy of it.
	best func(netip.Prefix) (rib.Route, bool)
	// owned holds the prefixes whose best route lsrd installs (static,
	// BGP), each with that route's recursive next hops (the RIB's slice,
	// shared), so that the index below can be undone when it changes.
	owned map[netip.Prefix][]netip.Addr
	// byNextHop and riders index owned routes by their recursive next
	// hops: the prefixes whose push follows the LSP to each address.
	// riders has the routes with one recursive next hop and no labels of
	// their own, which ride that LSP as a whole when it is relabelled
	// (fib.Ride); byNextHop the others.
	byNextHop map[netip.Addr]map[netip.Prefix]struct{}
	riders    map[netip.Addr]map[netip.Prefix]struct{}
	// The IP routes wanted are not kept: entry computes one from the
	// RIB's route and LDP's table when it is handed on or looked at. Only
	// the few owned prefixes that get none (no usable next hop) are, to
	// count the rest.
	unrouted map[netip.Prefix]struct{}
	plain    hopInterner // plain-IP next hops shared by the prefixes that have them

	// The ingress table (nil maps when it is disabled): the best routes
	// of other daemons, every best prefix (what the main table routes),
	// the foreign prefixes with a labelled copy, and the throws.
	ingress  bool
	foreign  map[netip.Prefix]struct{}
	main     bart.Table[struct{}]
	labelled bart.Table[struct{}]
	throws   map[netip.Prefix]struct{}

	// The entries that may differ from what was last handed on
	// (takeDelta): LFIB labels, FTN prefixes, throws. handedOn says a
	// whole table went first; until then there is nothing to differ from.
	dirtyLabels map[fib.Label]struct{}
	dirtyFTN    map[netip.Prefix]struct{}
	dirtyThrows map[netip.Prefix]struct{}
	// dirtyRides are the addresses whose LSP took new next hops while
	// the routes riding it (rides) were not noted one by one: the delta
	// moves them with one fib.Ride.
	dirtyRides map[netip.Addr]struct{}
	handedOn   bool

	// vpnLFIB are the label routes of the VPN labels (package vpn): they
	// pop into a VRF. Their range and LDP's never overlap (config).
	vpnLFIB map[fib.Label]fib.LFIBEntry
	// onLSP hears of every host prefix whose LDP FTN entry changed: the
	// VRF routes over the LSP to that address follow it.
	onLSP func(netip.Addr)
}

func newForwarding(ingress bool, best func(netip.Prefix) (rib.Route, bool)) *forwarding {
	return &forwarding{best: best, owned: map[netip.Prefix][]netip.Addr{},
		byNextHop: map[netip.Addr]map[netip.Prefix]struct{}{}, riders: map[netip.Addr]map[netip.Prefix]struct{}{},
		unrouted: map[netip.Prefix]struct{}{},
		ingress:  ingress, foreign: map[netip.Prefix]struct{}{}, throws: map[netip.Prefix]struct{}{}}
}

// desiredForwarding is the whole table for LDP's table and the RIB's best
// routes, built from scratch: the definition the incremental forwarding is
// tested against.
func desiredForwarding(ldp *fib.Table, best []rib.Route, ingress bool) *fib.Table {
	t := fib.NewTable()
	t.Throws = map[netip.Prefix]struct{}{}
	if ldp != nil {
		maps.Copy(t.LFIB, ldp.LFIB)
	}
	var labelled []netip.Prefix
	for _, r := range best {
		switch {
		case r.Source == rib.SourceStatic || r.Source == rib.SourceBGP:
			if e, ok := ftnEntry(ldp, r, nil); ok {
				t.FTN[r.Prefix] = e
			}
		case r.Source == rib.SourceKernel && ingress && ldp != nil:
			if e, ok := ldp.FTN[r.Prefix]; ok {
				e.Foreign = true
				t.FTN[r.Prefix] = e
				labelled = append(labelled, r.Prefix)
			}
		}
	}
	for _, r := range best {
		if e, ok := t.FTN[r.Prefix]; ok && e.Foreign {
			continue
		}
		for _, p := range labelled {
			if p.Bits() < r.Prefix.Bits() && p.Contains(r.Prefix.Addr()) {
				t.Throws[r.Prefix] = struct{}{}
			}
		}
	}
	return t
}

// takeDelta returns what changed since the last call, with the entries as
// they are now; nil and full when nothing was handed on yet: the caller
// then hands on table() whole. O(the change).
func (f *forwarding) takeDelta() (d *fib.Delta, full bool) {
	if !f.handedOn {
		f.handedOn = true
		f.dirtyLabels, f.dirtyFTN, f.dirtyThrows, f.dirtyRides = nil, nil, nil, nil
		return nil, true
	}
	d = &fib.Delta{LFIB: make(map[fib.Label]*fib.LFIBEntry, len(f.dirtyLabels)),
		FTN: make(map[netip.Prefix]*fib.FTNEntry, len(f.dirtyFTN))}
	for l := range f.dirtyLabels {
		d.LFIB[l] = nil
		if e, ok := f.label(l); ok {
			d.LFIB[l] = &e
		}
	}
	for p := range f.dirtyFTN {
		d.FTN[p] = nil
		if e, ok := f.entry(p); ok {
			d.FTN[p] = &e
		}
	}
	if len(f.dirtyThrows) > 0 {
		d.Throws = make(map[netip.Prefix]bool, len(f.dirtyThrows))
		for p := range f.dirtyThrows {
			_, on := f.throws[p]
			d.Throws[p] = on
		}
	}
	for a := range f.dirtyRides {
		if r := f.ride(a); r != nil {
			if d.Rides == nil {
				d.Rides = map[netip.Addr]*fib.Ride{}
			}
			d.Rides[a] = r
		}
	}
	f.dirtyLabels, f.dirtyFTN, f.dirtyThrows, f.dirtyRides = nil, nil, nil, nil
	return d, false
}

// ride is the fib.Ride of the LSP to a as it is now, for the routes that
// ride it and were not noted themselves; nil when there is no LSP (a
// change of form notes every route) or no such route.
func (f *forwarding) ride(a netip.Addr) *fib.Ride {
	lsp, ok := f.ldp.FTN[netip.PrefixFrom(a, a.BitLen())]
	if !ok {
		return nil
	}
	r := &fib.Ride{NextHops: lsp.NextHops, Prefixes: make([]netip.Prefix, 0, len(f.riders[a]))}
	for q := range f.riders[a] {
		// A prefix with an LSP of its own forwards on that (ftnEntry).
		_, noted := f.dirtyFTN[q]
		if _, own := f.ldp.FTN[q]; !noted && !own {
			r.Prefixes = append(r.Prefixes, q)
		}
	}
	if len(r.Prefixes) == 0 {
		return nil
	}
	return r
}

func note[K comparable](set *map[K]struct{}, k K, on bool) {
	if !on {
		return
	}
	if *set == nil {
		*set = map[K]struct{}{}
	}
	(*set)[k] = struct{}{}
}

func (f *forwarding) noteLabel(l fib.Label) { note(&f.dirtyLabels, l, f.handedOn) }

// routes applies RIB changes.
func (f *forwarding) routes(cs []rib.Change) {
	for _, c := range cs {
		if old, ok := f.owned[c.Prefix]; ok {
			f.unindex(c.Prefix, old)
			delete(f.owned, c.Prefix)
		}
		if !c.Deleted && (c.Best.Source == rib.SourceStatic || c.Best.Source == rib.SourceBGP) {
			f.owned[c.Prefix] = c.Best.Recursive
			f.index(c.Prefix, c.Best.Recursive, len(c.Best.Labels) == 0)
		}
		if f.ingress {
			if c.Deleted {
				f.main.Delete(c.Prefix)
			} else {
				f.main.Insert(c.Prefix, struct{}{})
			}
			if !c.Deleted && c.Best.Source == rib.SourceKernel {
				f.foreign[c.Prefix] = struct{}{}
			} else {
				delete(f.foreign, c.Prefix)
			}
		}
		f.update(c.Prefix)
		f.throw(c.Prefix)
	}
}

// applyLDP applies LDP's changes and recomputes the prefixes whose
// forwarding rests on an FTN entry that changed: O(the change), where setLDP
// diffs whole tables.
func (f *forwarding) applyLDP(d *fib.Delta) {
	if f.ldp == nil {
		f.ldp = fib.NewTable()
	}
	var had map[netip.Prefix]bool
	for p := range d.FTN {
		if p.IsSingleIP() {
			if had == nil {
				had = map[netip.Prefix]bool{}
			}
			_, had[p] = f.ldp.FTN[p]
		}
	}
	f.ldp.Apply(d)
	for l := range d.LFIB {
		f.noteLabel(l)
	}
	for p, e := range d.FTN {
		f.touched(p, had[p] && e != nil)
	}
}

// touched recomputes the prefixes whose forwarding rests on LDP's FTN entry
// for p: p itself, and the routes whose recursive next hop is p's address.
// relabel says the entry was there before and still is: the routes that
// ride that LSP keep their form and follow it as one fib.Ride, with no
// work per route here (an LSP that comes or goes changes every route's
// form, and each is recomputed).
func (f *forwarding) touched(p netip.Prefix, relabel bool) {
	_, owned := f.owned[p]
	_, foreign := f.foreign[p]
	if owned || foreign {
		f.update(p)
	}
	if p.IsSingleIP() {
		a := p.Addr()
		for q := range f.byNextHop[a] {
			f.update(q)
		}
		if relabel {
			note(&f.dirtyRides, a, f.handedOn)
		} else {
			for q := range f.riders[a] {
				f.update(q)
			}
		}
		if f.onLSP != nil {
			f.onLSP(a)
		}
	}
}

// setVPNLFIB makes m the VPN labels' routes.
func (f *forwarding) setVPNLFIB(m map[fib.Label]fib.LFIBEntry) {
	changedKeys(f.vpnLFIB, m, fib.LFIBEntry.Equal, f.noteLabel)
	f.vpnLFIB = m
}

// label is the label route wanted for l: LDP's, or a VPN label's.
func (f *forwarding) label(l fib.Label) (fib.LFIBEntry, bool) {
	if f.ldp != nil {
		if e, ok := f.ldp.LFIB[l]; ok {
			return e, true
		}
	}
	e, ok := f.vpnLFIB[l]
	return e, ok
}

// setLDP takes LDP's new table and recomputes the prefixes whose forwarding
// rests on an FTN entry that changed: the prefix itself, and the routes
// whose recursive next hop is the entry's host prefix.
func (f *forwarding) setLDP(t *fib.Table) {
	old := f.ldp
	f.ldp = t
	var oldFTN, newFTN map[netip.Prefix]fib.FTNEntry
	var oldLFIB, newLFIB map[fib.Label]fib.LFIBEntry
	if old != nil {
		oldFTN, oldLFIB = old.FTN, old.LFIB
	}
	if t != nil {
		newFTN, newLFIB = t.FTN, t.LFIB
	}
	changedKeys(oldLFIB, newLFIB, fib.LFIBEntry.Equal, f.noteLabel)
	changedKeys(oldFTN, newFTN, fib.FTNEntry.Equal, func(p netip.Prefix) {
		_, before := oldFTN[p]
		_, after := newFTN[p]
		f.touched(p, before && after)
	})
}

// changedKeys calls changed for every key whose entry differs between a and
// b, or is in one only.
func changedKeys[K comparable, V any](a, b map[K]V, equal func(V, V) bool, changed func(K)) {
	for k, e := range b {
		if o, ok := a[k]; !ok || !equal(o, e) {
			changed(k)
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			changed(k)
		}
	}
}

// lfib is LDP's label table as it stands (shared: read only).
func (f *forwarding) lfib() map[fib.Label]fib.LFIBEntry {
	if f.ldp == nil {
		return nil
	}
	return f.ldp.LFIB
}

// size is the number of LFIB and FTN entries wanted, without a walk.
func (f *forwarding) size() (lfib, ftn int) {
	return len(f.lfib()) + len(f.vpnLFIB), len(f.owned) - len(f.unrouted) + f.labelled.Size()
}

// table returns the desired table, built whole: the kernel layer keeps it
// (the first hand-over), the control API shows it. O(the table).
func (f *forwarding) table() *fib.Table {
	t := &fib.Table{LFIB: maps.Clone(f.lfib()), FTN: make(map[netip.Prefix]fib.FTNEntry, len(f.owned)+len(f.foreign)),
		Throws: maps.Clone(f.throws)}
	if t.LFIB == nil {
		t.LFIB = map[fib.Label]fib.LFIBEntry{}
	}
	maps.Copy(t.LFIB, f.vpnLFIB)
	for p := range f.owned {
		if e, ok := f.entry(p); ok {
			t.FTN[p] = e
		}
	}
	for p := range f.foreign {
		if e, ok := f.entry(p); ok {
			t.FTN[p] = e
		}
	}
	return t
}

// entry is the IP route wanted for p: for a route lsrd owns, its next hops
// (over the LSP to its recursive next hop when there is one); for another
// daemon's route, LDP's labelled copy.
func (f *forwarding) entry(p netip.Prefix) (fib.FTNEntry, bool) {
	if _, ok := f.owned[p]; ok {
		r, _ := f.best(p)
		return ftnEntry(f.ldp, r, &f.plain)
	}
	if _, ok := f.foreign[p]; ok && f.ldp != nil {
		if e, ok := f.ldp.FTN[p]; ok {
			e.Foreign = true
			return e, true
		}
	}
	return fib.FTNEntry{}, false
}

// index notes p under its recursive next hops: in riders when it has one
// and no labels of its own (unlabelled), in byNextHop otherwise.
func (f *forwarding) index(p netip.Prefix, recursive []netip.Addr, unlabelled bool) {
	idx := f.byNextHop
	if len(recursive) == 1 && unlabelled {
		idx = f.riders
	}
	for _, a := range recursive {
		m := idx[a]
		if m == nil {
			m = map[netip.Prefix]struct{}{}
			idx[a] = m
		}
		m[p] = struct{}{}
	}
}

// unindex undoes index, whichever index p was in.
func (f *forwarding) unindex(p netip.Prefix, recursive []netip.Addr) {
	for _, idx := range []map[netip.Addr]map[netip.Prefix]struct{}{f.byNextHop, f.riders} {
		for _, a := range recursive {
			if m := idx[a]; m != nil {
				delete(m, p)
				if len(m) == 0 {
					delete(idx, a)
				}
			}
		}
	}
}

// update notes that the IP route wanted for p may have changed, and keeps
// what depends on it in step.
func (f *forwarding) update(p netip.Prefix) {
	note(&f.dirtyFTN, p, f.handedOn)
	e, ok := f.entry(p)
	if _, owned := f.owned[p]; owned && !ok {
		f.unrouted[p] = struct{}{}
	} else {
		delete(f.unrouted, p)
	}
	f.relabelled(p, ok && e.Foreign)
}

// relabelled keeps the set of foreign prefixes with a labelled copy (on:
// p has one now), and the throws under them, in step.
func (f *forwarding) relabelled(p netip.Prefix, on bool) {
	if !f.ingress {
		return
	}
	if _, was := f.labelled.Get(p); was == on {
		return
	}
	if on {
		f.labelled.Insert(p, struct{}{})
	} else {
		f.labelled.Delete(p)
	}
	f.throw(p)
	if p.IsSingleIP() {
		return // nothing is more specific
	}
	for q := range f.main.Subnets(p) {
		if q != p {
			f.throw(q)
		}
	}
}

// throw decides whether q needs a throw route: q is a route of the main
// table, has no labelled copy itself, and a labelled copy covers it.
func (f *forwarding) throw(q netip.Prefix) {
	if !f.ingress {
		return
	}
	want := false
	if _, routed := f.main.Get(q); routed {
		if _, own := f.labelled.Get(q); !own {
			for s := range f.labelled.Supernets(q) {
				if s != q {
					want = true
					break
				}
			}
		}
	}
	note(&f.dirtyThrows, q, f.handedOn)
	if want {
		f.throws[q] = struct{}{}
	} else {
		delete(f.throws, q)
	}
}

// ftnEntry is the IP route lsrd wants for its own best route r. Plain-IP
// next hops go through plain when not nil, so that prefixes with the same
// ones share one slice.
func ftnEntry(ldp *fib.Table, r rib.Route, plain *hopInterner) (fib.FTNEntry, bool) {
	if ldp != nil {
		if e, ok := ldp.FTN[r.Prefix]; ok {
			return e, true
		}
		// BGP-free core: a route whose next hop is a remote LSR's
		// address follows the LSP to that address, pushing its label.
		// Every prefix behind the same next hop gets the same next hops
		// and labels, so the kernel layer shares one nexthop object.
		if e, ok := viaLSP(ldp, r); ok {
			e = withRouteLabels(e, r, true)
			if r.Prefix.Addr().Is6() {
				e.NextHops = plain.sixPE(e.NextHops)
			}
			return e, true
		}
	}
	e := fib.FTNEntry{Prefix: r.Prefix}
	var buf []fib.NextHop
	if plain != nil {
		buf = plain.buf[:0]
	}
	for _, nh := range r.NextHops {
		if nh.Ifname == "" {
			continue // unresolved: the RIB publishes none, but be safe
		}
		if r.Prefix.Addr().Is6() && nh.Addr.Unmap().Is4() {
			// An IPv6 route through an IPv4 next hop goes over an
			// LSP (6PE) or not at all: an IPv4 core does not
			// forward IPv6.
			continue
		}
		buf = append(buf, fib.NextHop{Addr: nh.Addr, Ifname: nh.Ifname})
	}
	if plain != nil {
		plain.buf = buf
		e.NextHops = plain.intern(buf)
	} else {
		e.NextHops = buf
	}
	return withRouteLabels(e, r, false), len(e.NextHops) > 0
}

// hopInterner hands out one slice for equal plain-IP next hops in a row:
// when an LSP goes, the 100,000 prefixes behind it fall back to the same
// plain next hop, and sharing it keeps both this table and the kernel
// layer's (which resolves a shared slice once) from holding a copy per
// prefix. Slices it returns are never changed in place.
type hopInterner struct {
	buf  []fib.NextHop // scratch for the next hops being built
	last []fib.NextHop
	// one is the slice handed out for each single next hop: entries are
	// computed in no particular order (forwarding.table walks a map), so
	// the last one alone would share little. Bounded: cleared beyond
	// maxInterned next hops (sharing starts over; nothing is wrong).
	one map[plainHop][]fib.NextHop
	// six is sixPE's result per LSP next-hop slice; bounded the same way.
	six map[lspHops][]fib.NextHop
}

// sixPE is the next hops of an IPv6 route over LSPs with next hops nhs:
// fib.RideHops (6PE, RFC 4798, over IPv4 LSPs), shared per LSP slice, as
// the LSP's own next hops are (h nil: not).
func (h *hopInterner) sixPE(nhs []fib.NextHop) []fib.NextHop {
	if !slices.ContainsFunc(nhs, func(nh fib.NextHop) bool { return nh.Addr.Unmap().Is4() }) {
		return nhs
	}
	k := lspHops{&nhs[0], len(nhs)}
	if h != nil {
		if s, ok := h.six[k]; ok {
			return s
		}
	}
	out := fib.RideHops(nhs, true)
	if h != nil {
		if h.six == nil || len(h.six) >= maxInterned {
			h.six = map[lspHops][]fib.NextHop{}
		}
		h.six[k] = out
	}
	return out
}

// lspHops names an LSP's next-hop slice (LDP's tables share it).
type lspHops struct {
	first *fib.NextHop
	n     int
}

type plainHop struct {
	addr   netip.Addr
	ifname string
}

const maxInterned = 4096

// intern returns a slice equal to nhs that the caller may keep: the one
// handed out before for the same single next hop, or the last one when
// equal, otherwise a copy (nil for none).
func (h *hopInterner) intern(nhs []fib.NextHop) []fib.NextHop {
	if len(nhs) == 0 {
		return nil
	}
	if len(nhs) == 1 && len(nhs[0].Labels) == 0 {
		k := plainHop{nhs[0].Addr, nhs[0].Ifname}
		if s, ok := h.one[k]; ok {
			return s
		}
		if h.one == nil || len(h.one) >= maxInterned {
			h.one = map[plainHop][]fib.NextHop{}
		}
		s := slices.Clone(nhs)
		h.one[k] = s
		return s
	}
	if !slices.EqualFunc(h.last, nhs, fib.NextHop.Equal) {
		h.last = slices.Clone(nhs)
	}
	return h.last
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
		if len(r.Recursive) == 1 {
			// Shared, not copied: the prefixes behind one next hop hold
			// one slice (tables are never changed in place).
			e.NextHops = lsp.NextHops
			break
		}
		e.NextHops = append(e.NextHops, lsp.NextHops...)
	}
	return e, true
}
