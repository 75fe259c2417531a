package wire

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// AddressFamily is an IANA address family number, as used by Prefix FEC
// elements and Address List TLVs (RFC 5036 sections 3.4.1 and 3.4.3).
type AddressFamily uint16

// Address families LDP carries (RFC 5036 for IPv4, RFC 7552 for IPv6).
const (
	AFIPv4 AddressFamily = 1
	AFIPv6 AddressFamily = 2
)

// String names the family.
func (af AddressFamily) String() string {
	switch af {
	case AFIPv4:
		return "IPv4"
	case AFIPv6:
		return "IPv6"
	}
	return fmt.Sprintf("AF(%d)", uint16(af))
}

// addrLen returns the address size of af, or 0 when it is unsupported.
func (af AddressFamily) addrLen() int {
	switch af {
	case AFIPv4:
		return 4
	case AFIPv6:
		return 16
	}
	return 0
}

// FamilyOf returns the family of a, or 0 when a is not valid (an
// IPv4-mapped IPv6 address is IPv6).
func FamilyOf(a netip.Addr) AddressFamily {
	switch {
	case a.Is4():
		return AFIPv4
	case a.Is6():
		return AFIPv6
	}
	return 0
}

// FECType is the type octet of a FEC element (RFC 5036 section 3.4.1).
type FECType uint8

// FEC element types decoded by this package. Others (e.g. RFC 4447
// pseudowire elements) are reported as "Unknown FEC", since their length
// is not self-describing in a generic way.
const (
	FECWildcard      FECType = 0x01
	FECPrefix        FECType = 0x02
	FECTypedWildcard FECType = 0x05 // RFC 5918
)

// FECElement is one element of a FEC TLV.
type FECElement interface {
	// ElementType returns the FEC element type.
	ElementType() FECType
	appendFEC(b []byte) ([]byte, error)
}

// FEC is the list of elements of a FEC TLV (0x0100). RFC 5036 section
// 3.4.1 requires a Wildcard element to stand alone; enforcing that is
// left to the engine.
type FEC []FECElement

// WildcardFEC is the Wildcard FEC element (type 0x01, no value): all
// FECs associated with the label in the message.
type WildcardFEC struct{}

// ElementType returns FECWildcard.
func (WildcardFEC) ElementType() FECType { return FECWildcard }

func (WildcardFEC) appendFEC(b []byte) ([]byte, error) { return append(b, byte(FECWildcard)), nil }

// PrefixFEC is the Prefix FEC element (type 0x02). The address family is
// that of Prefix; host bits are cleared on both decode and encode, since
// only the first ceil(len/8) octets travel on the wire.
type PrefixFEC struct {
	Prefix netip.Prefix
}

// ElementType returns FECPrefix.
func (PrefixFEC) ElementType() FECType { return FECPrefix }

// Family returns the address family of the prefix.
func (p PrefixFEC) Family() AddressFamily { return FamilyOf(p.Prefix.Addr()) }

func (p PrefixFEC) appendFEC(b []byte) ([]byte, error) {
	af := p.Family()
	if !p.Prefix.IsValid() || af == 0 || p.Prefix.Addr().Zone() != "" {
		return b, invalidf("prefix FEC %v", p.Prefix)
	}
	pfx := p.Prefix.Masked()
	b = append(b, byte(FECPrefix))
	b = binary.BigEndian.AppendUint16(b, uint16(af))
	b = append(b, byte(pfx.Bits()))
	a := pfx.Addr().AsSlice()
	return append(b, a[:(pfx.Bits()+7)/8]...), nil
}

// TypedWildcardFEC is the Typed Wildcard FEC element of RFC 5918 (type
// 0x05): all FECs of one element type. For Prefix FECs the type-specific
// information is an address family (RFC 5918 section 4); for other
// types it is kept as opaque bytes in Info.
type TypedWildcardFEC struct {
	Type   FECType
	Family AddressFamily // when Type == FECPrefix
	Info   []byte        // when Type != FECPrefix
}

// ElementType returns FECTypedWildcard.
func (TypedWildcardFEC) ElementType() FECType { return FECTypedWildcard }

func (w TypedWildcardFEC) appendFEC(b []byte) ([]byte, error) {
	b = append(b, byte(FECTypedWildcard), byte(w.Type))
	if w.Type == FECPrefix {
		if len(w.Info) != 0 {
			return b, invalidf("typed wildcard for prefix FEC takes a family, not Info")
		}
		b = append(b, 2)
		return binary.BigEndian.AppendUint16(b, uint16(w.Family)), nil
	}
	if len(w.Info) > 0xFF || w.Family != 0 {
		return b, invalidf("typed wildcard for FEC type 0x%02x", uint8(w.Type))
	}
	b = append(b, byte(len(w.Info)))
	return append(b, w.Info...), nil
}

func appendFECTLV(b []byte, f FEC) ([]byte, error) {
	if len(f) == 0 {
		return b, invalidf("FEC TLV without elements")
	}
	b, start := beginTLV(b, false, false, TLVFEC)
	var err error
	for _, e := range f {
		if e == nil {
			return b, invalidf("nil FEC element")
		}
		if b, err = e.appendFEC(b); err != nil {
			return b, err
		}
	}
	return endTLV(b, start)
}

// decodeFEC parses a FEC TLV value. An unsupported address family or
// element type ends parsing with a non-fatal error, since the remaining
// elements cannot be delimited.
func decodeFEC(c *msgCtx, t tlvAt) (FEC, *DecodeError) {
	v := t.Value
	if len(v) == 0 {
		return nil, c.errAt(t.name(), t.off, StatusMalformedTLVValue, "no FEC element")
	}
	var out FEC
	for pos := 0; pos < len(v); {
		off := t.off + tlvHeaderLen + pos
		bad := func(st StatusCode, format string, args ...any) *DecodeError {
			return c.errAt(t.name(), off, st, format, args...)
		}
		switch typ := FECType(v[pos]); typ {
		case FECWildcard:
			out = append(out, WildcardFEC{})
			pos++
		case FECPrefix:
			if len(v)-pos < 4 {
				return nil, bad(StatusMalformedTLVValue, "truncated prefix FEC element")
			}
			af := AddressFamily(binary.BigEndian.Uint16(v[pos+1:]))
			size := af.addrLen()
			if size == 0 {
				return nil, bad(StatusUnsupportedAddressFamily, "prefix FEC address family %d", uint16(af))
			}
			bits := int(v[pos+3])
			if bits > size*8 {
				return nil, bad(StatusMalformedTLVValue, "prefix length %d exceeds %d", bits, size*8)
			}
			n := (bits + 7) / 8
			if len(v)-pos-4 < n {
				return nil, bad(StatusMalformedTLVValue, "prefix of length %d needs %d bytes, %d left", bits, n, len(v)-pos-4)
			}
			var a [16]byte
			copy(a[:], v[pos+4:pos+4+n])
			addr := netip.AddrFrom16(a)
			if af == AFIPv4 {
				addr = netip.AddrFrom4([4]byte(a[:4]))
			}
			out = append(out, PrefixFEC{Prefix: netip.PrefixFrom(addr, bits).Masked()})
			pos += 4 + n
		case FECTypedWildcard:
			if len(v)-pos < 3 {
				return nil, bad(StatusMalformedTLVValue, "truncated typed wildcard FEC element")
			}
			w := TypedWildcardFEC{Type: FECType(v[pos+1])}
			n := int(v[pos+2])
			if len(v)-pos-3 < n {
				return nil, bad(StatusMalformedTLVValue, "typed wildcard info length %d, %d bytes left", n, len(v)-pos-3)
			}
			info := v[pos+3 : pos+3+n]
			if w.Type == FECPrefix {
				if n != 2 {
					return nil, bad(StatusMalformedTLVValue, "typed wildcard prefix info length %d, want 2", n)
				}
				w.Family = AddressFamily(binary.BigEndian.Uint16(info))
				if w.Family.addrLen() == 0 {
					return nil, bad(StatusUnsupportedAddressFamily, "typed wildcard address family %d", uint16(w.Family))
				}
			} else {
				w.Info = clone(info)
			}
			out = append(out, w)
			pos += 3 + n
		default:
			return nil, bad(StatusUnknownFEC, "FEC element type 0x%02x", uint8(typ))
		}
	}
	return out, nil
}
