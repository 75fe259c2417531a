package lib

import (
	"net/netip"
	"slices"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/ldp/fec"
	"github.com/lsrd/lsrd/rib"
)

// updateForwarding recomputes f's LFIB and FTN entries and bumps the table
// generation only when one of them really changed.
//
// LFIB: a FEC with an allocated local label switches it to each next hop of
// its route: swap to the next hop neighbour's label, pop when that label is
// implicit null (penultimate hop popping, RFC 3031 section 3.16), and pop
// too when the neighbour gave no usable label, so that the packet leaves
// unlabelled and follows the IP route, as FRR and Cisco IOS do rather than
// dropping it. Egress FECs advertise a null label and need no entry.
//
// FTN: a FEC gets an entry, with every next hop of its route, once one of
// them pushes a label (anything but implicit null); the others forward
// unlabelled, which keeps the route's ECMP set. With no label to push plain
// IP routing already does the job.
//
// Nothing is pushed towards an address of the next hop's own neighbour (its
// loopback, the transport address of the LDP session with it): that LSP is
// one hop, and its only label is the neighbour's explicit null, which the
// kernel pops with the IP TTL set from the label's, one less than sent.
// Sessions that check the TTL (GTSM, RFC 6720: LDP's own with directly
// connected peers, BGP's ttl-security) would drop every segment. The
// transit entry (LFIB) swaps to the explicit null as advertised.
func (l *LIB) updateForwarding(f *binding) {
	var lfib, ftn []fib.NextHop
	pushes, learned := false, false
	if f.route != nil && !f.egress {
		lfib = make([]fib.NextHop, 0, len(f.route.NextHops))
		var unlabelled []int // next hops the FTN reaches unlabelled
		for i, nh := range f.route.NextHops {
			var labels []fib.Label
			lb, ok := l.downstream(f, nh)
			learned = learned || ok
			if ok && lb != fib.LabelImplicitNull {
				labels = []fib.Label{lb}
			}
			lfib = append(lfib, fib.NextHop{Addr: nh.Addr, Ifname: nh.Ifname, Labels: labels})
			if labels != nil && l.ownAddressOfNextHop(f, nh) {
				unlabelled = append(unlabelled, i)
			} else {
				pushes = pushes || labels != nil
			}
		}
		// The two entries share their next hops (never changed in place)
		// unless the FTN leaves a label out.
		ftn = lfib
		if unlabelled != nil {
			ftn = slices.Clone(lfib)
			for _, i := range unlabelled {
				ftn[i].Labels = nil
			}
		}
	}

	// A label kept from the previous run switches in the kernel as it
	// did then (preserved forwarding, RFC 3478 section 3.1) until a
	// downstream label is learned again or the restart is over: an entry
	// that pops would replace it meanwhile. Left out, the kernel layer
	// keeps the old entry, stale, until its sweep.
	keepPreserved := f.seeded && !learned
	if f.allocated && f.route != nil && !f.egress && !keepPreserved {
		e := fib.LFIBEntry{InLabel: f.local, NextHops: lfib}
		if f.inLFIB && f.lfibLabel != f.local {
			delete(l.lfib, f.lfibLabel)
			l.lfibChanged(f.lfibLabel)
		}
		if old, ok := l.lfib[f.local]; !ok || !old.Equal(e) {
			l.lfib[f.local] = e
			l.lfibChanged(f.local)
		}
		f.lfibLabel, f.inLFIB = f.local, true
	} else if f.inLFIB {
		delete(l.lfib, f.lfibLabel)
		f.inLFIB = false
		l.lfibChanged(f.lfibLabel)
	}

	l.linger(f)

	// The FTN maps IP prefixes: a prefix FEC is the prefix it pushes for.
	p := f.fec.Prefix()
	if pushes {
		e := fib.FTNEntry{Prefix: p, NextHops: ftn}
		if old, ok := l.ftn[p]; !ok || !old.Equal(e) {
			l.ftn[p] = e
			l.ftnChanged(p)
		}
	} else if _, ok := l.ftn[p]; ok {
		delete(l.ftn, p)
		l.ftnChanged(p)
	}
}

// linger keeps an LFIB entry for each label f replaced that a peer still
// holds, switching as f's own entry does (make before break: a peer that
// has not taken the new mapping yet still pushes the old label), and
// deletes the entries no peer holds any more.
func (l *LIB) linger(f *binding) {
	var want []fib.Label
	if f.inLFIB {
		for _, e := range f.replaced {
			if e.v != f.lfibLabel {
				want = append(want, e.v)
			}
		}
		slices.Sort(want)
		want = slices.Compact(want)
	}
	for _, lb := range f.lingering {
		if !slices.Contains(want, lb) {
			delete(l.lfib, lb)
			l.lfibChanged(lb)
		}
	}
	for _, lb := range want {
		e := fib.LFIBEntry{InLabel: lb, NextHops: l.lfib[f.lfibLabel].NextHops}
		if old, ok := l.lfib[lb]; !ok || !old.Equal(e) {
			l.lfib[lb] = e
			l.lfibChanged(lb)
		}
	}
	f.lingering = want
}

// lfibChanged and ftnChanged record a change of the table: a new
// generation, and the key for the next TakeDelta.
func (l *LIB) lfibChanged(lb fib.Label) {
	l.gen++
	l.dirtyLFIB[lb] = struct{}{}
}

func (l *LIB) ftnChanged(p netip.Prefix) {
	l.gen++
	l.dirtyFTN[p] = struct{}{}
}

// TakeDelta returns what changed in the table since the previous call
// (everything, the first time): the LDP engine hands it on instead of a
// copy of the whole table (the table's entries are replaced, never changed
// in place, so the delta shares them).
func (l *LIB) TakeDelta() *fib.Delta {
	d := &fib.Delta{LFIB: make(map[fib.Label]*fib.LFIBEntry, len(l.dirtyLFIB)), FTN: make(map[netip.Prefix]*fib.FTNEntry, len(l.dirtyFTN))}
	for lb := range l.dirtyLFIB {
		if e, ok := l.lfib[lb]; ok {
			d.LFIB[lb] = &e
		} else {
			d.LFIB[lb] = nil
		}
	}
	for p := range l.dirtyFTN {
		if e, ok := l.ftn[p]; ok {
			d.FTN[p] = &e
		} else {
			d.FTN[p] = nil
		}
	}
	// A map keeps its size once grown: the first delta of a large table
	// would otherwise hold its memory for good.
	if len(l.dirtyLFIB) > 4096 {
		l.dirtyLFIB = map[fib.Label]struct{}{}
	} else {
		clear(l.dirtyLFIB)
	}
	if len(l.dirtyFTN) > 4096 {
		l.dirtyFTN = map[netip.Prefix]struct{}{}
	} else {
		clear(l.dirtyFTN)
	}
	return d
}

// Table returns the desired LFIB and FTN now. It is a deep copy: the caller
// may keep and change it. Next hops and labels are carved from two shared
// arrays, so that a copy of a large table costs a few allocations.
func (l *LIB) Table() *fib.Table {
	t := &fib.Table{
		LFIB: make(map[fib.Label]fib.LFIBEntry, len(l.lfib)),
		FTN:  make(map[netip.Prefix]fib.FTNEntry, len(l.ftn)),
	}
	nh, nl := 0, 0
	count := func(hs []fib.NextHop) {
		nh += len(hs)
		for _, h := range hs {
			nl += len(h.Labels)
		}
	}
	for _, e := range l.lfib {
		count(e.NextHops)
	}
	for _, e := range l.ftn {
		count(e.NextHops)
	}
	hops := make([]fib.NextHop, 0, nh)
	labels := make([]fib.Label, 0, nl)
	clone := func(hs []fib.NextHop) []fib.NextHop {
		start := len(hops)
		for _, h := range hs {
			if h.Labels != nil {
				ls := len(labels)
				labels = append(labels, h.Labels...)
				h.Labels = labels[ls:len(labels):len(labels)]
			}
			hops = append(hops, h)
		}
		return hops[start:len(hops):len(hops)]
	}
	for k, e := range l.lfib {
		e.NextHops = clone(e.NextHops)
		t.LFIB[k] = e
	}
	for k, e := range l.ftn {
		e.NextHops = clone(e.NextHops)
		t.FTN[k] = e
	}
	return t
}

// Generation changes whenever the result of Table would: a caller that
// remembers it can skip Table (and its copy) when nothing moved.
func (l *LIB) Generation() uint64 { return l.gen }

// Bindings lists every FEC that has a local label or a neighbour's label,
// sorted by prefix, with the remote labels sorted by neighbour.
func (l *LIB) Bindings() []Binding {
	var out []Binding
	for _, p := range l.sortedFECs() {
		if b := l.binding(l.fecs[p]); b.HasLocal || len(b.Remote) > 0 {
			out = append(out, b)
		}
	}
	return out
}

// inUse tells whether peer is the neighbour of one of f's next hops, so
// that its label is the one forwarding uses.
func (l *LIB) inUse(f *binding, peer netip.Addr) bool {
	if f.route == nil || f.egress {
		return false
	}
	for _, nh := range f.route.NextHops {
		if owner, ok := l.addrOwner[nh.Addr]; ok && owner == peer {
			return true
		}
	}
	return false
}

// Stats counts the LIB's resources for metrics and operators.
func (l *LIB) Stats() Stats {
	s := Stats{
		LabelsInUse:   len(l.alloc.used),
		LabelRange:    l.alloc.size(),
		AllocFailures: l.allocFailures,
		Starved:       len(l.starved),
		Peers:         len(l.up),

		UnroutedRefused: l.unroutedRefused,
		SeededLabels:    len(l.alloc.seed),
	}
	for _, n := range l.nbrs {
		s.StaleBindings += len(n.stale)
	}
	for _, f := range l.fecs {
		if f.route != nil {
			s.FECs++
		}
		if f.hasLocal {
			s.LocalBindings++
		}
		if len(l.drains) == 0 {
			s.RemoteBindings += len(f.remote)
			s.Withdrawn += len(f.wdraw) + len(f.replaced)
			continue
		}
		// What an ended session held counts no more, though its drain
		// may not have reached f yet.
		live := func(e peerEntry[fib.Label]) bool { return !l.gone(e.peer) }
		s.RemoteBindings += countFunc(f.remote, live)
		s.Withdrawn += countFunc(f.wdraw, live) + countFunc(f.replaced, live)
	}
	return s
}

// ownAddressOfNextHop reports whether f is a host prefix of an address of
// the neighbour that owns next hop nh.
func (l *LIB) ownAddressOfNextHop(f *binding, nh rib.NextHop) bool {
	p := f.fec.Prefix()
	if !p.IsSingleIP() || !nh.Addr.IsValid() {
		return false
	}
	owner, ok := l.addrOwner[nh.Addr]
	return ok && l.addrOwner[p.Addr()] == owner
}

// FECOfLabel returns the FEC a local label was allocated for, and whether
// it is still that FEC's label (a withdrawn one waits for releases): the
// LSP ping responder's check of an arriving label (RFC 8029 section 4.4).
func (l *LIB) FECOfLabel(lb fib.Label) (p fec.FEC, bound, ok bool) {
	u, ok := l.alloc.used[lb]
	if !ok || u.reserved {
		return fec.FEC{}, false, false
	}
	return u.fec, u.bound, true
}

// Binding returns one FEC's labels, as Bindings lists them, and whether this
// LSR is its egress.
func (l *LIB) Binding(p fec.FEC) (_ Binding, egress, ok bool) {
	f := l.fecs[p]
	if f == nil {
		return Binding{}, false, false
	}
	return l.binding(f), f.egress, true
}

func (l *LIB) binding(f *binding) Binding {
	b := Binding{FEC: f.fec, LocalLabel: f.local, HasLocal: f.hasLocal}
	// A session that ended holds nothing, though its drain may not have
	// reached f yet.
	for _, e := range f.remote {
		if !l.gone(e.peer) {
			b.Remote = append(b.Remote, RemoteBinding{Peer: e.peer, Label: e.v, InUse: l.inUse(f, e.peer)})
		}
	}
	for _, e := range f.sent {
		if !l.gone(e.peer) {
			b.AdvertisedTo = append(b.AdvertisedTo, e.peer)
		}
	}
	return b
}
