package netlinkfib

import (
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// nhMsg is struct nhmsg (linux/nexthop.h), the header of every nexthop
// object message; vishvananda/netlink v1.3.1 has no nexthop API.
type nhMsg struct {
	family   uint8
	scope    uint8 // the kernel fills it in; zero in requests
	protocol uint8
	flags    uint32
}

const sizeofNhMsg = 8

func (m *nhMsg) Len() int { return sizeofNhMsg }

func (m *nhMsg) Serialize() []byte {
	b := make([]byte, sizeofNhMsg)
	b[0], b[1], b[2] = m.family, m.scope, m.protocol
	nl.NativeEndian().PutUint32(b[4:], m.flags)
	return b
}

// nexthopRequest builds RTM_NEWNEXTHOP for a single object: NHA_ID, NHA_OIF,
// NHA_GATEWAY, and for a label push NHA_ENCAP_TYPE = LWTUNNEL_ENCAP_MPLS with
// NHA_ENCAP { MPLS_IPTUNNEL_DST = the stack }. nh_protocol carries lsrd's
// protocol so a dump tells its objects from others'.
func nexthopRequest(proto uint8, o nexthopObject, flags int) *nl.NetlinkRequest {
	fam := uint8(unix.AF_INET)
	var nhFlags uint32
	if o.hop.gw.Is6() {
		fam = unix.AF_INET6
	}
	if o.hop.gw.Is4In6() {
		// 6PE (RFC 4798): an IPv6 object whose gateway is an IPv4
		// address, mapped; on-link, since no IPv6 route covers it. The
		// kernel's MPLS encapsulation resolves such a gateway by ARP.
		nhFlags = unix.RTNH_F_ONLINK
	}
	req := newRequest(unix.RTM_NEWNEXTHOP, flags,
		&nhMsg{family: fam, protocol: proto, flags: nhFlags},
		nl.NewRtAttr(unix.NHA_ID, nl.Uint32Attr(o.id)),
		nl.NewRtAttr(unix.NHA_OIF, nl.Uint32Attr(uint32(o.hop.ifindex))))
	if o.hop.gw.IsValid() {
		req.AddData(nl.NewRtAttr(unix.NHA_GATEWAY, o.hop.gw.AsSlice()))
	}
	if len(o.hop.labels) > 0 {
		req.AddData(nl.NewRtAttr(unix.NHA_ENCAP_TYPE, nl.Uint16Attr(unix.LWTUNNEL_ENCAP_MPLS)))
		encap := nl.NewRtAttr(unix.NHA_ENCAP|unix.NLA_F_NESTED, nil)
		encap.AddRtAttr(unix.MPLS_IPTUNNEL_DST, encodeLabels(o.hop.labels))
		req.AddData(encap)
	}
	return req
}

// groupRequest builds RTM_NEWNEXTHOP for an ECMP group: family AF_UNSPEC and
// NHA_GROUP, an array of struct nexthop_grp { u32 id; u8 weight-1; u8; u16 },
// every member with equal weight (fib.NextHop has none).
func groupRequest(proto uint8, g groupObject, flags int) *nl.NetlinkRequest {
	b := make([]byte, 8*len(g.members))
	for i, id := range g.members {
		nl.NativeEndian().PutUint32(b[8*i:], id)
	}
	return newRequest(unix.RTM_NEWNEXTHOP, flags,
		&nhMsg{family: unix.AF_UNSPEC, protocol: proto},
		nl.NewRtAttr(unix.NHA_ID, nl.Uint32Attr(g.id)),
		nl.NewRtAttr(unix.NHA_GROUP, b))
}

// nexthopDeleteRequest builds RTM_DELNEXTHOP for an ID. The kernel removes
// the routes that still use it, so callers delete only objects nothing uses.
func nexthopDeleteRequest(id uint32) *nl.NetlinkRequest {
	return newRequest(unix.RTM_DELNEXTHOP, 0, &nhMsg{family: unix.AF_UNSPEC},
		nl.NewRtAttr(unix.NHA_ID, nl.Uint32Attr(id)))
}

// nexthopDumpRequest asks for every nexthop object.
func nexthopDumpRequest() *nl.NetlinkRequest {
	return newRequest(unix.RTM_GETNEXTHOP, unix.NLM_F_DUMP, &nhMsg{family: unix.AF_UNSPEC})
}
