package wire

// Known reports whether t is a message type the codec decodes: callers that
// count by type fold the others together, so a peer cannot mint new
// counters by sending made-up types.
func (t MsgType) Known() bool {
	_, ok := msgInfo[t]
	return ok
}

// Known reports whether c is a status code of the RFCs the codec knows.
func (c StatusCode) Known() bool {
	_, ok := statusTable[c]
	return ok
}

// SessionRejected reports whether c refuses a session initialization (RFC
// 5036 section 3.9: Session Rejected/No Hello, /Parameters Advertisement
// Mode, /Parameters Max PDU Length, /Parameters Label Range, /Bad
// KeepAlive Time).
func (c StatusCode) SessionRejected() bool {
	switch c {
	case StatusSessionRejectedNoHello, StatusSessionRejectedAdvertMode, StatusSessionRejectedMaxPDULength,
		StatusSessionRejectedLabelRange, StatusSessionRejectedBadKeepAlive:
		return true
	}
	return false
}
