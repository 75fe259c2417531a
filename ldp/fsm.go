package ldp

import "fmt"

// State is a session state of the RFC 5036 section 2.5.4 state machine.
type State uint8

// Session states (RFC 5036 section 2.5.4, figure "Session Initialization
// State Transition Diagram").
const (
	NonExistent State = iota
	Initialized
	OpenRec
	OpenSent
	Operational
)

// String returns the RFC name of the state.
func (s State) String() string {
	switch s {
	case NonExistent:
		return "NON EXISTENT"
	case Initialized:
		return "INITIALIZED"
	case OpenRec:
		return "OPENREC"
	case OpenSent:
		return "OPENSENT"
	case Operational:
		return "OPERATIONAL"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// setState moves s to a new state and reports the transition. Sessions of
// accepted connections are reported only once their peer is known.
func (e *Engine) setState(s *session, to State) {
	if s.state == to {
		return
	}
	from := s.state
	s.state = to
	s.since = e.now
	e.shape++
	if s.nbr != nil && from == Operational {
		e.counts.peer(s.nbr.id).Flaps++
	}
	if s.nbr != nil {
		e.emit(SessionState{LSRID: s.nbr.id, Conn: s.conn, From: from, To: to})
	}
}
