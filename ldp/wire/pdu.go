package wire

import (
	"encoding/binary"
	"fmt"
)

// PDU is one LDP PDU (RFC 5036 section 3.1): the sender's LDP Identifier
// and one or more messages. Version and PDU Length are implied.
type PDU struct {
	ID       LDPID
	Messages []Message
	// UnknownTLVs counts, when decoded, the TLVs no message layout
	// defines (kept in the messages' Unknown fields, or in a RawMessage
	// whose message had to be ignored); encoding ignores it.
	UnknownTLVs int
}

// DecodePDU decodes exactly one PDU; b must hold the whole PDU and
// nothing more (see ReadPDU and PDUSize for framing a stream).
//
// Errors come in two kinds, following RFC 5036 section 3.5.1.2. A fatal
// error (header, length or value errors whose status has the E bit set)
// returns a nil PDU and a *DecodeError. Non-fatal errors (Unknown
// Message Type, Unknown TLV with U=0, Missing Message Parameters,
// Unsupported Address Family, Unknown FEC) return the decoded PDU
// together with MessageErrors, whose Index fields point at the messages
// the engine must ignore and notify about; those messages are kept, as
// RawMessage when their typed form could not be built.
func DecodePDU(b []byte) (*PDU, error) {
	if len(b) < HeaderLen {
		return nil, headerError(0, StatusBadPDULength, "%d bytes cannot hold a PDU header", len(b))
	}
	n, err := PDUSize(b, 0)
	if err != nil {
		return nil, err
	}
	if n != len(b) {
		return nil, headerError(2, StatusBadPDULength, "PDU length %d does not match %d bytes received", n-pduLenOffset, len(b)-pduLenOffset)
	}
	p := &PDU{ID: decodeLDPID(b[4:HeaderLen])}
	var soft MessageErrors
	for pos := HeaderLen; pos < len(b); {
		rest := len(b) - pos
		if rest < msgHeaderLen {
			return nil, headerError(pos, StatusBadMessageLength, "%d trailing bytes cannot hold a message header", rest)
		}
		h := binary.BigEndian.Uint16(b[pos:])
		l := int(binary.BigEndian.Uint16(b[pos+2:]))
		c := &msgCtx{typ: MsgType(h & msgTypeMask), id: binary.BigEndian.Uint32(b[pos+4:]), off: pos, index: len(p.Messages), unknownTLVs: &p.UnknownTLVs}
		c.name = c.typ.String()
		if l < 4 {
			return nil, c.errAt("", pos, StatusBadMessageLength, "message length %d below 4", l)
		}
		if l > rest-4 {
			return nil, c.errAt("", pos, StatusBadMessageLength, "message length %d overruns PDU by %d bytes", l, l-(rest-4))
		}
		params := b[pos+msgHeaderLen : pos+4+l]
		var m Message
		if info, ok := msgInfo[c.typ]; ok {
			var derr *DecodeError
			m, derr = info.dec(c, &tlvReader{c: c, b: params, off: pos + msgHeaderLen})
			if derr != nil {
				return nil, derr
			}
		} else if h&msgUBit == 0 {
			c.soft = c.errAt("", pos, StatusUnknownMessageType, "unknown message type 0x%04x with U bit clear", uint16(c.typ))
		}
		if m == nil || c.broken {
			m = &RawMessage{U: h&msgUBit != 0, MsgType: c.typ, MsgID: c.id, Params: clone(params)}
		}
		if c.soft != nil {
			soft = append(soft, c.soft)
		}
		p.Messages = append(p.Messages, m)
		pos += 4 + l
	}
	if soft != nil {
		return p, soft
	}
	return p, nil
}

// AppendBinary appends the wire encoding of the PDU to b
// (encoding.BinaryAppender).
func (p *PDU) AppendBinary(b []byte) ([]byte, error) {
	start := len(b)
	b = binary.BigEndian.AppendUint16(b, Version)
	b = append(b, 0, 0)
	b, err := appendLDPID(b, p.ID)
	if err != nil {
		return b[:start], err
	}
	if len(p.Messages) == 0 {
		return b[:start], invalidf("PDU without messages")
	}
	for _, m := range p.Messages {
		if b, err = AppendMessage(b, m); err != nil {
			return b[:start], err
		}
	}
	n := len(b) - start - pduLenOffset
	if n > 0xFFFF {
		return b[:start], fmt.Errorf("PDU: %w", invalidf("length %d exceeds 65535", n))
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(n))
	return b, nil
}

// MarshalBinary returns the wire encoding of the PDU
// (encoding.BinaryMarshaler).
func (p *PDU) MarshalBinary() ([]byte, error) { return p.AppendBinary(nil) }
