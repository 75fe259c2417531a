package ldp

import (
	"github.com/lsrd/lsrd/ldp/wire"
)

// pduOverhead is what a PDU adds to its messages as counted by the PDU
// Length field: the LDP Identifier (section 3.1).
const pduOverhead = wire.HeaderLen - 4

// sendMessages assigns Message IDs to msgs and sends them on s, packed into
// as few PDUs as the session's Max PDU Length allows (section 3.5.3). A
// message too long for one PDU is split when its content is a list
// (splitToFit); one that still cannot fit is dropped with an error.
func (e *Engine) sendMessages(s *session, msgs ...wire.Message) {
	if s.closed || !s.connected {
		return
	}
	room := s.maxPDU - pduOverhead
	var pending []byte // encoded messages of the PDU being filled
	flush := func() {
		if len(pending) == 0 {
			return
		}
		e.emit(Send{Conn: s.conn, Data: e.frame(pending)})
		pending = nil
	}
	for _, m := range msgs {
		for _, m := range splitToFit(m, room) {
			s.msgID++
			m.SetMessageID(s.msgID)
			b, err := wire.AppendMessage(nil, m)
			if err != nil {
				e.log.Error("ldp: cannot encode message", "lsr-id", s.peerName(), "type", m.Type().String(), "err", err)
				continue
			}
			if len(b) > room {
				e.log.Error("ldp: message longer than the session's max PDU length and not splittable, dropped",
					"peer", s.peerName(), "type", m.Type().String(), "msg-len", len(b), "pdu-len", pduOverhead+len(b), "max-pdu", s.maxPDU)
				continue
			}
			if len(pending)+len(b) > room {
				flush()
			}
			pending = append(pending, b...)
			e.counts.message(s, m, true)
		}
	}
	flush()
	if s.state == Operational {
		// KeepAlives are only needed when nothing else is sent
		// (section 2.5.6).
		e.arm(&s.nextKeepAlive, e.now.Add(s.keepAlive/3))
	}
}

// frame wraps encoded messages in a PDU header with our LDP Identifier.
func (e *Engine) frame(msgs []byte) []byte {
	b := make([]byte, 0, wire.HeaderLen+len(msgs))
	n := pduOverhead + len(msgs)
	a := e.cfg.LSRID.As4()
	b = append(b, 0, wire.Version, byte(n>>8), byte(n))
	b = append(b, a[:]...)
	b = append(b, 0, 0) // label space 0: platform-wide
	return append(b, msgs...)
}

// notify sends a Notification carrying st (section 3.5.1).
func (e *Engine) notify(s *session, st wire.Status) {
	e.log.Info("ldp: sending notification", "lsr-id", s.peerName(), "status", st.Code.String(), "fatal", st.Fatal)
	if st.Fatal && s.connected && !s.closed {
		s.endedBy("reason", "notification sent", "status", st.Code.String())
	}
	e.sendMessages(s, &wire.Notification{Status: st})
}
