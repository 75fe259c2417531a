package ldp

import (
	"net/netip"
	"time"

	"github.com/lsrd/lsrd/ldp/wire"
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
//     it. Rejected initializations (bad parameters) keep the backoff.

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

// helloSent retries the neighbours waiting for a hello that reached them.
func (e *Engine) helloSent(match func(*neighbor) bool) {
	for _, n := range e.nbrs {
		if n.waitHello && n.sess == nil && match(n) {
			n.waitHello = false
			if at := e.now.Add(quickRetryDelay); n.retryAt.IsZero() || at.Before(n.retryAt) {
				e.arm(&n.retryAt, at)
			}
		}
	}
}

// routesAppeared retries the neighbours waiting whose transport address a
// new route covers.
func (e *Engine) routesAppeared(ps []netip.Prefix) {
	for _, n := range e.nbrs {
		if !n.waitHello || n.sess != nil {
			continue
		}
		for _, p := range ps {
			if p.Contains(n.transport) {
				n.waitHello = false
				if at := e.now.Add(quickRetryDelay); n.retryAt.IsZero() || at.Before(n.retryAt) {
					e.arm(&n.retryAt, at)
				}
				break
			}
		}
	}
}
