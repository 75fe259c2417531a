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
	// DualStack is the transport connection preference of the Dual-Stack
	// capability TLV (RFC 7552 section 6.1.1), AFIPv4 or AFIPv6; 0 when
	// the Hello has none (a single-stack LSR).
	DualStack AddressFamily
	Unknown   []RawTLV
}

// The TR values of the Dual-Stack capability TLV (RFC 7552 section 6.1.1),
// in the top 4 bits of its 32-bit value.
const (
	dualStackIPv4 = 0b0100
	dualStackIPv6 = 0b0110
)

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
	if m.DualStack != 0 {
		var tr uint32
		switch m.DualStack {
		case AFIPv4:
			tr = dualStackIPv4
		case AFIPv6:
			tr = dualStackIPv6
		default:
			return b, invalidf("dual-stack preference %v", m.DualStack)
		}
		// Sent with the U bit: an LSR that does not know it ignores it
		// (RFC 7552 section 6.1.1).
		var start int
		b, start = beginTLV(b, true, false, TLVDualStack)
		b = binary.BigEndian.AppendUint32(b, tr<<28)
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
					switch v >> 28 {
					case dualStackIPv4:
						m.DualStack = AFIPv4
					case dualStackIPv6:
						m.DualStack = AFIPv6
					default:
						err = c.errAt(t.name(), t.off, StatusMalformedTLVValue, "dual-stack transport preference 0x%08x is neither LDPoIPv4 nor LDPoIPv6", v)
					}
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
