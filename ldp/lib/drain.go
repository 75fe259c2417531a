package lib

import (
	"net/netip"
	"slices"
)

// DrainPiece is how many FECs one call of Drain goes through: the bound on
// the work of one step while a closed session's bindings are released.
const DrainPiece = 2048

// drain is a session that ended and whose bindings are still being
// released, in FEC order from next on.
type drain struct {
	id   netip.Addr
	next *binding // a probe holding the first FEC not yet visited
}

// Draining tells whether a closed session's bindings are still being
// released: the caller calls Drain until it is not, with other work in
// between.
func (l *LIB) Draining() bool { return len(l.drains) > 0 }

// Drain releases the next piece of a closed session's bindings (at most
// DrainPiece FECs).
func (l *LIB) Drain() []Outgoing {
	l.begin()
	if len(l.drains) > 0 {
		l.drainSome(0, l.piece)
	}
	return l.end()
}

// startDrain begins releasing what every FEC holds for the session with id,
// which ended: NeighborDown's part that grows with the table. Until a FEC
// is visited, what it holds for id is forgotten the first time anything
// else looks at it (settle), so no message and no forwarding entry is ever
// made from the ended session's state.
func (l *LIB) startDrain(id netip.Addr) {
	l.drains = append(l.drains, drain{id: id, next: &binding{}})
}

// drainSome visits up to budget FECs (all that are left when budget is
// negative) for the drain at index i, and ends that drain when it has
// visited the last FEC.
func (l *LIB) drainSome(i, budget int) {
	d := l.drains[i]
	var piece []*binding
	var next *binding
	l.order.AscendGreaterOrEqual(d.next, func(f *binding) bool {
		if len(piece) == budget {
			next = &binding{fec: f.fec}
			return false
		}
		piece = append(piece, f)
		return true
	})
	if next == nil {
		l.drains = slices.Delete(l.drains, i, i+1)
	} else {
		l.drains[i].next = next
	}
	l.forget(piece, d.id)
}

// forget drops what the FECs in fs hold for the ended session with id and
// re-evaluates those that had its label.
func (l *LIB) forget(fs []*binding, id netip.Addr) {
	for _, f := range fs {
		if l.forgetPeer(f, id) {
			l.update(f)
		} else {
			l.gc(f)
		}
	}
}

// forgetPeer drops what f holds for the ended session with id: the labels
// exchanged and the requests. It reports whether f had id's label. The
// neighbour, and with it its count of labels for FECs without a route,
// went with NeighborDown, so no count changes here.
func (l *LIB) forgetPeer(f *binding, id netip.Addr) bool {
	l.forgetSession(f, id)
	_, had := f.remote.del(id)
	return had
}

// settle forgets what f holds for sessions that ended and whose drain has
// not reached f yet; called before f is evaluated.
func (l *LIB) settle(f *binding) {
	for _, d := range l.drains {
		l.forgetPeer(f, d.id)
	}
}

// finishDrain completes the drains of id (of every session when id is
// invalid): before a new session with the same peer, or before a change
// that goes through every FEC.
func (l *LIB) finishDrain(id netip.Addr) {
	for i := 0; i < len(l.drains); {
		if id.IsValid() && l.drains[i].id != id {
			i++
			continue
		}
		l.drainSome(i, -1)
	}
}

// gone tells whether id is a session that ended and is being drained.
func (l *LIB) gone(id netip.Addr) bool {
	return slices.ContainsFunc(l.drains, func(d drain) bool { return d.id == id })
}

// countFunc counts the elements of s for which f holds.
func countFunc[E any](s []E, f func(E) bool) int {
	n := 0
	for _, e := range s {
		if f(e) {
			n++
		}
	}
	return n
}
