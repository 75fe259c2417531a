// Package lib is lsrd's label decision part (the LIB, after OpenBSD ldpd's
// lde): which FEC gets which local label, what each neighbour told us, and the
// forwarding state (LFIB and FTN) that follows.
//
// It is driven by the LDP engine with plain calls (a route changed, a
// neighbour's session came up, a label message arrived) and answers with the
// label messages to send. It never touches a socket, a timer or the kernel;
// its result is the desired fib.Table, which lsrd's parent hands to the kernel
// layer.
package lib

import (
	"net/netip"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/ldp/wire"
	"github.com/lsrd/lsrd/rib"
)

// Control is the LSP control mode (RFC 5036 section 2.6.1).
type Control uint8

const (
	// Ordered control (the default): a mapping for a FEC is advertised only
	// when this LSR is its egress or already has a mapping from the FEC's
	// next hop.
	Ordered Control = iota
	// Independent control: a mapping is advertised as soon as the FEC exists.
	Independent
)

// Config is the LIB's policy.
type Config struct {
	LabelMin, LabelMax fib.Label // allocation range, inclusive (>= 16)
	Control            Control
	// ExplicitNull advertises explicit-null (0) instead of implicit-null (3)
	// for FECs this LSR is egress for.
	ExplicitNull bool
	// Allocate says which routes become FECs; nil means every route.
	Allocate func(rib.Route) bool
}

// Outgoing is a label message the engine must send to a neighbour. The
// engine assigns message IDs.
type Outgoing struct {
	Peer netip.Addr // the neighbour's LSR ID
	Msg  wire.Message
}

// Binding is one FEC's labels, for operators (lsrctl show ldp bindings).
type Binding struct {
	FEC        netip.Prefix
	LocalLabel fib.Label // 0 with HasLocal false when none is allocated
	HasLocal   bool
	Remote     []RemoteBinding
}

// RemoteBinding is a label a neighbour advertised for a FEC, and whether it is
// in use (the neighbour is the FEC's next hop).
type RemoteBinding struct {
	Peer  netip.Addr
	Label fib.Label
	InUse bool
}
