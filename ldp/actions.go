package ldp

import (
	"net/netip"

	"github.com/lsrd/lsrd/fib"
)

// Action is an output of the engine: something the runtime must do on its
// behalf. The engine never performs I/O itself.
type Action interface{ isAction() }

// ConnID names a TCP connection between the engine and its runtime. The
// engine chooses the IDs of the connections it dials and always sets DialBit
// in them; the runtime chooses the IDs of accepted connections and must
// leave DialBit clear, so the two never collide.
type ConnID uint64

// DialBit marks the ConnIDs the engine allocates for Dial.
const DialBit ConnID = 1 << 63

// AllHellosGroup is the all-routers group basic hellos are sent to (RFC 5036
// section 2.4.1).
var AllHellosGroup = netip.AddrFrom4([4]byte{224, 0, 0, 2})

// Port is the LDP port for both UDP discovery and TCP sessions (RFC 5036
// section 2.4).
const Port = 646

// JoinMulticast asks the runtime to join the link hellos' group of Family
// on Ifname: 224.0.0.2, or ff02::2 for IPv6. Some links (ZeroTier among
// them) deliver only the groups an interface joined.
type JoinMulticast struct {
	Ifname string
	Family Family
}

// LeaveMulticast asks the runtime to leave the group JoinMulticast joined.
type LeaveMulticast struct {
	Ifname string
	Family Family
}

// SendHello asks the runtime to send a UDP datagram from port 646. For a Link
// Hello Dst is 224.0.0.2:646 and the datagram leaves on Ifname with TTL 255 (RFC 6720);
// for a Targeted Hello Ifname is empty and Dst is the target.
type SendHello struct {
	Ifname string
	Src    netip.Addr // for a Targeted Hello: the address to send from
	Dst    netip.AddrPort
	Data   []byte
}

// Dial asks the runtime to open a TCP connection from Local (port 0: any)
// to Remote and to report ConnEstablished or ConnFailed for Conn.
type Dial struct {
	Conn          ConnID
	Local, Remote netip.AddrPort
	// AuthKey is the TCP-MD5 key the connection is signed with; empty
	// for none.
	AuthKey string
	// MinTTL drops the connection's segments that arrive with a lower
	// TTL (GTSM); 0 for no check.
	MinTTL int
}

// Send asks the runtime to write Data, one or more whole PDUs, on Conn.
type Send struct {
	Conn ConnID
	Data []byte
}

// Close asks the runtime to close Conn after writing what was sent on it.
// The engine has forgotten Conn: events about it are ignored. It is also
// emitted for a Conn the runtime reported failed or closed, so that the
// runtime frees it in one place; closing twice must be harmless.
type Close struct{ Conn ConnID }

// FIBChanged carries the LIB's desired forwarding state after it changed:
// the whole table from Handle, or from FlushFIB (Engine.BatchFIB) only what
// changed since the previous FlushFIB (the first has everything). The table
// is the engine's own copy and the receiver may keep it; a Delta's entries
// are shared and must not be changed.
type FIBChanged struct {
	Table *fib.Table
	Delta *fib.Delta
}

// SessionState reports a session state transition (RFC 5036 section 2.5.4)
// for logs and metrics.
type SessionState struct {
	LSRID    netip.Addr
	Conn     ConnID // the session's connection
	From, To State
}

func (JoinMulticast) isAction()  {}
func (LeaveMulticast) isAction() {}
func (SendHello) isAction()      {}
func (Dial) isAction()           {}
func (Send) isAction()           {}
func (Close) isAction()          {}
func (FIBChanged) isAction()     {}
func (SessionState) isAction()   {}
