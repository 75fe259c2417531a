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
