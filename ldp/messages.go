package ldp

import (
	"encoding/binary"

	"github.com/lsrd/lsrd/ldp/wire"
)

// handleMessage dispatches one received message of a bound session.
func (e *Engine) handleMessage(s *session, m wire.Message) {
	if s.state != Operational {
		e.initPhase(s, m)
		return
	}
	id := s.nbr.id
	if !e.messageFamilyOK(s, m) {
		return
	}
	switch m := m.(type) {
	case *wire.KeepAlive:
		// Its only job, restarting the hold timer, is done for every PDU.
	case *wire.Notification:
		e.notification(s, m)
	case *wire.Address:
		e.toLIB(e.labels.NeighborAddresses(id, m.Addresses.Addrs))
	case *wire.AddressWithdraw:
		e.toLIB(e.labels.NeighborAddressesWithdrawn(id, m.Addresses.Addrs))
	case *wire.LabelMapping, *wire.LabelRequest, *wire.LabelWithdraw, *wire.LabelRelease, *wire.LabelAbortRequest:
		e.log.Debug("ldp: label message in", "lsr-id", id, "message", described{m})
		before := e.labels.UnroutedRefused()
		e.toLIB(e.labels.LabelMessage(id, m))
		if n := e.labels.UnroutedRefused() - before; n > 0 {
			e.limitHitN(LimitUnroutedLabels, n, "lsr-id", id)
		}
	case *wire.Capability:
		e.capability(s, m)
	case *wire.RawMessage:
		// An unknown message with U=1 (section 3.5: ignore silently);
		// those with U=0 were reported by the codec and skipped.
	case *wire.Hello:
		// Hellos belong to UDP discovery; one on a session is
		// meaningless but harmless.
	default:
		// Initialization on an OPERATIONAL session breaks the state
		// machine of section 2.5.4.
		e.closeSession(s, wire.StatusShutdown)
	}
}

// notification handles a received Notification (section 3.5.1): an error
// with the E bit ends the session (the peer has already closed its side),
// an advisory one concerns labels and goes to the LIB once OPERATIONAL.
func (e *Engine) notification(s *session, m *wire.Notification) {
	if m.Status.Fatal {
		e.log.Info("ldp: session closed by peer", "lsr-id", s.peerName(), "status", m.Status.Code.String())
		s.endedBy("reason", "notification received", "status", m.Status.Code.String())
		// No Hello: the peer had not got ours yet. Shutdown before
		// OPERATIONAL: the peer started over (its route to us moved).
		s.curable = m.Status.Code == wire.StatusSessionRejectedNoHello ||
			m.Status.Code == wire.StatusShutdown && s.state != Operational
		e.closeSession(s, noNotification)
		return
	}
	if s.state == Operational {
		if m.Status.Code == wire.StatusEndOfLIB {
			e.endOfLIB(s)
		}
		e.toLIB(e.labels.LabelMessage(s.nbr.id, m))
	}
}

// capability handles a Capability message (RFC 5561 section 6): record
// what the peer announces or withdraws, and answer capabilities we do not
// know with Unsupported Capability returning the TLV.
func (e *Engine) capability(s *session, m *wire.Capability) {
	for _, c := range m.Capabilities {
		if c.State {
			s.peerCaps[c.Type] = true
		} else {
			delete(s.peerCaps, c.Type)
		}
	}
	for _, t := range m.Unknown {
		n := &wire.Notification{Status: wire.NewStatus(wire.StatusUnsupportedCapability, m.MsgID, wire.MsgCapability), ReturnedTLVs: rawTLV(t)}
		e.sendMessages(s, n)
	}
}

// rawTLV re-encodes a TLV kept verbatim by the codec (section 3.3 layout).
func rawTLV(t wire.RawTLV) []byte {
	h := uint16(t.Type)
	if t.U {
		h |= 0x8000
	}
	if t.F {
		h |= 0x4000
	}
	b := binary.BigEndian.AppendUint16(nil, h)
	b = binary.BigEndian.AppendUint16(b, uint16(len(t.Value)))
	return append(b, t.Value...)
}
