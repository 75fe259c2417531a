package ldp

import (
	"net/netip"

	"github.com/lsrd/lsrd/rib"
)

// Event is an input to the engine. Everything the engine learns about the
// world (sockets, timers, interfaces, routes, configuration) arrives as an
// Event through Engine.Handle, so that a recorded list of events replays a
// run exactly.
type Event interface{ isEvent() }

// Tick tells the engine that the time passed to Handle has come: every timer
// due at or before it fires. The runtime sends it at NextDeadline.
type Tick struct{}

// Continue has the engine do the next piece of work it cut up itself (a
// closed session's labels released, a piece at a time: Pending). The
// runtime sends it while Pending, with its other events between.
type Continue struct{}

// InterfaceUp reports an interface that is up, with its addresses. It is
// sent again when the addresses change; the engine advertises interface
// addresses to its peers (RFC 5036 section 3.5.5) whether or not LDP runs on
// the interface.
type InterfaceUp struct {
	Name  string
	Index int
	Addrs []netip.Prefix
}

// InterfaceDown reports an interface that went down or disappeared.
type InterfaceDown struct{ Name string }

// HelloReceived is a UDP datagram received from port 646: a Link Hello
// (Targeted false, received on Ifname for 224.0.0.2) or a Targeted Hello
// (Targeted true, received unicast on Dst).
type HelloReceived struct {
	Ifname   string
	Src      netip.AddrPort
	Dst      netip.Addr
	Targeted bool
	Data     []byte
	// TTL is the datagram's IP TTL, 0 when the runtime does not know it
	// (GTSM, gtsm.go).
	TTL int
}

// ConnAccepted reports an incoming TCP connection on port 646. Conn is
// chosen by the runtime and must not have DialBit set.
type ConnAccepted struct {
	Conn          ConnID
	Local, Remote netip.AddrPort
	// Authenticated: the runtime had a TCP-MD5 key for Remote installed
	// (SetAuth) when it accepted the connection, so the kernel checks
	// every segment of it.
	Authenticated bool
}

// ConnEstablished reports that the connection of an earlier Dial completed.
type ConnEstablished struct{ Conn ConnID }

// ConnFailed reports that the connection of an earlier Dial failed.
type ConnFailed struct {
	Conn ConnID
	Err  error
}

// ConnData carries bytes read from a connection. They are a piece of a byte
// stream: a PDU may be split over several events or several PDUs coalesced
// in one; the engine frames them itself (RFC 5036 section 3.1).
type ConnData struct {
	Conn ConnID
	Data []byte
}

// ConnAlive reports that bytes arrived on a connection at the time passed
// to Handle, while the ConnData carrying them still waits behind other work:
// the runtime delivers it ahead of that work so that a peer that is talking
// never has its session expire in a queue (section 2.5.6 restarts the hold
// timer on every PDU; the bytes are at least part of one). It only restarts
// the hold timer of an OPERATIONAL session; before that, only whole PDUs
// count.
type ConnAlive struct{ Conn ConnID }

// ConnClosed reports that a connection was closed by the peer or failed.
type ConnClosed struct {
	Conn ConnID
	Err  error
}

// RouteUpdate reports a best route from the RIB, for the LIB.
type RouteUpdate struct{ Route rib.Route }

// RouteDelete reports that the RIB no longer has a route to Prefix.
type RouteDelete struct{ Prefix netip.Prefix }

// RoutesChanged carries many RIB changes at once (a kernel resync, a
// configuration reload): the engine publishes the forwarding state once for
// the whole batch rather than once per route. Deletes apply first.
type RoutesChanged struct {
	Updates []rib.Route
	Deletes []netip.Prefix
}

// ConfigChanged hands the engine a new configuration. The engine applies the
// difference: what did not change keeps running undisturbed.
type ConfigChanged struct{ Config Config }

// ClearNeighbor is an operator's reset of the session with the LSR whose
// LSR ID is LSRID ("clear ldp neighbor").
type ClearNeighbor struct{ LSRID netip.Addr }

func (Tick) isEvent()            {}
func (Continue) isEvent()        {}
func (InterfaceUp) isEvent()     {}
func (InterfaceDown) isEvent()   {}
func (HelloReceived) isEvent()   {}
func (ConnAccepted) isEvent()    {}
func (ConnEstablished) isEvent() {}
func (ConnFailed) isEvent()      {}
func (ConnData) isEvent()        {}
func (ConnAlive) isEvent()       {}
func (ConnClosed) isEvent()      {}
func (RouteUpdate) isEvent()     {}
func (RouteDelete) isEvent()     {}
func (RoutesChanged) isEvent()   {}
func (ConfigChanged) isEvent()   {}
func (ClearNeighbor) isEvent()   {}
