package netlinkfib

import "golang.org/x/sys/unix"

// RouteProtocol is the rtm_protocol (and nh_protocol) value lsrd writes on
// every route and nexthop object it installs, and the only one it ever
// touches. 193 is RTPROT_LDP in the kernel's uapi and "ldp" in iproute2's
// rt_protos, so operators see "proto ldp" in `ip route` and `ip -f mpls
// route`. (FRR's zebra uses the same number for its ldpd routes: lsrd and
// FRR's ldpd must not run in the same namespace.)
const RouteProtocol = 193

// Nexthop object IDs lsrd allocates: the block whose top byte is the route
// protocol number, so `ip nexthop show` tells lsrd's objects apart at a
// glance and a foreign object with a small ID never collides with ours.
const (
	NexthopIDFirst uint32 = RouteProtocol << 24
	NexthopIDLast  uint32 = NexthopIDFirst + 1<<24 - 1
)

// Kernel uapi values golang.org/x/sys/unix lacks.
const (
	rtaNHID     = 30     // RTA_NH_ID: u32, the nexthop object a route uses
	nhaFDB      = 11     // NHA_FDB: flag, a nexthop for the bridge FDB
	nlaTypeMask = 0x3fff // strips NLA_F_NESTED and NLA_F_NET_BYTEORDER

	// mplsLabelBOS is the bottom-of-stack bit of a label stack entry
	// (RFC 3032 section 2.1); the label sits in the top 20 bits.
	mplsLabelBOS   = 1 << 8
	mplsLabelShift = 12

	// nlmsgerrAttrOffset: with NETLINK_CAP_ACK the kernel leaves the
	// request's payload out of an error, so the extended-ack TLVs start
	// right after struct nlmsgerr (int error + struct nlmsghdr).
	nlmsgerrAttrOffset = 4 + unix.SizeofNlMsghdr
)

// ownedNexthopID reports whether id lies in lsrd's block.
func ownedNexthopID(id uint32) bool { return id >= NexthopIDFirst && id <= NexthopIDLast }
