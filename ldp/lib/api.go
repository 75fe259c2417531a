// Package lib is lsrd's label decision part (the LIB, after OpenBSD ldpd's
// lde): which FEC gets which local label, what each neighbour told us, and the
// forwarding state (LFIB and FTN) that follows.
//
// It is driven by the LDP engine with plain calls (a route changed, a
// neighbour's session came up, a label message arrived) and answers with the
// label messages to send. It never touches a socket, a timer or the kernel;
// its result is the desired fib.Table, which lsrd's parent hands to the kernel
// layer.
//
// The LIB implements RFC 5036 downstream unsolicited advertisement with
// liberal label retention, ordered or independent control, for Prefix FECs
// of any address family. Where the RFC leaves room it chooses:
//
//   - One local label per FEC from Config's range; egress FECs (directly
//     attached, or a host prefix of one of this LSR's addresses) advertise
//     implicit null, or explicit null when configured, and use no label.
//   - A withdrawn label stays reserved until every peer that got it released
//     it or lost its session (section 3.5.10); a new mapping for the same FEC
//     to that peer waits for the release. An exhausted range leaves the FEC
//     without a label; it is retried when labels are freed, and peers refused
//     one get "Label Resources Available".
//   - A neighbour's label serves a next hop only if the neighbour listed the
//     next hop address in an Address message (section 2.7). Next hops without
//     a usable label forward unlabelled (the LFIB pops), as FRR and Cisco do.
//   - Label Requests are answered at once (a mapping with the Label Request
//     Message ID TLV, "No Route" or "No Label Resources"), except that under
//     ordered control a request for a FEC still waiting for its downstream
//     mapping stays pending; only such a request can be aborted.
//   - No loop detection: Hop Count and Path Vector are ignored (section 2.8
//     makes it optional).
package lib

import (
	"net/netip"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/ldp/fec"

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
	// MaxUnroutedPerPeer bounds the labels kept from one peer for FECs
	// this LSR has no route to: liberal retention's spares (RFC 5036
	// section 2.6.2.2), the only labels a peer can make the LIB keep
	// without limit. Beyond it a mapping for such a FEC is released at
	// once (section 3.5.7.1), and when a route to one of them appears
	// later the LIB asks the peer again with a Label Request. Labels for
	// FECs with a route are always kept: the RIB bounds those. Zero means
	// no bound.
	MaxUnroutedPerPeer int
	// Seed is the local labels of the previous run (LocalLabels, saved by
	// the daemon) after a restart that kept the forwarding state in the
	// kernel (RFC 3478 section 3): each FEC gets its old label again when
	// it reappears, and no other FEC gets it meanwhile, so the LFIB entries
	// the kernel kept and the labels upstream neighbours push stay right.
	// Labels outside the range are ignored. What is not claimed is
	// released by DropSeed, when recovery ends. Nil: start fresh.
	Seed map[fec.FEC]fib.Label
}

// Outgoing is a label message the engine must send to a neighbour. The
// engine assigns message IDs.
type Outgoing struct {
	Peer netip.Addr // the neighbour's LSR ID
	Msg  wire.Message
}

// Binding is api.LDPBinding, the control API's wire type.
type Binding = api.LDPBinding

// RemoteBinding is api.LDPRemoteBinding, the control API's wire type.
type RemoteBinding = api.LDPRemoteBinding

// Stats is api.LIBStats, the control API's wire type.
type Stats = api.LIBStats
