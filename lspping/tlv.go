package lspping

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// TLV types (RFC 8029 sections 3 and 6.2.2).
const (
	TLVTargetFECStack            uint16 = 1
	TLVDownstreamMapping         uint16 = 2 // deprecated (appendix A.2); not understood here
	TLVPad                       uint16 = 3
	TLVVendorEnterprise          uint16 = 5 // kept as a RawTLV
	TLVInterfaceLabelStack       uint16 = 7
	TLVErroredTLVs               uint16 = 9
	TLVReplyTOS                  uint16 = 10
	TLVDownstreamDetailedMapping uint16 = 20
)

// Target FEC Stack sub-TLV types (RFC 8029 section 3.2).
const (
	FECLDPIPv4 uint16 = 1
	FECLDPIPv6 uint16 = 2
)

// Downstream Detailed Mapping sub-TLV types (RFC 8029 section 3.4.1).
const (
	SubTLVMultipath      uint16 = 1 // kept as a RawTLV
	SubTLVLabelStack     uint16 = 2
	SubTLVFECStackChange uint16 = 3 // kept as a RawTLV
)

// element is what TLVs, FEC sub-TLVs and DDMAP sub-TLVs have in common:
// a type and a value that can be appended to a buffer.
type element interface {
	TLVType() uint16
	appendValue(b []byte) ([]byte, error)
}

// TLV is a top-level TLV of a Message: *TargetFECStack,
// *DownstreamDetailedMapping, *Pad, *InterfaceLabelStack, *ErroredTLVs,
// *ReplyTOS or *RawTLV.
type TLV interface {
	element
	isTLV()
}

// FEC is a sub-TLV of a Target FEC Stack: *LDPPrefix or *RawTLV.
type FEC interface {
	element
	isFEC()
}

// SubTLV is a sub-TLV of a Downstream Detailed Mapping: *LabelStack or
// *RawTLV.
type SubTLV interface {
	element
	isSubTLV()
}

// RawTLV is a TLV or sub-TLV kept as type and value (without padding):
// one this package does not decode, such as an optional TLV, a FEC other
// than LDP, a Multipath or FEC Stack Change sub-TLV, or an entry of an
// Errored TLVs TLV.
type RawTLV struct {
	Type  uint16
	Value []byte
}

// TLVType returns r.Type.
func (r *RawTLV) TLVType() uint16                      { return r.Type }
func (r *RawTLV) appendValue(b []byte) ([]byte, error) { return append(b, r.Value...), nil }
func (*RawTLV) isTLV()                                 {}
func (*RawTLV) isFEC()                                 {}
func (*RawTLV) isSubTLV()                              {}

// TargetFECStack is the Target FEC Stack TLV (RFC 8029 section 3.2). The
// first FEC describes the top of the label stack.
type TargetFECStack struct {
	FECs []FEC
}

// TLVType returns TLVTargetFECStack.
func (*TargetFECStack) TLVType() uint16 { return TLVTargetFECStack }
func (*TargetFECStack) isTLV()          {}
func (s *TargetFECStack) appendValue(b []byte) ([]byte, error) {
	for _, f := range s.FECs {
		var err error
		if b, err = appendTLV(b, f); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// LDPPrefix is the LDP IPv4 prefix or LDP IPv6 prefix FEC (RFC 8029
// sections 3.2.1 and 3.2.2), by the family of Prefix. The bits past the
// prefix length are sent as zero and cleared on receipt.
type LDPPrefix struct {
	Prefix netip.Prefix
}

// TLVType returns FECLDPIPv4 or FECLDPIPv6.
func (p *LDPPrefix) TLVType() uint16 {
	if p.Prefix.Addr().Is4() {
		return FECLDPIPv4
	}
	return FECLDPIPv6
}

func (*LDPPrefix) isFEC() {}

func (p *LDPPrefix) appendValue(b []byte) ([]byte, error) {
	if !p.Prefix.IsValid() {
		return nil, fmt.Errorf("lspping: invalid LDP FEC prefix %v", p.Prefix)
	}
	b = append(b, p.Prefix.Masked().Addr().AsSlice()...)
	return append(b, byte(p.Prefix.Bits())), nil
}

func parseLDPPrefix(typ uint16, val []byte, off int) (*LDPPrefix, *ParseError) {
	alen := 4
	if typ == FECLDPIPv6 {
		alen = 16
	}
	if len(val) != alen+1 {
		return nil, malformed(off, "LDP prefix FEC sub-TLV type %d of length %d, want %d", typ, len(val), alen+1)
	}
	addr, _ := netip.AddrFromSlice(val[:alen])
	bits := int(val[alen])
	if bits > 8*alen {
		return nil, malformed(off, "LDP prefix FEC of prefix length %d", bits)
	}
	return &LDPPrefix{Prefix: netip.PrefixFrom(addr, bits).Masked()}, nil
}

// AddrType is the Address Type of a Downstream Detailed Mapping (RFC 8029
// section 3.4, RFC 6426 section 2.1) or of an Interface and Label Stack
// TLV (section 3.7).
type AddrType uint8

// Address types.
const (
	AddrIPv4Numbered   AddrType = 1
	AddrIPv4Unnumbered AddrType = 2
	AddrIPv6Numbered   AddrType = 3
	AddrIPv6Unnumbered AddrType = 4
	AddrNonIP          AddrType = 5 // RFC 6426; Downstream Detailed Mapping only
)

// ifAddrs holds the address fields shared by the Downstream Detailed
// Mapping and Interface and Label Stack TLVs.
type ifAddrs struct {
	typ       AddrType
	addr      *netip.Addr
	ifAddr    *netip.Addr
	ifIndex   *uint32
	ingressIf *uint32
}

// decode reads the address fields from b and returns their length, or 0
// if the type is unknown or b too short.
func (a ifAddrs) decode(b []byte) int {
	be := binary.BigEndian
	switch a.typ {
	case AddrIPv4Numbered, AddrIPv4Unnumbered, AddrNonIP:
		if len(b) < 8 {
			return 0
		}
		switch a.typ {
		case AddrIPv4Numbered:
			*a.addr = netip.AddrFrom4([4]byte(b))
			*a.ifAddr = netip.AddrFrom4([4]byte(b[4:]))
		case AddrIPv4Unnumbered:
			*a.addr = netip.AddrFrom4([4]byte(b))
			*a.ifIndex = be.Uint32(b[4:])
		default:
			*a.ingressIf = be.Uint32(b)
			*a.ifIndex = be.Uint32(b[4:])
		}
		return 8
	case AddrIPv6Numbered:
		if len(b) < 32 {
			return 0
		}
		*a.addr = netip.AddrFrom16([16]byte(b))
		*a.ifAddr = netip.AddrFrom16([16]byte(b[16:]))
		return 32
	case AddrIPv6Unnumbered:
		if len(b) < 20 {
			return 0
		}
		*a.addr = netip.AddrFrom16([16]byte(b))
		*a.ifIndex = be.Uint32(b[16:])
		return 20
	}
	return 0
}

func (a ifAddrs) append(b []byte) ([]byte, error) {
	bad := func(what string, v netip.Addr) error {
		return fmt.Errorf("lspping: address type %d with %s %v", a.typ, what, v)
	}
	switch a.typ {
	case AddrIPv4Numbered, AddrIPv4Unnumbered:
		if !a.addr.Is4() {
			return nil, bad("address", *a.addr)
		}
		b = append(b, a.addr.AsSlice()...)
		if a.typ == AddrIPv4Unnumbered {
			return binary.BigEndian.AppendUint32(b, *a.ifIndex), nil
		}
		if !a.ifAddr.Is4() {
			return nil, bad("interface address", *a.ifAddr)
		}
		return append(b, a.ifAddr.AsSlice()...), nil
	case AddrIPv6Numbered, AddrIPv6Unnumbered:
		if !a.addr.Is6() {
			return nil, bad("address", *a.addr)
		}
		b = append(b, a.addr.AsSlice()...)
		if a.typ == AddrIPv6Unnumbered {
			return binary.BigEndian.AppendUint32(b, *a.ifIndex), nil
		}
		if !a.ifAddr.Is6() {
			return nil, bad("interface address", *a.ifAddr)
		}
		return append(b, a.ifAddr.AsSlice()...), nil
	case AddrNonIP:
		if a.ingressIf != nil {
			b = binary.BigEndian.AppendUint32(b, *a.ingressIf)
			return binary.BigEndian.AppendUint32(b, *a.ifIndex), nil
		}
	}
	return nil, fmt.Errorf("lspping: unknown address type %d", a.typ)
}

// DSFlags are the DS Flags of a Downstream Detailed Mapping (RFC 8029
// sections 3.4 and 6.2.5). Parse clears the undefined bits.
type DSFlags uint8

// DS flags.
const (
	DSFlagN DSFlags = 1 << 0 // Treat as a Non-IP Packet
	DSFlagI DSFlags = 1 << 1 // Interface and Label Stack Object Request
	DSFlagE DSFlags = 1 << 2 // ELI/EL push indicator (RFC 8012)
	DSFlagL DSFlags = 1 << 3 // Label-based load balance indicator (RFC 8012)

	knownDSFlags = DSFlagN | DSFlagI | DSFlagE | DSFlagL
)

// DownstreamDetailedMapping is the Downstream Detailed Mapping TLV (RFC
// 8029 section 3.4). Which address fields are used depends on AddrType:
//
//	AddrIPv4Numbered, AddrIPv6Numbered:     Address, InterfaceAddr
//	AddrIPv4Unnumbered, AddrIPv6Unnumbered: Address, InterfaceIndex
//	AddrNonIP:                              IngressIfNum, InterfaceIndex (the egress IF_Num)
//
// Address is the downstream router ID or interface address; a prober that
// does not know it sends 127.0.0.1 or ::1 (unnumbered, index 0), and one
// that does not know the label stack either sends 224.0.0.2 or ff02::2.
type DownstreamDetailedMapping struct {
	MTU            uint16
	AddrType       AddrType
	Flags          DSFlags
	Address        netip.Addr
	InterfaceAddr  netip.Addr
	InterfaceIndex uint32
	IngressIfNum   uint32
	ReturnCode     ReturnCode
	ReturnSubcode  uint8
	SubTLVs        []SubTLV
}

// TLVType returns TLVDownstreamDetailedMapping.
func (*DownstreamDetailedMapping) TLVType() uint16 { return TLVDownstreamDetailedMapping }
func (*DownstreamDetailedMapping) isTLV()          {}

// Labels returns the labels of the first Label Stack sub-TLV, or nil.
func (d *DownstreamDetailedMapping) Labels() []DownstreamLabel {
	for _, s := range d.SubTLVs {
		if l, ok := s.(*LabelStack); ok {
			return l.Labels
		}
	}
	return nil
}

func (d *DownstreamDetailedMapping) addrs() ifAddrs {
	return ifAddrs{d.AddrType, &d.Address, &d.InterfaceAddr, &d.InterfaceIndex, &d.IngressIfNum}
}

func (d *DownstreamDetailedMapping) appendValue(b []byte) ([]byte, error) {
	b = binary.BigEndian.AppendUint16(b, d.MTU)
	b = append(b, byte(d.AddrType), byte(d.Flags&knownDSFlags))
	b, err := d.addrs().append(b)
	if err != nil {
		return nil, err
	}
	b = append(b, byte(d.ReturnCode), d.ReturnSubcode, 0, 0)
	lenAt := len(b) - 2
	for _, s := range d.SubTLVs {
		if b, err = appendTLV(b, s); err != nil {
			return nil, err
		}
	}
	n := len(b) - lenAt - 2
	if n > 0xffff {
		return nil, fmt.Errorf("lspping: %d octets of Downstream Detailed Mapping sub-TLVs", n)
	}
	binary.BigEndian.PutUint16(b[lenAt:], uint16(n))
	return b, nil
}

func parseDDMAP(val []byte, off int) (*DownstreamDetailedMapping, *ParseError) {
	if len(val) < 4 {
		return nil, malformed(off, "Downstream Detailed Mapping of length %d", len(val))
	}
	d := &DownstreamDetailedMapping{
		MTU:      binary.BigEndian.Uint16(val),
		AddrType: AddrType(val[2]),
		Flags:    DSFlags(val[3]) & knownDSFlags,
	}
	n := d.addrs().decode(val[4:])
	if n == 0 || len(val) < 4+n+4 {
		return nil, malformed(off, "Downstream Detailed Mapping of length %d with address type %d", len(val), d.AddrType)
	}
	rest := val[4+n:]
	d.ReturnCode, d.ReturnSubcode = ReturnCode(rest[0]), rest[1]
	subs := rest[4:]
	d.SubTLVs = sized[SubTLV](subs)
	if sl := int(binary.BigEndian.Uint16(rest[2:])); sl != len(subs) {
		return nil, malformed(off+4+n, "Downstream Detailed Mapping Sub-TLV Length %d, but %d octets follow", sl, len(subs))
	}
	err := walkTLVs(subs, off+4+n+4, func(typ uint16, val []byte, off int) *ParseError {
		if typ != SubTLVLabelStack {
			d.SubTLVs = append(d.SubTLVs, &RawTLV{Type: typ, Value: clone(val)})
			return nil
		}
		if len(val)%4 != 0 {
			return malformed(off, "Label Stack sub-TLV of length %d", len(val))
		}
		ls := &LabelStack{}
		if len(val) > 0 {
			ls.Labels = make([]DownstreamLabel, 0, len(val)/4)
		}
		for i := 0; i < len(val); i += 4 {
			e := decodeEntry(val[i:])
			ls.Labels = append(ls.Labels, DownstreamLabel{Label: e.Label, TC: e.TC, S: e.S, Protocol: LabelProtocol(val[i+3])})
		}
		d.SubTLVs = append(d.SubTLVs, ls)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// LabelProtocol is the protocol of a downstream label (RFC 8029 section
// 3.4.1.2).
type LabelProtocol uint8

// Label distribution protocols.
const (
	ProtoUnknown LabelProtocol = 0
	ProtoStatic  LabelProtocol = 1
	ProtoBGP     LabelProtocol = 2
	ProtoLDP     LabelProtocol = 3
	ProtoRSVPTE  LabelProtocol = 4
)

// DownstreamLabel is an entry of a Label Stack sub-TLV: an MPLS label
// stack entry whose TTL octet is replaced by the protocol.
type DownstreamLabel struct {
	Label    uint32 // 20 bits
	TC       uint8  // 3 bits
	S        bool
	Protocol LabelProtocol
}

// LabelStack is the Label Stack sub-TLV of a Downstream Detailed Mapping
// (RFC 8029 section 3.4.1.2): the labels as the downstream router would
// receive them, Implicit Null included.
type LabelStack struct {
	Labels []DownstreamLabel
}

// TLVType returns SubTLVLabelStack.
func (*LabelStack) TLVType() uint16 { return SubTLVLabelStack }
func (*LabelStack) isSubTLV()       {}
func (s *LabelStack) appendValue(b []byte) ([]byte, error) {
	for _, l := range s.Labels {
		e := LabelEntry{Label: l.Label, TC: l.TC, S: l.S, TTL: uint8(l.Protocol)}
		if err := e.check(); err != nil {
			return nil, err
		}
		b = e.append(b)
	}
	return b, nil
}

// PadAction is the first octet of a Pad TLV (RFC 8029 section 3.5).
type PadAction uint8

// Pad actions.
const (
	PadDrop PadAction = 1 // Drop Pad TLV from reply
	PadCopy PadAction = 2 // Copy Pad TLV to reply
)

// Pad is the Pad TLV (RFC 8029 section 3.5): an action followed by
// octets that are ignored but kept, so that the replier can copy them.
type Pad struct {
	Action PadAction
	Data   []byte
}

// TLVType returns TLVPad.
func (*Pad) TLVType() uint16 { return TLVPad }
func (*Pad) isTLV()          {}
func (p *Pad) appendValue(b []byte) ([]byte, error) {
	return append(append(b, byte(p.Action)), p.Data...), nil
}

// InterfaceLabelStack is the Interface and Label Stack TLV (RFC 8029
// section 3.7): the interface an echo request was received on and the
// label stack it carried. AddrType is one of the four IP types and selects
// the fields as for DownstreamDetailedMapping.
type InterfaceLabelStack struct {
	AddrType       AddrType
	Address        netip.Addr
	InterfaceAddr  netip.Addr
	InterfaceIndex uint32
	Labels         []LabelEntry
}

// TLVType returns TLVInterfaceLabelStack.
func (*InterfaceLabelStack) TLVType() uint16 { return TLVInterfaceLabelStack }
func (*InterfaceLabelStack) isTLV()          {}

func (s *InterfaceLabelStack) addrs() ifAddrs {
	return ifAddrs{s.AddrType, &s.Address, &s.InterfaceAddr, &s.InterfaceIndex, nil}
}

func (s *InterfaceLabelStack) appendValue(b []byte) ([]byte, error) {
	b, err := s.addrs().append(append(b, byte(s.AddrType), 0, 0, 0))
	if err != nil {
		return nil, err
	}
	for _, e := range s.Labels {
		if err := e.check(); err != nil {
			return nil, err
		}
		b = e.append(b)
	}
	return b, nil
}

func parseInterfaceLabelStack(val []byte, off int) (*InterfaceLabelStack, *ParseError) {
	if len(val) < 4 {
		return nil, malformed(off, "Interface and Label Stack of length %d", len(val))
	}
	s := &InterfaceLabelStack{AddrType: AddrType(val[0])}
	n := 0
	if s.AddrType != AddrNonIP {
		n = s.addrs().decode(val[4:])
	}
	if n == 0 || (len(val)-4-n)%4 != 0 {
		return nil, malformed(off, "Interface and Label Stack of length %d with address type %d", len(val), s.AddrType)
	}
	s.Labels = decodeEntries(val[4+n:])
	return s, nil
}

// ErroredTLVs is the Errored TLVs TLV (RFC 8029 section 3.8): the
// mandatory TLVs of an echo request that were not understood, echoed as
// sub-TLVs. ParseError.NotUnderstood has them ready.
type ErroredTLVs struct {
	TLVs []RawTLV
}

// TLVType returns TLVErroredTLVs.
func (*ErroredTLVs) TLVType() uint16 { return TLVErroredTLVs }
func (*ErroredTLVs) isTLV()          {}
func (e *ErroredTLVs) appendValue(b []byte) ([]byte, error) {
	for i := range e.TLVs {
		var err error
		if b, err = appendTLV(b, &e.TLVs[i]); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// ReplyTOS is the Reply TOS Byte TLV (RFC 8029 section 3.9): the TOS
// octet the echo reply's IP header should carry.
type ReplyTOS struct {
	TOS uint8
}

// TLVType returns TLVReplyTOS.
func (*ReplyTOS) TLVType() uint16 { return TLVReplyTOS }
func (*ReplyTOS) isTLV()          {}
func (r *ReplyTOS) appendValue(b []byte) ([]byte, error) {
	return append(b, r.TOS, 0, 0, 0), nil
}

var zeros [3]byte

// appendTLV appends the type, length, value and padding of e. Length
// counts the value without the padding to the next 4-octet boundary
// (RFC 8029 section 3).
func appendTLV(b []byte, e element) ([]byte, error) {
	start := len(b)
	b = binary.BigEndian.AppendUint16(b, e.TLVType())
	b = append(b, 0, 0)
	b, err := e.appendValue(b)
	if err != nil {
		return nil, err
	}
	n := len(b) - start - 4
	if n > 0xffff {
		return nil, fmt.Errorf("lspping: TLV type %d has %d octets of value, more than 65535", e.TLVType(), n)
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(n))
	return append(b, zeros[:pad(n)]...), nil
}

// pad is the number of octets that align n to 4.
func pad(n int) int { return -n & 3 }

// walkTLVs calls fn for each TLV of b, whose first octet is at offset base
// of the message. It requires every TLV to be padded to 4 octets, as RFC
// 8029 section 3 has the sender do; the padding itself is ignored.
func walkTLVs(b []byte, base int, fn func(typ uint16, val []byte, off int) *ParseError) *ParseError {
	for off := 0; off < len(b); {
		if len(b)-off < 4 {
			return malformed(base+off, "%d octets left, too few for a TLV header", len(b)-off)
		}
		typ := binary.BigEndian.Uint16(b[off:])
		n := int(binary.BigEndian.Uint16(b[off+2:]))
		if 4+n+pad(n) > len(b)-off {
			return malformed(base+off, "TLV type %d of length %d (%d padded) overruns the %d octets left", typ, n, n+pad(n), len(b)-off-4)
		}
		if err := fn(typ, b[off+4:off+4+n], base+off+4); err != nil {
			return err
		}
		off += 4 + n + pad(n)
	}
	return nil
}

// countTLVs counts the TLVs of b that walkTLVs would visit before a
// fault, so that callers can size their slices once.
func countTLVs(b []byte) int {
	n := 0
	for len(b) >= 4 {
		l := int(binary.BigEndian.Uint16(b[2:]))
		if 4+l+pad(l) > len(b) {
			break
		}
		b = b[4+l+pad(l):]
		n++
	}
	return n
}

// sized returns a slice with room for the TLVs of b, nil if there are none.
func sized[T any](b []byte) []T {
	if n := countTLVs(b); n > 0 {
		return make([]T, 0, n)
	}
	return nil
}

// understood reports whether parseTLV knows the mandatory TLV type typ.
func understood(typ uint16) bool {
	switch typ {
	case TLVTargetFECStack, TLVPad, TLVVendorEnterprise, TLVInterfaceLabelStack,
		TLVErroredTLVs, TLVReplyTOS, TLVDownstreamDetailedMapping:
		return true
	}
	return false
}

// parseTLV decodes a top-level TLV. Unknown types give a *RawTLV; the
// caller decides whether that is an error.
func parseTLV(typ uint16, val []byte, off int) (TLV, *ParseError) {
	switch typ {
	case TLVTargetFECStack:
		s := &TargetFECStack{FECs: sized[FEC](val)}
		err := walkTLVs(val, off, func(typ uint16, val []byte, off int) *ParseError {
			if typ == FECLDPIPv4 || typ == FECLDPIPv6 {
				p, err := parseLDPPrefix(typ, val, off)
				if err != nil {
					return err
				}
				s.FECs = append(s.FECs, p)
				return nil
			}
			s.FECs = append(s.FECs, &RawTLV{Type: typ, Value: clone(val)})
			return nil
		})
		if err != nil {
			return nil, err
		}
		return s, nil
	case TLVDownstreamDetailedMapping:
		return parseDDMAP(val, off)
	case TLVPad:
		if len(val) == 0 {
			return nil, malformed(off, "empty Pad TLV")
		}
		return &Pad{Action: PadAction(val[0]), Data: clone(val[1:])}, nil
	case TLVVendorEnterprise, TLVReplyTOS:
		if len(val) != 4 {
			return nil, malformed(off, "TLV type %d of length %d, want 4", typ, len(val))
		}
		if typ == TLVReplyTOS {
			return &ReplyTOS{TOS: val[0]}, nil
		}
	case TLVInterfaceLabelStack:
		return parseInterfaceLabelStack(val, off)
	case TLVErroredTLVs:
		e := &ErroredTLVs{TLVs: sized[RawTLV](val)}
		err := walkTLVs(val, off, func(typ uint16, val []byte, _ int) *ParseError {
			e.TLVs = append(e.TLVs, RawTLV{Type: typ, Value: clone(val)})
			return nil
		})
		if err != nil {
			return nil, err
		}
		return e, nil
	}
	return &RawTLV{Type: typ, Value: clone(val)}, nil
}

// clone copies b, giving nil for an empty b.
func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}
