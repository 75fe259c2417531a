package netlinkfib

import "golang.org/x/sys/unix"

// DefaultProtocol is the rtm_protocol (and nh_protocol) value lsrd writes on
// every route and nexthop object it installs unless configured otherwise,
// and the only one it touches once a start's adoption is over.
//
// 234 is in no routing daemon's use: FRR's zebra treats 11, 42 and 186-198
// as its own (is_selfroute in zebra/rt_netlink.c: it ignores their
// notifications and sweeps them at its start), BIRD writes 12 by default,
// and iproute2's rt_protos names nothing above 192 but FRR's. Operators see
// "proto 234" in `ip route` and `ip -f mpls route`, or lsrd's name with an
// rt_protos entry.
const DefaultProtocol uint8 = 234

// LegacyProtocol is the number lsrd used before it had its own (RTPROT_LDP,
// which zebra counts as FRR's ldpd). A start adopts what an earlier lsrd
// left with it, and moves it to the configured number; after that start's
// sweep, routes of this number are someone else's again.
const LegacyProtocol uint8 = 193

// Nexthop object IDs lsrd allocates: the block whose top byte is the route
// protocol number, so `ip nexthop show` tells lsrd's objects apart at a
// glance and a foreign object with a small ID never collides with ours.
//
// The top of the block is split among the VRFs' FIBs (WithVRF), a slot of
// IDs each, so that no FIB takes another's objects for garbage.
type idBlock struct{ first, last uint32 }

// VRFSlots is how many VRF FIBs one protocol's block has room for; a VRF's
// slot is its table modulo VRFSlots.
// A VRF's slot holds 32,768 objects: one per (gateway, interface, label
// stack), so a VRF of routes through one provider edge with a label per
// prefix (per-prefix mode there) holds at most that many prefixes.
const (
	VRFSlots    = 256
	vrfSlotSize = 1 << 15
	vrfRegion   = VRFSlots * vrfSlotSize
)

// wholeBlock is every ID of proto's block (an earlier lsrd's, adopted, may
// be anywhere in it).
func wholeBlock(proto uint8) idBlock {
	first := uint32(proto) << 24
	return idBlock{first: first, last: first + 1<<24 - 1}
}

// blockOf is the main FIB's part of proto's block: all but the VRFs'.
func blockOf(proto uint8) idBlock {
	b := wholeBlock(proto)
	b.last -= vrfRegion
	return b
}

// vrfBlockOf is the IDs of the VRF FIB of a table.
func vrfBlockOf(proto uint8, table uint32) idBlock {
	first := wholeBlock(proto).last - vrfRegion + 1 + (table%VRFSlots)*vrfSlotSize
	return idBlock{first: first, last: first + vrfSlotSize - 1}
}

func (b idBlock) holds(id uint32) bool { return id >= b.first && id <= b.last }

// Kernel uapi values golang.org/x/sys/unix lacks.
const (
	rtaNHID = 30 // RTA_NH_ID: u32, the nexthop object a route uses
	nhaFDB  = 11 // NHA_FDB: flag, a nexthop for the bridge FDB

	// mplsLabelBOS is the bottom-of-stack bit of a label stack entry
	// (RFC 3032 section 2.1); the label sits in the top 20 bits.
	mplsLabelBOS   = 1 << 8
	mplsLabelShift = 12

	// nlmsgerrAttrOffset: with NETLINK_CAP_ACK the kernel leaves the
	// request's payload out of an error, so the extended-ack TLVs start
	// right after struct nlmsgerr (int error + struct nlmsghdr).
	nlmsgerrAttrOffset = 4 + unix.SizeofNlMsghdr
)

// owner says which kernel objects are lsrd's: those of its protocol (and, for
// nexthop objects, with an ID in its block or the legacy block), and during
// a start's adoption also those of the legacy protocol.
type owner struct {
	proto  uint8
	legacy uint8 // 0: none
	block  idBlock
}

func newOwner(proto, legacy uint8) owner {
	if legacy == proto {
		legacy = 0
	}
	return owner{proto: proto, legacy: legacy, block: blockOf(proto)}
}

// route reports whether a route of protocol p is lsrd's; adopting is true
// until the start's sweep.
func (o owner) route(p uint8, adopting bool) bool {
	return p == o.proto || (adopting && o.legacy != 0 && p == o.legacy)
}

// nexthop reports whether a nexthop object is lsrd's. An object adopted
// from the legacy number keeps its ID when it is replaced in place, so the
// legacy block stays lsrd's for objects of lsrd's protocol.
func (o owner) nexthop(p uint8, id uint32, adopting bool) bool {
	inLegacy := o.legacy != 0 && wholeBlock(o.legacy).holds(id)
	switch {
	case p == o.proto:
		return o.block.holds(id) || inLegacy
	case adopting && o.legacy != 0 && p == o.legacy:
		return inLegacy
	}
	return false
}
