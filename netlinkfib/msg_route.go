package netlinkfib

import (
	"encoding/binary"
	"net/netip"

	"github.com/lsrd/lsrd/fib"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// Request flags. Adding an item lsrd does not own yet uses NLM_F_EXCL, so
// the kernel refuses rather than overwrite a route another protocol
// installed after lsrd's last dump.
const (
	flagsAdd     = unix.NLM_F_CREATE | unix.NLM_F_EXCL
	flagsReplace = unix.NLM_F_CREATE | unix.NLM_F_REPLACE
)

// encodeLabels writes a label stack as the kernel wants it in RTA_NEWDST,
// RTA_DST and MPLS_IPTUNNEL_DST: 32-bit big-endian entries, label in the top
// 20 bits, bottom-of-stack on the last, TC and TTL zero (the kernel refuses
// anything else).
func encodeLabels(labels []fib.Label) []byte {
	b := make([]byte, 4*len(labels))
	for i, l := range labels {
		e := uint32(l) << mplsLabelShift
		if i == len(labels)-1 {
			e |= mplsLabelBOS
		}
		binary.BigEndian.PutUint32(b[4*i:], e)
	}
	return b
}

// encodeVia writes struct rtvia: the address family (host order) then the
// address in its natural length. An IPv4 address must be the 4-byte form or
// the kernel answers EINVAL.
func encodeVia(a netip.Addr) []byte {
	a = a.Unmap()
	fam := uint16(unix.AF_INET)
	if a.Is6() {
		fam = unix.AF_INET6
	}
	addr := a.AsSlice()
	b := make([]byte, 2+len(addr))
	nl.NativeEndian().PutUint16(b, fam)
	copy(b[2:], addr)
	return b
}

func newRequest(typ, flags int, data ...nl.NetlinkRequestData) *nl.NetlinkRequest {
	req := nl.NewNetlinkRequest(typ, flags)
	for _, d := range data {
		req.AddData(d)
	}
	return req
}

func mplsRtMsg(proto uint8) *nl.RtMsg {
	m := nl.NewRtMsg()
	m.Family = unix.AF_MPLS
	m.Dst_len = 20
	m.Protocol = proto
	return m
}

// labelRouteRequest builds RTM_NEWROUTE for an MPLS label route: one next
// hop as RTA_VIA/RTA_OIF/RTA_NEWDST, several as RTA_MULTIPATH with the same
// attributes per rtnexthop. No RTA_NEWDST means pop.
func labelRouteRequest(proto uint8, r labelRoute, flags int) *nl.NetlinkRequest {
	req := newRequest(unix.RTM_NEWROUTE, flags, mplsRtMsg(proto),
		nl.NewRtAttr(unix.RTA_DST, encodeLabels([]fib.Label{r.in})))
	if len(r.hops) == 1 {
		h := r.hops[0]
		if len(h.labels) > 0 {
			req.AddData(nl.NewRtAttr(unix.RTA_NEWDST, encodeLabels(h.labels)))
		}
		if h.gw.IsValid() {
			req.AddData(nl.NewRtAttr(unix.RTA_VIA, encodeVia(h.gw)))
		}
		req.AddData(nl.NewRtAttr(unix.RTA_OIF, nl.Uint32Attr(uint32(h.ifindex))))
		return req
	}
	mp := nl.NewRtAttr(unix.RTA_MULTIPATH, nil)
	for _, h := range r.hops {
		rtnh := &nl.RtNexthop{RtNexthop: unix.RtNexthop{Ifindex: int32(h.ifindex)}}
		if len(h.labels) > 0 {
			rtnh.Children = append(rtnh.Children, nl.NewRtAttr(unix.RTA_NEWDST, encodeLabels(h.labels)))
		}
		if h.gw.IsValid() {
			rtnh.Children = append(rtnh.Children, nl.NewRtAttr(unix.RTA_VIA, encodeVia(h.gw)))
		}
		mp.AddChild(rtnh)
	}
	req.AddData(mp)
	return req
}

// labelRouteDeleteRequest builds RTM_DELROUTE for a label. The kernel's MPLS
// table matches by label alone, so callers delete only labels the dump
// showed as lsrd's.
func labelRouteDeleteRequest(proto uint8, in fib.Label) *nl.NetlinkRequest {
	// The MPLS table refuses any scope but universe, even in a delete.
	return newRequest(unix.RTM_DELROUTE, 0, mplsRtMsg(proto), nl.NewRtAttr(unix.RTA_DST, encodeLabels([]fib.Label{in})))
}

// routeTarget is where lsrd's IP routes live: table and metric, and the
// protocol they carry. Only routes of lsrd's protocol there are lsrd's.
type routeTarget struct {
	table  uint32
	metric uint32
	proto  uint8
}

func (t routeTarget) rtmsg(p netip.Prefix) (*nl.RtMsg, []nl.NetlinkRequestData) {
	m := nl.NewRtMsg()
	m.Family = unix.AF_INET
	if p.Addr().Is6() {
		m.Family = unix.AF_INET6
	}
	m.Dst_len = uint8(p.Bits())
	m.Protocol = t.proto
	var attrs []nl.NetlinkRequestData
	attrs = append(attrs, nl.NewRtAttr(unix.RTA_DST, p.Addr().AsSlice()))
	if t.table < 256 {
		m.Table = uint8(t.table)
	} else {
		// rtm_table is 8 bits; larger IDs travel in RTA_TABLE.
		m.Table = unix.RT_TABLE_UNSPEC
		attrs = append(attrs, nl.NewRtAttr(unix.RTA_TABLE, nl.Uint32Attr(t.table)))
	}
	if t.metric != 0 {
		attrs = append(attrs, nl.NewRtAttr(unix.RTA_PRIORITY, nl.Uint32Attr(t.metric)))
	}
	return m, attrs
}

// ip6DefaultMetric is what the kernel stores an IPv6 route sent without a
// metric at (IP6_RT_PRIO_USER).
const ip6DefaultMetric = 1024

// sameMetric reports whether a route of family fam read back with metric m
// is at the target's metric: an IPv6 route lsrd sent without one (metric
// 0) comes back at 1024, and missing it would make every re-read lose
// lsrd's own IPv6 routes.
func (t routeTarget) sameMetric(fam uint8, m uint32) bool {
	if fam == unix.AF_INET6 && t.metric == 0 {
		return m == ip6DefaultMetric || m == 0
	}
	return m == t.metric
}

// prefixRouteRequest builds RTM_NEWROUTE for an IP route through a nexthop
// object (RTA_NH_ID): the route carries no next hop or encap of its own, which
// is what makes 100,000 prefixes behind one LSP cheap to install and relabel.
func prefixRouteRequest(t routeTarget, r prefixRoute, flags int) *nl.NetlinkRequest {
	m, attrs := t.rtmsg(r.prefix)
	req := newRequest(unix.RTM_NEWROUTE, flags, m)
	for _, a := range attrs {
		req.AddData(a)
	}
	req.AddData(nl.NewRtAttr(rtaNHID, nl.Uint32Attr(r.nhid)))
	return req
}

// prefixRouteDeleteRequest builds RTM_DELROUTE for a prefix. It names lsrd's
// protocol: the IPv4 and IPv6 FIBs then delete only a route of that
// protocol, never another daemon's route for the same prefix.
func prefixRouteDeleteRequest(t routeTarget, p netip.Prefix) *nl.NetlinkRequest {
	m, attrs := t.rtmsg(p)
	m.Scope = unix.RT_SCOPE_NOWHERE
	m.Type = 0
	req := newRequest(unix.RTM_DELROUTE, 0, m)
	for _, a := range attrs {
		req.AddData(a)
	}
	return req
}

// throwRouteRequest builds RTM_NEWROUTE for a throw route: in the ingress
// table it sends the lookup on to the next rule (the main table) for a
// prefix more specific than one of lsrd's labelled routes there, so that
// longest-prefix match across the two tables stays what the main table
// alone would give.
func throwRouteRequest(t routeTarget, p netip.Prefix, flags int) *nl.NetlinkRequest {
	m, attrs := t.rtmsg(p)
	m.Type = unix.RTN_THROW
	req := newRequest(unix.RTM_NEWROUTE, flags, m)
	for _, a := range attrs {
		req.AddData(a)
	}
	return req
}

// routeDumpRequest asks for every route of a family.
func routeDumpRequest(family uint8) *nl.NetlinkRequest {
	m := &nl.RtMsg{}
	m.Family = family
	return newRequest(unix.RTM_GETROUTE, unix.NLM_F_DUMP, m)
}

// linkDumpRequest asks for every interface, to map names to indexes.
func linkDumpRequest() *nl.NetlinkRequest {
	return newRequest(unix.RTM_GETLINK, unix.NLM_F_DUMP, nl.NewIfInfomsg(unix.AF_UNSPEC))
}
