package ldp

import (
	"container/heap"
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/lsrd/lsrd/ldp/wire"
)

// Timers. Every timer of the engine is a time.Time field of the object it
// belongs to (an interface's next hello, an adjacency's expiry, a session's
// hold timer...), zero when it is not running. Fields are only ever set
// through arm, which also files the deadline in a min-heap, so that finding
// the next deadline, and knowing that nothing is due, costs O(log n) and not
// a walk over every adjacency and session per event: a flood of hellos or a
// stream of label messages must not slow down with the number of
// neighbours.
//
// The heap is lazy. An entry whose field has since changed is stale: when
// it reaches the top it is dropped, or filed again at the field's later
// time. A timer moved later (the common case: a hello refreshing an
// adjacency, a PDU restarting a session's hold timer) therefore costs no
// heap operation at all, and each field has about one entry filed.

type timerEntry struct {
	at    time.Time
	field *time.Time
}

type timerHeap []timerEntry

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timerEntry)) }
func (h *timerHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// arm sets the timer field to t (zero stops it).
func (e *Engine) arm(field *time.Time, t time.Time) {
	old := *field
	*field = t
	if !t.IsZero() && (old.IsZero() || t.Before(old)) {
		heap.Push(&e.timers, timerEntry{at: t, field: field})
	}
}

// NextDeadline returns when the runtime must next call Handle with Tick,
// and false when no timer is running. Time is an input: the engine never
// reads a clock, so a replayed run sees exactly the same timers.
func (e *Engine) NextDeadline() (time.Time, bool) {
	for len(e.timers) > 0 {
		top := e.timers[0]
		cur := *top.field
		if cur.Equal(top.at) {
			return top.at, true
		}
		heap.Pop(&e.timers)
		if !cur.IsZero() && cur.After(top.at) {
			// Moved later without a heap operation: file it now.
			heap.Push(&e.timers, timerEntry{at: cur, field: top.field})
		}
	}
	return time.Time{}, false
}

// tick fires every timer due at e.now, in a fixed order so that runs are
// reproducible: adjacency hold timers first (their expiry may end a session
// whose own timers then no longer matter), then session hold timers,
// KeepAlives, hellos, connection retries, graceful restart deadlines and
// the lingering counters of neighbours gone. Nothing is walked unless a timer is due.
func (e *Engine) tick() {
	if d, ok := e.NextDeadline(); !ok || d.After(e.now) {
		return
	}
	e.expireAdjacencies()
	for _, id := range sortedConns(e.conns) {
		s := e.conns[id]
		if s != nil && s.connected && !s.holdExpires.IsZero() && !s.holdExpires.After(e.now) {
			e.sessionHoldExpired(s)
		}
	}
	for _, id := range sortedConns(e.conns) {
		s := e.conns[id]
		if s != nil && s.state == Operational && !s.nextKeepAlive.IsZero() && !s.nextKeepAlive.After(e.now) {
			e.sendMessages(s, &wire.KeepAlive{})
		}
	}
	e.sendDueHellos()
	e.retryConnections()
	e.authWaited()
	e.expireHelpers()
	e.expireRestart()
	e.sweepCounters()
}

// sessionHoldExpired ends a session whose peer was silent for its hold time
// (section 2.5.6: KeepAlive Timer Expired), or, before a peer was named or
// the session initialized, a connection that never got that far.
func (e *Engine) sessionHoldExpired(s *session) {
	switch {
	case s.nbr == nil && s.parked:
		// Section 2.5.3: no Hello adjacency matched in time.
		e.limitHit(LimitInitTimeout, "remote", s.remote, "why", "no hello from the LSR its first PDU names")
		e.closeSession(s, wire.StatusSessionRejectedNoHello)
		return
	case s.nbr == nil:
		e.limitHit(LimitInitTimeout, "remote", s.remote, "why", "no PDU naming a neighbour in time")
	case s.state == OpenRec:
		// Initializations exchanged, the peer's KeepAlive not come in
		// the negotiated time: not the bound on strangers.
		e.log.Info("ldp: session hold timer expired before the peer's KeepAlive", "lsr-id", s.peerName())
		s.curable = true
	case s.state != Operational:
		e.limitHit(LimitInitTimeout, "lsr-id", s.peerName(), "state", s.state.String(), "why", "session initialization timed out")
		// Most often a segment lost on the way (a path that moved):
		// something a hello or a route can cure.
		s.curable = true
	default:
		e.log.Info("ldp: session hold timer expired", "lsr-id", s.peerName())
	}
	e.closeSession(s, wire.StatusKeepAliveTimerExpired)
}

func sortedConns(m map[ConnID]*session) []ConnID { return slices.Sorted(maps.Keys(m)) }

func sortedNames[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func sortedAddrs[V any](m map[netip.Addr]V) []netip.Addr {
	return slices.SortedFunc(maps.Keys(m), netip.Addr.Compare)
}

func sortedAdjKeys(m map[adjKey]*adjacency) []adjKey {
	return slices.SortedFunc(maps.Keys(m), func(a, b adjKey) int {
		switch {
		case a.less(b):
			return -1
		case b.less(a):
			return 1
		}
		return 0
	})
}
