package lib

import (
	"github.com/lsrd/lsrd/ldp/fec"
	"net/netip"
	"slices"
)

// neighbor is what the LIB keeps about an LDP peer outside its per-FEC
// state: whether its session is operational and which interface addresses
// it announced (RFC 5036 section 3.5.5), which is how a route's next hop is
// matched to the peer whose labels it may use (section 2.7).
type neighbor struct {
	id      netip.Addr
	up      bool
	addrs   map[netip.Addr]struct{}
	refused bool // sent "No Label Resources"; owed "Label Resources Available"
	// unrouted counts its labels kept for FECs without a route
	// (Config.MaxUnroutedPerPeer); overflowed is set once one was
	// released for that bound: a route appearing may then lack a label
	// the peer has, and is asked for.
	unrouted   int
	overflowed bool
	// Graceful restart helper (RFC 3478, restart.go): after NeighborStale
	// the labels it advertised and the addresses it announced are kept,
	// marked stale, until it advertises them again or SweepStale.
	stale      map[fec.FEC]struct{}
	staleAddrs map[netip.Addr]struct{}
	// families are those its session serves (RFC 7552): it is sent
	// mappings for FECs of these only. Nil serves every family.
	families []fec.Family
}

// serves reports whether n's session carries FECs of f's family.
func (n *neighbor) serves(f fec.FEC) bool {
	return n.families == nil || slices.Contains(n.families, f.Family())
}

func (l *LIB) neighbor(id netip.Addr) *neighbor {
	n := l.nbrs[id]
	if n == nil {
		n = &neighbor{id: id, addrs: map[netip.Addr]struct{}{}}
		l.nbrs[id] = n
	}
	return n
}

// NeighborUp records that the session with LSR id became OPERATIONAL and
// returns a Label Mapping for every FEC that may be advertised: in
// downstream unsolicited mode a new peer is sent every local binding it may
// have (RFC 5036 sections 2.6.3 and 3.5.7.1). Sending
// the RFC 5919 End-of-LIB notification after them is the engine's business.
// families are the address families the session serves (RFC 7552 section
// 7): FECs of other families are never advertised to the peer. None means
// every family.
func (l *LIB) NeighborUp(id netip.Addr, families ...fec.Family) []Outgoing {
	l.begin()
	l.finishDrain(id)
	n := l.neighbor(id)
	n.families = slices.Clone(families)
	if !n.up {
		n.up = true
		i, _ := slices.BinarySearchFunc(l.up, id, netip.Addr.Compare)
		l.up = slices.Insert(l.up, i, id)
	}
	for _, p := range l.sortedFECs() {
		f := l.fecs[p]
		l.syncPeer(f, id, l.advertisable(f))
	}
	return l.end()
}

// NeighborDown forgets the session with LSR id: its mappings, its addresses,
// and which of our labels it held. A closed session ends every label binding
// made over it (RFC 5036 section 2.5.6), as if released, so those labels
// may return to the allocator; FECs that used its labels are re-evaluated,
// which in ordered mode withdraws what depended on them from other peers.
// The FECs routed through its addresses are re-evaluated at once; the
// rest of what it held is released in pieces (Drain, drain.go), and is
// never used meanwhile.
func (l *LIB) NeighborDown(id netip.Addr) []Outgoing {
	l.begin()
	n := l.nbrs[id]
	if n == nil {
		return l.end()
	}
	if i, ok := slices.BinarySearchFunc(l.up, id, netip.Addr.Compare); ok {
		l.up = slices.Delete(l.up, i, i+1)
	}
	addrs := make([]netip.Addr, 0, len(n.addrs))
	for a := range n.addrs {
		addrs = append(addrs, a)
	}
	delete(l.nbrs, id)
	l.finishDrain(id) // a drain of an earlier session with id
	l.startDrain(id)
	l.updateAll(l.disown(id, addrs))
	l.drainSome(len(l.drains)-1, l.piece)
	return l.end()
}

// NeighborAddresses records the interface addresses LSR id announced in an
// Address message; FECs routed through them may now use its labels.
func (l *LIB) NeighborAddresses(id netip.Addr, addrs []netip.Addr) []Outgoing {
	l.begin()
	n := l.neighbor(id)
	var touched []fec.FEC
	for _, a := range addrs {
		a = a.Unmap()
		n.addrs[a] = struct{}{}
		delete(n.staleAddrs, a)
		if _, ok := l.addrOwner[a]; ok {
			// Two peers claiming one address is a misconfiguration;
			// the first keeps it until it withdraws it.
			continue
		}
		l.addrOwner[a] = id
		for p := range l.byNexthop[a] {
			touched = append(touched, p)
		}
	}
	l.updateAll(touched)
	return l.end()
}

// NeighborAddressesWithdrawn records an Address Withdraw message from LSR id
// (RFC 5036 section 3.5.6): its labels no longer serve next hops at those
// addresses.
func (l *LIB) NeighborAddressesWithdrawn(id netip.Addr, addrs []netip.Addr) []Outgoing {
	l.begin()
	n := l.nbrs[id]
	if n == nil {
		return l.end()
	}
	var gone []netip.Addr
	for _, a := range addrs {
		a = a.Unmap()
		if _, ok := n.addrs[a]; ok {
			delete(n.addrs, a)
			delete(n.staleAddrs, a)
			gone = append(gone, a)
		}
	}
	l.updateAll(l.disown(id, gone))
	return l.end()
}

// disown removes id's claim on addrs, handing each to another neighbour
// that announced it too (lowest LSR ID first), and returns the FECs routed
// through addresses whose owner changed.
func (l *LIB) disown(id netip.Addr, addrs []netip.Addr) []fec.FEC {
	var touched []fec.FEC
	for _, a := range addrs {
		if owner, ok := l.addrOwner[a]; !ok || owner != id {
			continue
		}
		delete(l.addrOwner, a)
		var next netip.Addr
		for oid, o := range l.nbrs {
			if _, ok := o.addrs[a]; ok && oid != id && (!next.IsValid() || oid.Less(next)) {
				next = oid
			}
		}
		if next.IsValid() {
			l.addrOwner[a] = next
		}
		for p := range l.byNexthop[a] {
			touched = append(touched, p)
		}
	}
	return touched
}

// forgetSession drops what f's bindings held for the session with id, which
// has ended: the labels sent to it and withdrawn from it (the allocator
// learns the peer no longer holds them) and its requests.
func (l *LIB) forgetSession(f *binding, id netip.Addr) {
	if lb, ok := f.sent.del(id); ok {
		l.alloc.drop(lb)
	}
	if lb, ok := f.wdraw.del(id); ok {
		l.alloc.drop(lb)
	}
	if f.replaced != nil {
		for lb, ok := f.takeReplaced(id, nil); ok; lb, ok = f.takeReplaced(id, nil) {
			l.alloc.drop(lb)
		}
		l.linger(f)
	}
	f.reqs.del(id)
}
