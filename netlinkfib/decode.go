package netlinkfib

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/internal/rtattr"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

func decodeLabels(b []byte) ([]fib.Label, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("label stack of %d bytes is not whole entries", len(b))
	}
	ls := make([]fib.Label, len(b)/4)
	for i := range ls {
		ls[i] = fib.Label(binary.BigEndian.Uint32(b[4*i:]) >> mplsLabelShift)
	}
	return ls, nil
}

func decodeVia(b []byte) (netip.Addr, error) {
	if len(b) < 2 {
		return netip.Addr{}, fmt.Errorf("RTA_VIA of %d bytes", len(b))
	}
	a, ok := netip.AddrFromSlice(b[2:])
	if !ok {
		return netip.Addr{}, fmt.Errorf("RTA_VIA address of %d bytes", len(b)-2)
	}
	return a.Unmap(), nil
}

func u32(b []byte, what string) (uint32, error) {
	if len(b) < 4 {
		return 0, fmt.Errorf("%s of %d bytes", what, len(b))
	}
	return nl.NativeEndian().Uint32(b), nil
}

// kernelRoute is a route from a dump or a notification, with what lsrd
// needs to know whether it is its own and what it forwards to.
type kernelRoute struct {
	family   uint8
	protocol uint8
	typ      uint8 // rtm_type: RTN_UNICAST, RTN_THROW, ...
	table    uint32
	metric   uint32
	label    fib.Label    // AF_MPLS
	prefix   netip.Prefix // AF_INET, AF_INET6
	nhid     uint32
	hops     []hop
}

// decodeRoute parses the payload of RTM_NEWROUTE/RTM_DELROUTE (struct rtmsg
// and its attributes).
func decodeRoute(b []byte) (kernelRoute, error) {
	if len(b) < unix.SizeofRtMsg {
		return kernelRoute{}, fmt.Errorf("rtmsg of %d bytes", len(b))
	}
	r := kernelRoute{family: b[0], protocol: b[5], typ: b[7], table: uint32(b[4])}
	dstLen := int(b[1])
	var single hop
	var hasSingle bool
	err := rtattr.Each(b[unix.SizeofRtMsg:], func(typ uint16, v []byte) error {
		var err error
		switch typ {
		case unix.RTA_DST:
			if r.family == unix.AF_MPLS {
				var ls []fib.Label
				if ls, err = decodeLabels(v); err == nil && len(ls) > 0 {
					r.label = ls[0]
				}
				return err
			}
			a, ok := netip.AddrFromSlice(v)
			if !ok {
				return fmt.Errorf("RTA_DST of %d bytes", len(v))
			}
			if r.prefix, err = a.Prefix(dstLen); err != nil {
				return fmt.Errorf("RTA_DST: %w", err)
			}
		case unix.RTA_TABLE:
			r.table, err = u32(v, "RTA_TABLE")
		case unix.RTA_PRIORITY:
			r.metric, err = u32(v, "RTA_PRIORITY")
		case rtaNHID:
			r.nhid, err = u32(v, "RTA_NH_ID")
		case unix.RTA_OIF:
			var idx uint32
			idx, err = u32(v, "RTA_OIF")
			single.ifindex, hasSingle = int(idx), true
		case unix.RTA_VIA:
			single.gw, err = decodeVia(v)
			hasSingle = true
		case unix.RTA_GATEWAY:
			a, ok := netip.AddrFromSlice(v)
			if !ok {
				return fmt.Errorf("RTA_GATEWAY of %d bytes", len(v))
			}
			single.gw, hasSingle = a, true
		case unix.RTA_NEWDST:
			single.labels, err = decodeLabels(v)
		case unix.RTA_MULTIPATH:
			r.hops, err = decodeMultipath(v)
		}
		return err
	})
	if err != nil {
		return r, err
	}
	if r.family == unix.AF_MPLS && dstLen != 20 {
		return r, fmt.Errorf("MPLS route with destination length %d", dstLen)
	}
	if r.hops == nil && hasSingle {
		r.hops = []hop{single}
	}
	// A default route comes without RTA_DST.
	if !r.prefix.IsValid() && dstLen == 0 {
		switch r.family {
		case unix.AF_INET:
			r.prefix = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		case unix.AF_INET6:
			r.prefix = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		}
	}
	return r, nil
}

// decodeMultipath parses RTA_MULTIPATH: struct rtnexthop entries, each
// followed by its own attributes.
func decodeMultipath(b []byte) ([]hop, error) {
	var hops []hop
	err := rtattr.EachNexthop(b, func(ifindex int, attrs []byte) error {
		h := hop{ifindex: ifindex}
		err := rtattr.Each(attrs, func(typ uint16, v []byte) error {
			var err error
			switch typ {
			case unix.RTA_VIA:
				h.gw, err = decodeVia(v)
			case unix.RTA_GATEWAY:
				a, err := rtattr.Addr("RTA_GATEWAY", v)
				if err != nil {
					return err
				}
				h.gw = a
			case unix.RTA_NEWDST:
				h.labels, err = decodeLabels(v)
			}
			return err
		})
		hops = append(hops, h)
		return err
	})
	if err != nil {
		return nil, err
	}
	return hops, nil
}

// kernelNexthop is a nexthop object from a dump or a notification.
type kernelNexthop struct {
	id       uint32
	protocol uint8
	group    []uint32 // members of a group, nil for a single object
	hop      hop
	// other is set for objects lsrd never creates (blackhole, FDB, or an
	// encapsulation other than MPLS): they are never mistaken for its own.
	other bool
}

// decodeNexthop parses the payload of RTM_NEWNEXTHOP/RTM_DELNEXTHOP.
func decodeNexthop(b []byte) (kernelNexthop, error) {
	if len(b) < sizeofNhMsg {
		return kernelNexthop{}, fmt.Errorf("nhmsg of %d bytes", len(b))
	}
	n := kernelNexthop{protocol: b[2]}
	var encapType uint16
	var encap []byte
	err := rtattr.Each(b[sizeofNhMsg:], func(typ uint16, v []byte) error {
		var err error
		switch typ {
		case unix.NHA_ID:
			n.id, err = u32(v, "NHA_ID")
		case unix.NHA_GROUP:
			if len(v)%8 != 0 {
				return fmt.Errorf("NHA_GROUP of %d bytes", len(v))
			}
			n.group = make([]uint32, len(v)/8)
			for i := range n.group {
				n.group[i] = nl.NativeEndian().Uint32(v[8*i:])
			}
		case unix.NHA_OIF:
			var idx uint32
			idx, err = u32(v, "NHA_OIF")
			n.hop.ifindex = int(idx)
		case unix.NHA_GATEWAY:
			a, err := rtattr.Addr("NHA_GATEWAY", v)
			if err != nil {
				return err
			}
			n.hop.gw = a
		case unix.NHA_ENCAP_TYPE:
			if len(v) < 2 {
				return fmt.Errorf("NHA_ENCAP_TYPE of %d bytes", len(v))
			}
			encapType = nl.NativeEndian().Uint16(v)
		case unix.NHA_ENCAP:
			encap = v
		case unix.NHA_BLACKHOLE, nhaFDB:
			n.other = true
		}
		return err
	})
	if err != nil {
		return n, err
	}
	switch {
	case encapType == unix.LWTUNNEL_ENCAP_MPLS:
		err = rtattr.Each(encap, func(typ uint16, v []byte) error {
			if typ != unix.MPLS_IPTUNNEL_DST {
				return nil
			}
			var err error
			n.hop.labels, err = decodeLabels(v)
			return err
		})
	case encapType != 0:
		n.other = true
	}
	return n, err
}

// decodeLinkName parses RTM_NEWLINK for the index and IFLA_IFNAME.
func decodeLinkName(b []byte) (int, string, error) {
	if len(b) < unix.SizeofIfInfomsg {
		return 0, "", fmt.Errorf("ifinfomsg of %d bytes", len(b))
	}
	idx := int(int32(nl.NativeEndian().Uint32(b[4:])))
	var name string
	err := rtattr.Each(b[unix.SizeofIfInfomsg:], func(typ uint16, v []byte) error {
		if typ == unix.IFLA_IFNAME {
			name = cString(v)
		}
		return nil
	})
	return idx, name, err
}

// cString reads a NUL-terminated string attribute; nl.BytesToString panics
// on an empty one.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
