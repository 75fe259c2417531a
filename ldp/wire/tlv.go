package wire

import (
	"encoding/binary"
	"fmt"
)

// TLVType is the 14-bit type of a TLV, without the U and F bits (RFC 5036
// section 3.3).
type TLVType uint16

// TLV types of RFC 5036 section 3.4 and of the extensions this package
// decodes. Types not decoded here (ATM and Frame Relay labels and session
// parameters, RFC 4447 pseudowire TLVs ...) are kept as RawTLV.
const (
	TLVFEC                     TLVType = 0x0100
	TLVAddressList             TLVType = 0x0101
	TLVHopCount                TLVType = 0x0103
	TLVPathVector              TLVType = 0x0104
	TLVGenericLabel            TLVType = 0x0200
	TLVATMLabel                TLVType = 0x0201
	TLVFrameRelayLabel         TLVType = 0x0202
	TLVStatus                  TLVType = 0x0300
	TLVExtendedStatus          TLVType = 0x0301
	TLVReturnedPDU             TLVType = 0x0302
	TLVReturnedMessage         TLVType = 0x0303
	TLVReturnedTLVs            TLVType = 0x0304 // RFC 5561
	TLVCommonHelloParams       TLVType = 0x0400
	TLVIPv4TransportAddr       TLVType = 0x0401
	TLVConfigSeqNumber         TLVType = 0x0402
	TLVIPv6TransportAddr       TLVType = 0x0403
	TLVCommonSessionParams     TLVType = 0x0500
	TLVATMSessionParams        TLVType = 0x0501
	TLVFrameRelaySessionParams TLVType = 0x0502
	TLVFTSession               TLVType = 0x0503 // RFC 3479, used by RFC 3478
	TLVDynamicAnnouncementCap  TLVType = 0x0506 // RFC 5561
	TLVTypedWildcardFECCap     TLVType = 0x050B // RFC 5918
	TLVLabelRequestMsgID       TLVType = 0x0600
	TLVUnrecognizedNotifCap    TLVType = 0x0603 // RFC 5919
	TLVDualStack               TLVType = 0x0701 // RFC 7552, sent with the U bit
)

var tlvNames = map[TLVType]string{
	TLVFEC:                     "FEC",
	TLVAddressList:             "Address List",
	TLVHopCount:                "Hop Count",
	TLVPathVector:              "Path Vector",
	TLVGenericLabel:            "Generic Label",
	TLVATMLabel:                "ATM Label",
	TLVFrameRelayLabel:         "Frame Relay Label",
	TLVStatus:                  "Status",
	TLVExtendedStatus:          "Extended Status",
	TLVReturnedPDU:             "Returned PDU",
	TLVReturnedMessage:         "Returned Message",
	TLVReturnedTLVs:            "Returned TLVs",
	TLVCommonHelloParams:       "Common Hello Parameters",
	TLVIPv4TransportAddr:       "IPv4 Transport Address",
	TLVConfigSeqNumber:         "Configuration Sequence Number",
	TLVIPv6TransportAddr:       "IPv6 Transport Address",
	TLVDualStack:               "Dual-Stack capability",
	TLVCommonSessionParams:     "Common Session Parameters",
	TLVATMSessionParams:        "ATM Session Parameters",
	TLVFrameRelaySessionParams: "Frame Relay Session Parameters",
	TLVFTSession:               "FT Session",
	TLVDynamicAnnouncementCap:  "Dynamic Announcement Capability",
	TLVTypedWildcardFECCap:     "Typed Wildcard FEC Capability",
	TLVLabelRequestMsgID:       "Label Request Message ID",
	TLVUnrecognizedNotifCap:    "Unrecognized Notification Capability",
}

// String returns the RFC name of the TLV type, or its hex value.
func (t TLVType) String() string {
	if n, ok := tlvNames[t]; ok {
		return n
	}
	return fmt.Sprintf("TLV(0x%04x)", uint16(t))
}

const (
	tlvHeaderLen = 4
	tlvUBit      = 0x8000
	tlvFBit      = 0x4000
	tlvTypeMask  = 0x3FFF
)

// RawTLV is a TLV kept verbatim, typically one this package does not
// know or that is unexpected in its message. RFC 5036 section 3.3 makes
// the receiver's behaviour depend on U (ignore silently rather than
// notify) and F (forward with the message), so both are preserved and
// re-encoding emits the exact original bytes.
type RawTLV struct {
	U     bool
	F     bool
	Type  TLVType
	Value []byte
}

func (t RawTLV) append(b []byte) ([]byte, error) {
	if t.Type > tlvTypeMask {
		return b, invalidf("TLV type 0x%04x exceeds 14 bits", uint16(t.Type))
	}
	if len(t.Value) > 0xFFFF {
		return b, invalidf("TLV 0x%04x value of %d bytes", uint16(t.Type), len(t.Value))
	}
	h := uint16(t.Type)
	if t.U {
		h |= tlvUBit
	}
	if t.F {
		h |= tlvFBit
	}
	b = binary.BigEndian.AppendUint16(b, h)
	b = binary.BigEndian.AppendUint16(b, uint16(len(t.Value)))
	return append(b, t.Value...), nil
}

func appendRawTLVs(b []byte, ts []RawTLV) ([]byte, error) {
	var err error
	for _, t := range ts {
		if b, err = t.append(b); err != nil {
			return b, err
		}
	}
	return b, nil
}

// beginTLV writes a TLV header with a placeholder length; endTLV patches
// the length once the value has been appended.
func beginTLV(b []byte, u, f bool, t TLVType) ([]byte, int) {
	h := uint16(t)
	if u {
		h |= tlvUBit
	}
	if f {
		h |= tlvFBit
	}
	start := len(b)
	b = binary.BigEndian.AppendUint16(b, h)
	return append(b, 0, 0), start
}

func endTLV(b []byte, start int) ([]byte, error) {
	n := len(b) - start - tlvHeaderLen
	if n > 0xFFFF {
		return b, invalidf("TLV 0x%04x value of %d bytes", binary.BigEndian.Uint16(b[start:])&tlvTypeMask, n)
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(n))
	return b, nil
}

// fixedTLV appends a TLV with U=0 and F=0 (the RFC 5036 setting for every
// base TLV sent by a conforming LSR) whose value is v.
func fixedTLV(b []byte, t TLVType, v ...byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(t))
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// tlvAt is a TLV as found in a PDU, with the offset of its header.
type tlvAt struct {
	RawTLV
	off int
}

func (t tlvAt) name() string { return t.Type.String() }

func (t tlvAt) raw() RawTLV {
	r := t.RawTLV
	r.Value = clone(r.Value)
	return r
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// tlvReader walks the parameters of one message. Values alias the PDU.
type tlvReader struct {
	c   *msgCtx
	b   []byte
	pos int
	off int // PDU offset of b[0]
}

// next returns the following TLV; ok is false at the end of the message.
// A TLV whose length overruns the message is a Bad TLV Length (RFC 5036
// section 3.5.1.2.1 treats it as fatal).
// each calls f on every TLV left, in order, and stops at the first fatal
// error, from framing or from f; a non-fatal one from f is recorded in the
// message's context (RFC 5036 section 3.5: the rest of the message is still
// read) and the walk goes on.
func (r *tlvReader) each(f func(t tlvAt) *DecodeError) *DecodeError {
	for {
		t, ok, err := r.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if err := f(t); r.c.fatal(err) {
			return err
		}
	}
}

func (r *tlvReader) next() (t tlvAt, ok bool, err *DecodeError) {
	rest := len(r.b) - r.pos
	if rest == 0 {
		return t, false, nil
	}
	off := r.off + r.pos
	if rest < tlvHeaderLen {
		return t, false, r.c.errAt("", off, StatusBadTLVLength, "%d trailing bytes cannot hold a TLV header", rest)
	}
	h := binary.BigEndian.Uint16(r.b[r.pos:])
	l := int(binary.BigEndian.Uint16(r.b[r.pos+2:]))
	t.U = h&tlvUBit != 0
	t.F = h&tlvFBit != 0
	t.Type = TLVType(h & tlvTypeMask)
	t.off = off
	if l > rest-tlvHeaderLen {
		return t, false, r.c.errAt(t.name(), off, StatusBadTLVLength, "length %d overruns message by %d bytes", l, l-(rest-tlvHeaderLen))
	}
	t.Value = r.b[r.pos+tlvHeaderLen : r.pos+tlvHeaderLen+l]
	r.pos += tlvHeaderLen + l
	return t, true, nil
}
