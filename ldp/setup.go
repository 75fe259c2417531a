package ldp

import (
	"net/netip"
	"slices"
	"time"

	"github.com/lsrd/lsrd/ldp/wire"
	"github.com/lsrd/lsrd/rib"
)

// Session set-up without fixed waits. Two LSRs that start together race:
// the active one may dial before the passive one has its hello (Session
// Rejected/No Hello) or listens at all (connection refused), and RFC 5036
// section 2.5.3's backoff would then wait 15 s for an obstacle that was
// gone a moment later. So:
//
//   - passive side: a connection whose first PDU names an LSR not yet
//     known by a hello is parked, not rejected, for the connection's
//     pending time (Config.PendingConnTimeout), and resumed when the hello
//     arrives (OpenBSD/FRR ldpd keep such connections pending the same
//     way);
//   - active side: after a No Hello rejection or a connection that failed
//     before initialization, the next attempt follows the next hello this
//     LSR sends to the neighbour (then the peer has it) or a route change
//     (then the transport address may be reachable), at most
//     maxQuickRetries times in a row; the backoff timer stays armed behind
//     it. Rejected initializations (bad parameters) keep the backoff;
//   - either side: a change of the route to the peer's transport address
//     restarts a session still setting up, and retries a failed one at
//     once (transportRoutesChanged).

const (
	// quickRetryDelay gives the hello just sent time to arrive.
	quickRetryDelay = 500 * time.Millisecond
	maxQuickRetries = 3
)

// parkable reports whether the unbound session s should wait for a hello
// rather than reject its first PDU: it names an LSR no hello introduced yet.
func (e *Engine) parkable(s *session) bool {
	if s.nbr != nil || len(s.buf) < wire.HeaderLen {
		return false
	}
	id := netip.AddrFrom4([4]byte(s.buf[4:8]))
	if e.nbrs[id] != nil {
		return false
	}
	if !s.parked {
		s.parked = true
		e.log.Info("ldp: session waits for a hello from its peer", "lsr-id", id, "remote", s.remote)
	}
	return true
}

// resumeParked goes on with the sessions parked for a hello from n's
// transport address.
func (e *Engine) resumeParked(n *neighbor) {
	for _, id := range sortedConns(e.conns) {
		s := e.conns[id]
		if s != nil && s.parked && s.nbr == nil && s.remote.Addr() == n.transport {
			s.parked = false
			e.connData(ConnData{Conn: id})
		}
	}
}

// retryOnHello marks n for a quick retry after a set-up failure that a
// hello or a route can cure.
func (e *Engine) retryOnHello(n *neighbor) {
	if n.quickRetries >= maxQuickRetries {
		return
	}
	n.quickRetries++
	n.waitHello = true
}

// retrySoon moves n's next attempt to quickRetryDelay from now, unless one
// is due sooner.
func (e *Engine) retrySoon(n *neighbor) {
	if at := e.now.Add(quickRetryDelay); n.retryAt.IsZero() || at.Before(n.retryAt) {
		e.arm(&n.retryAt, at)
	}
}

// helloSent retries the neighbours waiting for a hello that reached them.
func (e *Engine) helloSent(match func(*neighbor) bool) {
	for _, n := range e.nbrs {
		if n.waitHello && n.sess == nil && match(n) {
			n.waitHello = false
			e.retrySoon(n)
		}
	}
}

// transportRoutesChanged acts on route changes (updates and deletes) that
// cover a neighbour's transport address, where the path to it may have
// moved:
//
//   - a neighbour whose last attempt failed in a way a route can cure is
//     tried again soon, whatever the quick retries used so far: a route
//     change is the sign that the obstacle may be gone;
//   - a session still setting up, begun over the old path, starts over
//     (routeRestart). With GTSM, segments that took a longer path arrive
//     with a TTL below 255 and are dropped; TCP's retransmission backoff
//     would then hold the next copy back for seconds after the direct
//     route appears, and the side that gave up first would find its new
//     connection refused as redundant.
//
// Only neighbours in set-up are looked at, so the cost of a batch of routes
// grows with the routes and the few neighbours setting up, not with every
// neighbour.
func (e *Engine) transportRoutesChanged(deletes []netip.Prefix, updates []rib.Route) {
	var waiting []*neighbor
	for _, n := range e.nbrs {
		if n.transport.IsValid() && (n.sess == nil && n.waitRoute || n.sess != nil && n.sess.state != Operational) {
			waiting = append(waiting, n)
		}
	}
	slices.SortFunc(waiting, func(a, b *neighbor) int { return a.id.Compare(b.id) })
	for _, n := range waiting {
		covers := func(p netip.Prefix) bool { return p.Contains(n.transport) }
		if !slices.ContainsFunc(deletes, covers) && !slices.ContainsFunc(updates, func(r rib.Route) bool { return covers(r.Prefix) }) {
			continue
		}
		if n.sess != nil {
			if e.pathMoved(n.sess) {
				e.routeRestart(n.sess)
			}
			continue
		}
		n.waitRoute, n.waitHello, n.quickRetries = false, false, 0
		e.retrySoon(n)
	}
}

// notePath records the route to s's remote address known as s begins.
func (e *Engine) notePath(s *session) {
	s.path, s.pathKnown = e.labels.RouteTo(s.remote.Addr())
}

// pathMoved reports whether the route to s's remote address is no longer
// the one recorded, and records the new one. The first route known is not
// a move: the connection took the kernel's path, which the routes read at
// start-up (handed on after the first hellos, on the work lane) describe;
// starting over for them cost every start-up session half a second.
func (e *Engine) pathMoved(s *session) bool {
	r, ok := e.labels.RouteTo(s.remote.Addr())
	if !s.pathKnown {
		s.path, s.pathKnown = r, ok
		return false
	}
	moved := !ok || r.Prefix != s.path.Prefix || !slices.Equal(r.NextHops, s.path.NextHops)
	s.path, s.pathKnown = r, ok
	return moved
}

// routeRestart starts the set-up of s over when it began at least
// quickRetryDelay ago (sooner, TCP has not given up on any segment yet):
// the peer is told (Shutdown) if the connection is up, and the active side
// dials again after quickRetryDelay with no backoff.
func (e *Engine) routeRestart(s *session) {
	if e.now.Sub(s.began) < quickRetryDelay {
		return
	}
	n := s.nbr
	e.log.Info("ldp: route to the neighbour's transport address changed during set-up; starting over", "lsr-id", n.id, "state", s.state.String(), "transport", n.transport)
	s.endedBy("reason", "route to the transport address changed during set-up")
	s.restart = true
	code := noNotification
	if s.connected {
		code = wire.StatusShutdown
	}
	e.closeSession(s, code)
}
