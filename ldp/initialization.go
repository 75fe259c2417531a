package ldp

import (
	"time"

	"github.com/lsrd/lsrd/ldp/wire"
)

// ourCapabilities are the RFC 5561 capabilities lsrd advertises in
// Initialization: Dynamic Capability Announcement (RFC 5561), Typed Wildcard
// FEC (RFC 5918) and Unrecognized Notification (RFC 5919).
var ourCapabilities = []wire.TLVType{
	wire.TLVDynamicAnnouncementCap,
	wire.TLVTypedWildcardFECCap,
	wire.TLVUnrecognizedNotifCap,
}

// initMessage builds our Initialization message for n (section 3.5.3):
// Downstream Unsolicited, no loop detection, our KeepAlive time and Max PDU
// Length proposals, and n's LDP Identifier as the receiver.
func (e *Engine) initMessage(n *neighbor) *wire.Initialization {
	m := &wire.Initialization{Session: wire.CommonSessionParams{
		ProtocolVersion: wire.Version,
		KeepAliveTime:   uint16(e.cfg.KeepAlive / time.Second),
		MaxPDULength:    e.cfg.MaxPDULength,
		ReceiverID:      n.ldpID(),
	}}
	for _, t := range ourCapabilities {
		m.Capabilities = append(m.Capabilities, wire.CapabilityParam{Type: t, State: true})
	}
	m.FT = e.ftSession()
	return m
}

// sendInit sends our Initialization on s and remembers whether it offered
// graceful restart.
func (e *Engine) sendInit(s *session) {
	m := e.initMessage(s.nbr)
	s.sentFT = m.FT != nil
	e.sendMessages(s, m)
}

// negotiateKeepAlive returns the session KeepAlive time: the smaller of
// both proposals (section 3.5.3). A proposal of 0 is invalid and rejected
// before this is called.
func negotiateKeepAlive(local time.Duration, remote uint16) time.Duration {
	return min(local, time.Duration(remote)*time.Second)
}

// negotiateMaxPDU returns the Max PDU Length of the session: the smaller of
// both proposals, a value of 255 or less meaning 4096 (section 3.5.3).
func negotiateMaxPDU(local, remote uint16) int {
	r := int(remote)
	if r <= 255 {
		r = wire.DefaultMaxPDULen
	}
	return min(int(local), r)
}

// acceptInit checks the peer's Initialization and applies its parameters.
// It returns the status to reject the session with, or noNotification.
func (e *Engine) acceptInit(s *session, m *wire.Initialization) wire.StatusCode {
	p := m.Session
	switch {
	case p.ProtocolVersion != wire.Version:
		return wire.StatusBadProtocolVersion
	case p.ReceiverID != (wire.LDPID{LSRID: e.cfg.LSRID}):
		// Section 3.5.3, Receiver LDP Identifier: when it matches no
		// Hello adjacency the LSR "MUST send a Session Rejected/No Hello
		// Notification message in response to the Initialization
		// message and not establish the session".
		return wire.StatusSessionRejectedNoHello
	case p.KeepAliveTime == 0:
		return wire.StatusSessionRejectedBadKeepAlive
	}
	// A Downstream on Demand proposal is not rejected: section 3.5.3 has
	// both sides use Downstream Unsolicited on a non-ATM, non-Frame Relay
	// session when the proposals differ.
	s.keepAlive = negotiateKeepAlive(e.cfg.KeepAlive, p.KeepAliveTime)
	s.maxPDU = negotiateMaxPDU(e.cfg.MaxPDULength, p.MaxPDULength)
	e.restartHold(s)
	s.peerFT = nil
	if m.FT != nil {
		ft := *m.FT
		s.peerFT = &ft
	}
	s.peerCaps = map[wire.TLVType]bool{}
	for _, c := range m.Capabilities {
		if c.State {
			s.peerCaps[c.Type] = true
		}
	}
	return noNotification
}

// initPhase handles a message before the session is OPERATIONAL, following
// the state machine of section 2.5.4.
func (e *Engine) initPhase(s *session, m wire.Message) {
	if n, ok := m.(*wire.Notification); ok {
		e.notification(s, n)
		return
	}
	switch {
	case s.state == Initialized && !s.active && m.Type() == wire.MsgInitialization,
		s.state == OpenSent && m.Type() == wire.MsgInitialization:
		if code := e.acceptInit(s, m.(*wire.Initialization)); code != noNotification {
			e.log.Info("ldp: session rejected", "lsr-id", s.nbr.id, "status", code.String())
			e.closeSession(s, code)
			return
		}
		if s.state == Initialized {
			// The passive side answers with its own Initialization
			// and a KeepAlive (section 2.5.3).
			e.sendInit(s)
		}
		e.sendMessages(s, &wire.KeepAlive{})
		e.setState(s, OpenRec)
		e.restartHold(s) // the negotiated KeepAlive time from now on
	case s.state == OpenRec && m.Type() == wire.MsgKeepAlive:
		e.enterOperational(s)
	default:
		if r, ok := m.(*wire.RawMessage); ok && r.U {
			return // an unknown message the peer wants ignored
		}
		// Any other message is a protocol error that ends the attempt
		// (section 2.5.4: "send error notification msg (NAK)").
		e.closeSession(s, wire.StatusShutdown)
	}
}

// enterOperational completes the session: advertise our interface
// addresses (section 2.6.1's next hop mapping needs them), hand the peer to
// the LIB for its initial label advertisement and, when the peer understands
// it, mark the end of that advertisement (RFC 5919 section 3).
func (e *Engine) enterOperational(s *session) {
	e.setState(s, Operational)
	s.operational = true
	e.counts.peer(s.nbr.id).reachedOp = true
	e.restartHold(s)
	e.resetBackoff(s.nbr)
	e.arm(&s.nextKeepAlive, e.now.Add(s.keepAlive/3))
	e.log.Info("ldp session operational", "lsr-id", s.nbr.id, "keepalive", s.keepAlive, "max-pdu", s.maxPDU)
	for _, af := range s.nbr.families.list() {
		if addrs := addrsOf(e.localAddrs(), af); len(addrs) > 0 {
			e.sendMessages(s, &wire.Address{Addresses: wire.AddressList{Family: af, Addrs: addrs}})
		}
	}
	e.helperReconnected(s)
	e.toLIB(e.labels.NeighborUp(s.nbr.id, s.nbr.families.list()...))
	if !s.closed && s.peerCaps[wire.TLVUnrecognizedNotifCap] {
		if e.Recovering() {
			// Our LIB is not complete until our own restart has
			// recovered (labels wait for downstream sessions still
			// coming back): a helper ends its recovery at End-of-LIB
			// and would delete the stale labels we have yet to send.
			s.eolOwed = true
		} else {
			e.sendEndOfLIB(s)
		}
	}
}

// sendEndOfLIB marks the end of the initial advertisement of every family
// the session serves (RFC 5919 section 3, per family as RFC 7552 has it).
func (e *Engine) sendEndOfLIB(s *session) {
	for _, af := range s.nbr.families.list() {
		e.sendMessages(s, wire.NewEndOfLIB(0, af))
	}
}
