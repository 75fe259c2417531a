package lib

import (
	"github.com/lsrd/lsrd/ldp/fec"
	"maps"
	"net/netip"
	"slices"

	"github.com/lsrd/lsrd/fib"
)

// Graceful restart (RFC 3478). Two roles meet here.
//
// Helper: when the session with a neighbour that can preserve its
// forwarding state ends unexpectedly, the engine calls NeighborStale
// instead of NeighborDown. The labels the neighbour advertised and the
// addresses it announced are kept, marked stale, so forwarding through it
// does not change while it restarts; what we had advertised to it is
// forgotten, as for any closed session (it restarted and holds nothing).
// When the neighbour comes back it advertises again: a label it sends
// again clears the mark (the same label changes nothing at all; another
// one replaces it, without a release, since the peer never held the old
// one in its new life), and so does an address. SweepStale deletes what
// is still stale when recovery ends, or everything when the neighbour did
// not come back in time. The timers are the engine's.
//
// Restarting LSR: Config.Seed gives each FEC of the previous run its old
// label back, and LocalLabels is what the daemon saves for the next run.

// NeighborStale records that the session with LSR id ended while the
// neighbour is expected to come back (RFC 3478 section 3): like
// NeighborDown for the labels it held from us, but its own labels and
// addresses are kept, marked stale, and forwarding does not change. It
// returns what follows (nothing is sent to id: it has no session).
func (l *LIB) NeighborStale(id netip.Addr) []Outgoing {
	l.begin()
	n := l.nbrs[id]
	if n == nil {
		return l.end()
	}
	if i, ok := slices.BinarySearchFunc(l.up, id, netip.Addr.Compare); ok {
		l.up = slices.Delete(l.up, i, i+1)
	}
	// What was bound to the session itself ends with it.
	n.up, n.refused, n.overflowed = false, false, false
	if n.stale == nil {
		n.stale = map[fec.FEC]struct{}{}
	}
	for _, p := range l.sortedFECs() {
		f := l.fecs[p]
		l.forgetSession(f, id)
		if _, ok := f.remote.get(id); ok {
			n.stale[p] = struct{}{}
		}
		l.gc(f)
	}
	n.staleAddrs = maps.Clone(n.addrs)
	return l.end()
}

// SweepStale ends the graceful restart of LSR id: the labels and addresses
// it has not advertised again are deleted, and FECs that used them are
// re-evaluated. A neighbour whose session is not back is forgotten
// altogether, as NeighborDown would have done when its session ended.
func (l *LIB) SweepStale(id netip.Addr) []Outgoing {
	n := l.nbrs[id]
	if n == nil {
		l.begin()
		return l.end()
	}
	if !n.up {
		return l.NeighborDown(id)
	}
	l.begin()
	var touched []fec.FEC
	ps := slices.SortedFunc(maps.Keys(n.stale), fec.FEC.Compare)
	for _, p := range ps {
		f := l.fecs[p]
		if f == nil {
			continue
		}
		if _, ok := f.remote.del(id); ok {
			l.unroutedChanged(f, id, -1)
			touched = append(touched, p)
		}
	}
	n.stale = nil
	addrs := slices.SortedFunc(maps.Keys(n.staleAddrs), netip.Addr.Compare)
	for _, a := range addrs {
		delete(n.addrs, a)
	}
	n.staleAddrs = nil
	touched = append(touched, l.disown(id, addrs)...)
	l.updateAll(touched)
	return l.end()
}

// StaleBindings counts the labels of LSR id still marked stale.
func (l *LIB) StaleBindings(id netip.Addr) int {
	if n := l.nbrs[id]; n != nil {
		return len(n.stale)
	}
	return 0
}

// refresh clears the stale mark of id's label for p and reports whether
// there was one.
func (l *LIB) refresh(id netip.Addr, p fec.FEC) bool {
	n := l.nbrs[id]
	if n == nil {
		return false
	}
	if _, ok := n.stale[p]; ok {
		delete(n.stale, p)
		return true
	}
	return false
}

// DropSeed ends this LSR's own restart: the labels Config.Seed still keeps
// for FECs that did not reappear go back to the pool (and FECs that found
// the range exhausted meanwhile get them).
func (l *LIB) DropSeed() []Outgoing {
	l.begin()
	if l.alloc.dropSeed() {
		l.localGen++
	}
	for _, p := range l.sortedFECs() {
		if f := l.fecs[p]; f.seeded {
			f.seeded = false
			l.updateForwarding(f)
		}
	}
	return l.end()
}

// LocalLabels returns the labels this LSR allocated, by FEC, with those the
// seed still keeps for FECs not back yet: what a restart with preserved
// forwarding must find again (Config.Seed). Null labels are not included.
func (l *LIB) LocalLabels() map[fec.FEC]fib.Label {
	out := make(map[fec.FEC]fib.Label, len(l.fecs)+len(l.alloc.seed))
	maps.Copy(out, l.alloc.seed)
	for p, f := range l.fecs {
		if f.allocated {
			out[p] = f.local
		}
	}
	return out
}

// LocalGeneration changes whenever the result of LocalLabels may have: the
// daemon saves them only then.
func (l *LIB) LocalGeneration() uint64 { return l.localGen }
