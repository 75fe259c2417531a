package ldp

import (
	"net/netip"
	"time"

	"github.com/lsrd/lsrd/ldp/wire"
)

// LDP Graceful Restart (RFC 3478), the engine's part: the FT Session TLV
// in Initialization, the helper's timers for a neighbour that restarts, and
// the end of this LSR's own restart. What is kept stale is the LIB's
// business (lib/restart.go); when, is decided here, with engine deadlines
// (Engine.arm) so that the conformance cases run the timers on the
// injected clock.
//
// Helper states of a neighbour, by LSR ID (Engine.helping), independent of
// its adjacencies (a restarting LSR may stop sending hellos for longer
// than their hold time):
//
//	(none) --GR session lost, not by us--> reconnect wait (reconnectBy)
//	reconnect wait --deadline--> (none): SweepStale deletes everything
//	reconnect wait --session OPERATIONAL, Recovery Time 0--> (none): swept
//	reconnect wait --session OPERATIONAL, Recovery Time > 0--> recovering (recoverBy)
//	recovering --End-of-LIB or deadline--> (none): SweepStale deletes what is still stale
//	any --GR session lost again--> reconnect wait (everything stale again)
//	any --session closed by us on purpose, or without GR--> (none): NeighborDown
//
// The restarting role (Engine.restart): after ForwardingPreserved the
// Initialization messages carry the time left of the Recovery Time, and
// LDPRecovered is emitted once every neighbour expected back has sent
// End-of-LIB on its new session, or the Recovery Time has passed.

// Defaults of Config.GracefulRestart. 120 s each, as Cisco IOS and Nokia
// SR OS use for their reconnect and neighbour liveness timers: long enough
// for lsrd to be restarted by its supervisor and re-form its sessions
// (hellos every 5 s, a session in well under a second), and to re-advertise
// a large LIB; short enough that a router that died for good does not keep
// traffic on its stale LSPs for long.
const (
	DefaultGRReconnectTime = 120 * time.Second
	DefaultGRRecoveryTime  = 120 * time.Second
	// maxGRTime bounds both: the wire carries milliseconds in 32 bits
	// (49 days), far beyond any sensible value.
	maxGRTime = time.Hour
)

// GracefulRestart configures RFC 3478.
type GracefulRestart struct {
	Enabled bool
	// ReconnectTime is the FT Reconnect Timeout this LSR advertises: how
	// long its neighbours should keep its labels when the session fails.
	// It also bounds how long this LSR waits for a neighbour: the lesser
	// of it and the neighbour's FT Reconnect Timeout (RFC 3478 section
	// 3 lets the helper cap the wait with a local timer).
	ReconnectTime time.Duration
	// RecoveryTime is the Recovery Time advertised after a restart that
	// preserved the forwarding state (ForwardingPreserved), and the most
	// this LSR keeps a returning neighbour's stale labels: the lesser of
	// it and the Recovery Time the neighbour advertises.
	RecoveryTime time.Duration
}

func (g GracefulRestart) validate() error {
	if !g.Enabled {
		return nil
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"GracefulRestart.ReconnectTime", g.ReconnectTime}, {"GracefulRestart.RecoveryTime", g.RecoveryTime}} {
		if d.v < time.Second || d.v > maxGRTime || d.v%time.Millisecond != 0 {
			return configErr(d.name, d.v, "must be whole milliseconds from 1s to 1h")
		}
	}
	return nil
}

// ForwardingPreserved tells the engine that lsrd restarted and the previous
// run's MPLS forwarding state is still in the kernel (RFC 3478 section 3.1):
// the runtime sends it before the first session can form. Until recovery
// ends, Initialization messages advertise the Recovery Time left, and the
// engine then emits LDPRecovered exactly once (at once when graceful
// restart is not enabled).
type ForwardingPreserved struct {
	// Peers are the LSR IDs of the graceful restart capable neighbours
	// of the previous run: recovery ends early once each has come back
	// and sent End-of-LIB (RFC 5919). Empty: wait the Recovery Time.
	Peers []netip.Addr
}

func (ForwardingPreserved) isEvent() {}

// LDPRecovered reports that the restart announced by ForwardingPreserved
// is over for LDP: every expected neighbour re-advertised its labels (End
// of LIB), or the Recovery Time passed. The runtime may then delete the
// forwarding state of the previous run that was not refreshed (the kernel
// layer's stale sweep). Seeded labels not claimed by then are released.
type LDPRecovered struct {
	// Expired is true when the Recovery Time ran out with neighbours
	// still missing (Missing names them).
	Expired bool
	Missing []netip.Addr
}

func (LDPRecovered) isAction() {}

// helper is a neighbour whose session ended while it can preserve its
// forwarding: its labels are stale in the LIB until one of the deadlines.
type helper struct {
	id          netip.Addr
	reconnectBy time.Time // its session must be OPERATIONAL again by then
	recoverBy   time.Time // it must have re-advertised by then
}

// restartState is this LSR's own restart (ForwardingPreserved).
type restartState struct {
	until   time.Time           // end of the Recovery Time; zero once recovered
	waiting map[netip.Addr]bool // neighbours expected to send End-of-LIB
}

// ftSession is the FT Session TLV of our Initialization: nil without
// graceful restart. The Recovery Time is what is left of ours after a
// restart that preserved the forwarding state, 0 otherwise.
func (e *Engine) ftSession() *wire.FTSession {
	g := e.cfg.GracefulRestart
	if !g.Enabled {
		return nil
	}
	ft := &wire.FTSession{Flags: wire.FTFlagL, ReconnectTimeout: ms(g.ReconnectTime)}
	if r := e.restart; r != nil && !r.until.IsZero() && r.until.After(e.now) {
		ft.RecoveryTime = ms(r.until.Sub(e.now))
	}
	return ft
}

func ms(d time.Duration) uint32 { return uint32(d / time.Millisecond) }

func msDuration(v uint32) time.Duration { return time.Duration(v) * time.Millisecond }

// peerGR reports whether the session is graceful restart capable: both
// sides sent the FT Session TLV with the L flag (RFC 3478 section 2). We
// sent it when it was enabled at the time of our Initialization.
func (s *session) peerGR() bool {
	return s.sentFT && s.peerFT != nil && s.peerFT.Learn()
}

// sessionLost decides, for a session that was OPERATIONAL, between the
// helper's stale bindings (RFC 3478 section 3) and RFC 5036's end of
// every binding, and tells the LIB.
func (e *Engine) sessionLost(s *session) {
	id := s.nbr.id
	wait := time.Duration(0)
	if s.peerGR() && !s.admin && e.cfg.GracefulRestart.Enabled {
		wait = min(msDuration(s.peerFT.ReconnectTimeout), e.cfg.GracefulRestart.ReconnectTime)
	}
	if wait <= 0 {
		// Not GR capable (an FRR peer: RFC 5036 as before), closed by
		// us on purpose, or a neighbour that cannot preserve its
		// forwarding (FT Reconnect Timeout 0).
		e.stopHelping(id)
		e.toLIB(e.labels.NeighborDown(id))
		return
	}
	h := e.helping[id]
	if h == nil {
		h = &helper{id: id}
		e.helping[id] = h
	}
	e.arm(&h.recoverBy, time.Time{})
	e.arm(&h.reconnectBy, e.now.Add(wait))
	e.log.Info("ldp graceful restart: keeping the neighbour's labels, stale, while it restarts", "lsr-id", id, "reconnect-within", wait)
	e.toLIB(e.labels.NeighborStale(id))
}

// stopHelping forgets the helper state of id, if any, without touching the
// LIB.
func (e *Engine) stopHelping(id netip.Addr) {
	if h := e.helping[id]; h != nil {
		e.arm(&h.reconnectBy, time.Time{})
		e.arm(&h.recoverBy, time.Time{})
		delete(e.helping, id)
	}
}

// sweepStale ends the helper state of id: what the LIB still has stale
// goes.
func (e *Engine) sweepStale(id netip.Addr, why string) {
	if e.helping[id] == nil {
		return
	}
	e.log.Info("ldp graceful restart: deleting the neighbour's stale labels", "lsr-id", id, "why", why, "stale", e.labels.StaleBindings(id))
	e.stopHelping(id)
	e.toLIB(e.labels.SweepStale(id))
}

// helperReconnected is called when the session with a neighbour reaches
// OPERATIONAL, before the LIB hears NeighborUp: a neighbour in reconnect
// wait starts its recovery for the lesser of its Recovery Time and ours,
// or has its stale labels deleted at once when it preserved nothing
// (Recovery Time 0, or no FT Session TLV any more).
func (e *Engine) helperReconnected(s *session) {
	h := e.helping[s.nbr.id]
	if h == nil {
		return
	}
	var rec time.Duration
	if s.peerGR() && e.cfg.GracefulRestart.Enabled {
		rec = min(msDuration(s.peerFT.RecoveryTime), e.cfg.GracefulRestart.RecoveryTime)
	}
	if rec <= 0 {
		e.sweepStale(h.id, "neighbour came back without preserved forwarding state")
		return
	}
	e.arm(&h.reconnectBy, time.Time{})
	e.arm(&h.recoverBy, e.now.Add(rec))
	e.log.Info("ldp graceful restart: neighbour back, recovering", "lsr-id", h.id, "recover-within", rec)
}

// endOfLIB handles an End-of-LIB notification (RFC 5919) from an
// OPERATIONAL session: the peer has re-advertised everything, so a
// recovering neighbour's labels still stale are gone for good, and this
// LSR's own restart may be over.
func (e *Engine) endOfLIB(s *session) {
	s.eolReceived = true
	id := s.nbr.id
	if h := e.helping[id]; h != nil && !h.recoverBy.IsZero() {
		e.sweepStale(id, "End-of-LIB received")
	}
	if r := e.restart; r != nil && !r.until.IsZero() && r.waiting[id] {
		delete(r.waiting, id)
		if len(r.waiting) == 0 {
			e.recovered(false)
		}
	}
}

// expireHelpers fires the helper deadlines due at now.
func (e *Engine) expireHelpers() {
	for _, id := range sortedAddrs(e.helping) {
		h := e.helping[id]
		switch {
		case !h.reconnectBy.IsZero() && !h.reconnectBy.After(e.now):
			e.sweepStale(id, "neighbour did not reconnect in time")
		case !h.recoverBy.IsZero() && !h.recoverBy.After(e.now):
			e.sweepStale(id, "recovery time over")
		}
	}
}

// forwardingPreserved starts this LSR's own restart.
func (e *Engine) forwardingPreserved(ev ForwardingPreserved) {
	if e.restart != nil {
		return // once per run
	}
	e.restart = &restartState{waiting: map[netip.Addr]bool{}}
	if !e.cfg.GracefulRestart.Enabled {
		e.log.Info("ldp: forwarding state preserved but graceful restart is not enabled: recovered at once")
		e.recovered(false)
		return
	}
	for _, id := range ev.Peers {
		e.restart.waiting[id] = true
	}
	e.arm(&e.restart.until, e.now.Add(e.cfg.GracefulRestart.RecoveryTime))
	e.log.Info("ldp graceful restart: restarted with forwarding preserved", "recovery-time", e.cfg.GracefulRestart.RecoveryTime, "expected-neighbours", len(ev.Peers))
}

// expireRestart ends this LSR's restart when its Recovery Time is over.
func (e *Engine) expireRestart() {
	if r := e.restart; r != nil && !r.until.IsZero() && !r.until.After(e.now) {
		e.recovered(true)
	}
}

// recovered ends this LSR's restart: seeded labels not claimed are
// released and the runtime hears LDPRecovered.
func (e *Engine) recovered(expired bool) {
	r := e.restart
	e.arm(&r.until, time.Time{})
	a := LDPRecovered{Expired: expired && len(r.waiting) > 0}
	if a.Expired {
		a.Missing = sortedAddrs(r.waiting)
	}
	clear(r.waiting)
	e.log.Info("ldp graceful restart: recovered", "recovery-time-expired", expired, "missing", a.Missing)
	e.toLIB(e.labels.DropSeed())
	for _, id := range sortedAddrs(e.nbrs) {
		if s := e.nbrs[id].sess; s != nil && s.eolOwed && !s.closed {
			s.eolOwed = false
			e.sendEndOfLIB(s)
		}
	}
	e.emit(a)
}

// Recovering reports whether this LSR's own restart is still in progress
// (after ForwardingPreserved, before LDPRecovered).
func (e *Engine) Recovering() bool {
	return e.restart != nil && !e.restart.until.IsZero()
}

// GRPeers returns the LSR IDs of the neighbours whose OPERATIONAL session
// negotiated graceful restart: what the daemon saves, for ForwardingPreserved
// after its next restart.
func (e *Engine) GRPeers() []netip.Addr {
	var out []netip.Addr
	for _, id := range sortedAddrs(e.nbrs) {
		if s := e.nbrs[id].sess; s != nil && s.state == Operational && s.peerGR() {
			out = append(out, id)
		}
	}
	return out
}

// gracefulRestartOff applies a configuration that turned graceful restart
// off: neighbours' stale labels go now, and this LSR's own restart ends.
func (e *Engine) gracefulRestartOff() {
	for _, id := range sortedAddrs(e.helping) {
		e.sweepStale(id, "graceful restart turned off")
	}
	if e.Recovering() {
		e.recovered(false)
	}
}
