package ldp

import (
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/lsrd/lsrd/ldp/wire"
)

// NextDeadline returns when the runtime must next call Handle with Tick,
// and false when no timer is running. Time is an input: the engine never
// reads a clock, so a replayed run sees exactly the same timers.
func (e *Engine) NextDeadline() (time.Time, bool) {
	var next time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, i := range e.ifaces {
		consider(i.nextHello)
	}
	for _, t := range e.targets {
		consider(t.nextHello)
	}
	for _, a := range e.adjs {
		consider(a.expires)
	}
	for _, n := range e.nbrs {
		consider(n.retryAt)
	}
	for _, s := range e.conns {
		if s.connected {
			consider(s.holdExpires)
		}
		if s.state == Operational {
			consider(s.nextKeepAlive)
		}
	}
	return next, !next.IsZero()
}

// tick fires every timer due at e.now, in a fixed order so that runs are
// reproducible: adjacency hold timers first (their expiry may end a session
// whose own timers then no longer matter), then session hold timers,
// KeepAlives, hellos and connection retries.
func (e *Engine) tick() {
	e.expireAdjacencies()
	for _, id := range sortedConns(e.conns) {
		s := e.conns[id]
		if s != nil && s.connected && !s.holdExpires.After(e.now) {
			// Section 2.5.6: a silent peer ends the session with
			// KeepAlive Timer Expired.
			e.log.Info("ldp: session hold timer expired", "peer", s.peerName())
			e.closeSession(s, wire.StatusKeepAliveTimerExpired)
		}
	}
	for _, id := range sortedConns(e.conns) {
		s := e.conns[id]
		if s != nil && s.state == Operational && !s.nextKeepAlive.After(e.now) {
			e.sendMessages(s, &wire.KeepAlive{})
		}
	}
	e.sendDueHellos()
	e.retryConnections()
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
