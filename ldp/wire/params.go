package wire

import (
	"encoding/binary"
	"net/netip"
)

// MaxLabel is the largest 20-bit MPLS label (RFC 5036 section 3.4.2.1).
const MaxLabel = 1<<20 - 1

// CommonHelloParams is the Common Hello Parameters TLV (0x0400, RFC 5036
// section 3.5.2).
type CommonHelloParams struct {
	HoldTime        uint16 // seconds; 0 = default, 0xffff = infinite
	Targeted        bool   // T bit
	RequestTargeted bool   // R bit
	GTSM            bool   // G bit, RFC 7552 section 7
}

const (
	helloTBit = 0x8000
	helloRBit = 0x4000
	helloGBit = 0x2000
)

func (p CommonHelloParams) append(b []byte) []byte {
	var f uint16
	if p.Targeted {
		f |= helloTBit
	}
	if p.RequestTargeted {
		f |= helloRBit
	}
	if p.GTSM {
		f |= helloGBit
	}
	b = fixedTLV(b, TLVCommonHelloParams, 0, 0, 0, 0)
	binary.BigEndian.PutUint16(b[len(b)-4:], p.HoldTime)
	binary.BigEndian.PutUint16(b[len(b)-2:], f)
	return b
}

func decodeCommonHelloParams(c *msgCtx, t tlvAt) (CommonHelloParams, *DecodeError) {
	if err := c.wantLen(t, 4); err != nil {
		return CommonHelloParams{}, err
	}
	f := binary.BigEndian.Uint16(t.Value[2:])
	return CommonHelloParams{
		HoldTime:        binary.BigEndian.Uint16(t.Value),
		Targeted:        f&helloTBit != 0,
		RequestTargeted: f&helloRBit != 0,
		GTSM:            f&helloGBit != 0,
	}, nil
}

// CommonSessionParams is the Common Session Parameters TLV (0x0500, RFC
// 5036 section 3.5.3).
type CommonSessionParams struct {
	ProtocolVersion    uint16
	KeepAliveTime      uint16 // seconds
	DownstreamOnDemand bool   // A bit: label advertisement discipline
	LoopDetection      bool   // D bit
	PathVectorLimit    uint8
	MaxPDULength       uint16 // 255 or less means DefaultMaxPDULen
	ReceiverID         LDPID  // the peer's LDP Identifier as we know it
}

const (
	sessABit = 0x80
	sessDBit = 0x40
)

func (p CommonSessionParams) append(b []byte) ([]byte, error) {
	b, start := beginTLV(b, false, false, TLVCommonSessionParams)
	b = binary.BigEndian.AppendUint16(b, p.ProtocolVersion)
	b = binary.BigEndian.AppendUint16(b, p.KeepAliveTime)
	var f byte
	if p.DownstreamOnDemand {
		f |= sessABit
	}
	if p.LoopDetection {
		f |= sessDBit
	}
	b = append(b, f, p.PathVectorLimit)
	b = binary.BigEndian.AppendUint16(b, p.MaxPDULength)
	b, err := appendLDPID(b, p.ReceiverID)
	if err != nil {
		return b, err
	}
	return endTLV(b, start)
}

func decodeCommonSessionParams(c *msgCtx, t tlvAt) (CommonSessionParams, *DecodeError) {
	if err := c.wantLen(t, 14); err != nil {
		return CommonSessionParams{}, err
	}
	v := t.Value
	return CommonSessionParams{
		ProtocolVersion:    binary.BigEndian.Uint16(v),
		KeepAliveTime:      binary.BigEndian.Uint16(v[2:]),
		DownstreamOnDemand: v[4]&sessABit != 0,
		LoopDetection:      v[4]&sessDBit != 0,
		PathVectorLimit:    v[5],
		MaxPDULength:       binary.BigEndian.Uint16(v[6:]),
		ReceiverID:         decodeLDPID(v[8:14]),
	}, nil
}

// Status is the Status TLV (0x0300, RFC 5036 section 3.4.6).
type Status struct {
	Code    StatusCode // 30-bit status data
	Fatal   bool       // E bit
	Forward bool       // F bit
	MsgID   uint32     // ID of the message being reported on, or 0
	MsgType MsgType    // type of that message, or 0
}

// NewStatus builds a Status with the E bit RFC 5036 section 3.9 assigns
// to code.
func NewStatus(code StatusCode, msgID uint32, msgType MsgType) Status {
	return Status{Code: code, Fatal: code.Fatal(), MsgID: msgID, MsgType: msgType}
}

func (s Status) append(b []byte) ([]byte, error) {
	if s.Code > maxStatusCode {
		return b, invalidf("status code 0x%x exceeds 30 bits", uint32(s.Code))
	}
	v := uint32(s.Code)
	if s.Fatal {
		v |= statusEBit
	}
	if s.Forward {
		v |= statusFBit
	}
	// Section 3.4.6: in a Notification the TLV's U bit SHOULD be 0 and
	// its F bit SHOULD match the status code's F bit.
	b, start := beginTLV(b, false, s.Forward, TLVStatus)
	b = binary.BigEndian.AppendUint32(b, v)
	b = binary.BigEndian.AppendUint32(b, s.MsgID)
	b = binary.BigEndian.AppendUint16(b, uint16(s.MsgType))
	return endTLV(b, start)
}

func decodeStatus(c *msgCtx, t tlvAt) (Status, *DecodeError) {
	if err := c.wantLen(t, 10); err != nil {
		return Status{}, err
	}
	v := binary.BigEndian.Uint32(t.Value)
	return Status{
		Code:    StatusCode(v & uint32(maxStatusCode)),
		Fatal:   v&statusEBit != 0,
		Forward: v&statusFBit != 0,
		MsgID:   binary.BigEndian.Uint32(t.Value[4:]),
		MsgType: MsgType(binary.BigEndian.Uint16(t.Value[8:])),
	}, nil
}

// AddressList is the Address List TLV (0x0101, RFC 5036 section 3.4.3).
type AddressList struct {
	Family AddressFamily
	Addrs  []netip.Addr
}

func (l AddressList) append(b []byte) ([]byte, error) {
	size := l.Family.addrLen()
	if size == 0 {
		return b, invalidf("address family %d", uint16(l.Family))
	}
	b, start := beginTLV(b, false, false, TLVAddressList)
	b = binary.BigEndian.AppendUint16(b, uint16(l.Family))
	for _, a := range l.Addrs {
		if FamilyOf(a) != l.Family || a.Zone() != "" {
			return b, invalidf("address %v in %v address list", a, l.Family)
		}
		b = append(b, a.AsSlice()...)
	}
	return endTLV(b, start)
}

func decodeAddressList(c *msgCtx, t tlvAt) (AddressList, *DecodeError) {
	v := t.Value
	if len(v) < 2 {
		return AddressList{}, c.errAt(t.name(), t.off, StatusBadTLVLength, "length %d below 2", len(v))
	}
	l := AddressList{Family: AddressFamily(binary.BigEndian.Uint16(v))}
	size := l.Family.addrLen()
	if size == 0 {
		return l, c.errAt(t.name(), t.off+tlvHeaderLen, StatusUnsupportedAddressFamily, "address family %d", uint16(l.Family))
	}
	v = v[2:]
	if len(v)%size != 0 {
		return l, c.errAt(t.name(), t.off, StatusMalformedTLVValue, "%d address bytes are not a multiple of %d", len(v), size)
	}
	for ; len(v) > 0; v = v[size:] {
		a, _ := netip.AddrFromSlice(v[:size])
		l.Addrs = append(l.Addrs, a)
	}
	return l, nil
}

func appendLabel(b []byte, label uint32) ([]byte, error) {
	if label > MaxLabel {
		return b, invalidf("label %d exceeds 20 bits", label)
	}
	return fixedTLV(b, TLVGenericLabel, u32(label)...), nil
}

func decodeLabel(c *msgCtx, t tlvAt) (uint32, *DecodeError) {
	if err := c.wantLen(t, 4); err != nil {
		return 0, err
	}
	l := binary.BigEndian.Uint32(t.Value)
	if l > MaxLabel {
		return 0, c.errAt(t.name(), t.off, StatusMalformedTLVValue, "label 0x%x exceeds 20 bits", l)
	}
	return l, nil
}

// decodeU32 decodes the 4-byte TLVs: Extended Status, Configuration
// Sequence Number and Label Request Message ID.
func decodeU32(c *msgCtx, t tlvAt) (uint32, *DecodeError) {
	if err := c.wantLen(t, 4); err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(t.Value), nil
}

func decodeHopCount(c *msgCtx, t tlvAt) (uint8, *DecodeError) {
	if err := c.wantLen(t, 1); err != nil {
		return 0, err
	}
	return t.Value[0], nil
}

func appendPathVector(b []byte, ids []netip.Addr) ([]byte, error) {
	b, start := beginTLV(b, false, false, TLVPathVector)
	for _, id := range ids {
		if !id.Is4() {
			return b, invalidf("path vector LSR ID %v", id)
		}
		a := id.As4()
		b = append(b, a[:]...)
	}
	return endTLV(b, start)
}

// decodePathVector decodes a Path Vector TLV (0x0104, RFC 5036 section
// 3.4.5): the LSR IDs a message has traversed.
func decodePathVector(c *msgCtx, t tlvAt) ([]netip.Addr, *DecodeError) {
	v := t.Value
	if len(v) == 0 || len(v)%4 != 0 {
		return nil, c.errAt(t.name(), t.off, StatusMalformedTLVValue, "length %d is not a positive multiple of 4", len(v))
	}
	ids := make([]netip.Addr, 0, len(v)/4)
	for ; len(v) > 0; v = v[4:] {
		ids = append(ids, netip.AddrFrom4([4]byte(v[:4])))
	}
	return ids, nil
}

// decodeTransportAddr decodes the IPv4 (0x0401) and IPv6 (0x0403, RFC
// 7552) Transport Address TLVs of a Hello.
func decodeTransportAddr(c *msgCtx, t tlvAt) (netip.Addr, *DecodeError) {
	n := 4
	if t.Type == TLVIPv6TransportAddr {
		n = 16
	}
	if err := c.wantLen(t, n); err != nil {
		return netip.Addr{}, err
	}
	a, _ := netip.AddrFromSlice(t.Value)
	return a, nil
}
