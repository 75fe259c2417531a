package wire

import (
	"encoding/binary"
	"net/netip"
)

// Hello is the Hello message (0x0100, RFC 5036 section 3.5.2).
// TransportAddr, when valid, is sent as an IPv4 Transport Address TLV
// (0x0401) or, for an IPv6 address, as the IPv6 Transport Address TLV
// (0x0403) of RFC 7552.
type Hello struct {
	MsgID         uint32
	Params        CommonHelloParams
	TransportAddr netip.Addr
	ConfigSeq     *uint32
	// DualStack is the Dual-Stack capability TLV (RFC 7552 section
	// 6.1.1); nil when the Hello has none (a single-stack LSR).
	DualStack *DualStack
	Unknown   []RawTLV
}

// DualStack is the Dual-Stack capability TLV (0x0701, sent with the U bit):
// the transport connection preference of a dual-stack LSR.
type DualStack struct {
	// TR is the preference, the top 4 bits of the TLV's value:
	// DualStackIPv4 or DualStackIPv6. Other values are kept as received:
	// RFC 7552 has the receiver treat one it does not recognize as a
	// mismatch, which is the engine's decision.
	TR uint8
}

// The TR values of RFC 7552 section 6.1.1.
const (
	DualStackIPv4 uint8 = 0b0100 // LDPoIPv4
	DualStackIPv6 uint8 = 0b0110 // LDPoIPv6
)

// NewDualStack returns the TLV preferring af.
func NewDualStack(af AddressFamily) *DualStack {
	if af == AFIPv4 {
		return &DualStack{TR: DualStackIPv4}
	}
	return &DualStack{TR: DualStackIPv6}
}

// Family is the family TR prefers, 0 when TR is not a value RFC 7552
// defines.
func (d DualStack) Family() AddressFamily {
	switch d.TR {
	case DualStackIPv4:
		return AFIPv4
	case DualStackIPv6:
		return AFIPv6
	}
	return 0
}

// Type returns MsgHello.
func (*Hello) Type() MsgType { return MsgHello }

// MessageID returns the Message ID.
func (m *Hello) MessageID() uint32 { return m.MsgID }

// SetMessageID sets the Message ID.
func (m *Hello) SetMessageID(id uint32) { m.MsgID = id }

func (m *Hello) appendParams(b []byte) ([]byte, error) {
	b = m.Params.append(b)
	a := m.TransportAddr
	switch {
	case !a.IsValid():
	case a.Is4():
		b = fixedTLV(b, TLVIPv4TransportAddr, a.AsSlice()...)
	case a.Zone() != "":
		return b, invalidf("transport address %v has a zone", a)
	}
	if m.ConfigSeq != nil {
		b = fixedTLV(b, TLVConfigSeqNumber, u32(*m.ConfigSeq)...)
	}
	// RFC 5036 section 3.5.2 lists the IPv6 Transport Address after the
	// Configuration Sequence Number.
	if a.Is6() {
		b = fixedTLV(b, TLVIPv6TransportAddr, a.AsSlice()...)
	}
	if m.DualStack != nil {
		if m.DualStack.TR > 0xf {
			return b, invalidf("dual-stack preference %d does not fit 4 bits", m.DualStack.TR)
		}
		// Sent with the U bit: an LSR that does not know it ignores it
		// (RFC 7552 section 6.1.1).
		var start int
		b, start = beginTLV(b, true, false, TLVDualStack)
		b = binary.BigEndian.AppendUint32(b, uint32(m.DualStack.TR)<<28)
		var err error
		if b, err = endTLV(b, start); err != nil {
			return b, err
		}
	}
	return appendRawTLVs(b, m.Unknown)
}

func decodeHello(c *msgCtx, r *tlvReader) (Message, *DecodeError) {
	m := &Hello{MsgID: c.id}
	var seenParams, seenAddr, seenSeq, seenDS bool
	if err := r.each(func(t tlvAt) (err *DecodeError) {
		switch t.Type {
		case TLVCommonHelloParams:
			if err = c.once(&seenParams, t); err == nil {
				m.Params, err = decodeCommonHelloParams(c, t)
			}
		case TLVIPv4TransportAddr, TLVIPv6TransportAddr:
			// One transport address per Hello: a Hello is sent per
			// address family (RFC 7552 section 6.1).
			if err = c.once(&seenAddr, t); err == nil {
				m.TransportAddr, err = decodeTransportAddr(c, t)
			}
		case TLVConfigSeqNumber:
			if err = c.once(&seenSeq, t); err == nil {
				var v uint32
				v, err = decodeU32(c, t)
				m.ConfigSeq = &v
			}
		case TLVDualStack:
			if err = c.once(&seenDS, t); err == nil {
				var v uint32
				if v, err = decodeU32(c, t); err == nil {
					// The other 28 bits are reserved: ignored.
					m.DualStack = &DualStack{TR: uint8(v >> 28)}
				}
			}
		default:
			c.unknown(t, &m.Unknown)
		}
		return err
	}); err != nil {
		return nil, err
	}
	c.require(seenParams, TLVCommonHelloParams)
	return m, nil
}
