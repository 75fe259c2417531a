// Package rtattr walks the attributes of rtnetlink messages: the route
// attributes (struct rtattr) and the next hops of RTA_MULTIPATH (struct
// rtnexthop), with the bounds checked, never a panic. It is shared by the
// kernel layer (netlinkfib), which reads lsrd's own routes, and the RIB,
// which reads other daemons'. It knows no attribute's meaning.
package rtattr

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// typeMask strips NLA_F_NESTED and NLA_F_NET_BYTEORDER from a type.
const typeMask = 0x3fff

// Each calls f with the type and value of each attribute in b, stopping at
// f's first error; an attribute whose length runs past b, or bytes too
// few for a header, are an error.
func Each(b []byte, f func(typ uint16, val []byte) error) error {
	for len(b) > 0 {
		if len(b) < unix.SizeofRtAttr {
			return fmt.Errorf("attribute header truncated: %d bytes left", len(b))
		}
		l := int(binary.NativeEndian.Uint16(b))
		typ := binary.NativeEndian.Uint16(b[2:]) & typeMask
		if l < unix.SizeofRtAttr || l > len(b) {
			return fmt.Errorf("attribute %d: length %d outside 4..%d", typ, l, len(b))
		}
		if err := f(typ, b[unix.SizeofRtAttr:l]); err != nil {
			return err
		}
		b = b[min((l+unix.RTA_ALIGNTO-1)&^(unix.RTA_ALIGNTO-1), len(b)):]
	}
	return nil
}

// EachNexthop calls f with the interface index and the attributes of each
// struct rtnexthop in b, the value of an RTA_MULTIPATH, stopping at f's
// first error.
func EachNexthop(b []byte, f func(ifindex int, attrs []byte) error) error {
	for len(b) > 0 {
		if len(b) < unix.SizeofRtNexthop {
			return fmt.Errorf("rtnexthop truncated: %d bytes", len(b))
		}
		l := int(binary.NativeEndian.Uint16(b))
		if l < unix.SizeofRtNexthop || l > len(b) {
			return fmt.Errorf("rtnexthop length %d outside 8..%d", l, len(b))
		}
		if err := f(int(int32(binary.NativeEndian.Uint32(b[4:]))), b[unix.SizeofRtNexthop:l]); err != nil {
			return err
		}
		b = b[min((l+unix.RTNH_ALIGNTO-1)&^(unix.RTNH_ALIGNTO-1), len(b)):]
	}
	return nil
}

// Addr reads an address attribute (RTA_DST, RTA_GATEWAY, ...): 4 or 16
// bytes; name says which, in the error.
func Addr(name string, v []byte) (netip.Addr, error) {
	a, ok := netip.AddrFromSlice(v)
	if !ok {
		return netip.Addr{}, fmt.Errorf("%s of %d bytes", name, len(v))
	}
	return a, nil
}
