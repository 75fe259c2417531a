package wire

import (
	"encoding/binary"
	"fmt"
)

// MsgType is the 15-bit LDP message type, without the U bit (RFC 5036
// section 3.5).
type MsgType uint16

// Message types of RFC 5036 section 3.5 and RFC 5561 section 5.
const (
	MsgNotification      MsgType = 0x0001
	MsgHello             MsgType = 0x0100
	MsgInitialization    MsgType = 0x0200
	MsgKeepAlive         MsgType = 0x0201
	MsgCapability        MsgType = 0x0202 // RFC 5561
	MsgAddress           MsgType = 0x0300
	MsgAddressWithdraw   MsgType = 0x0301
	MsgLabelMapping      MsgType = 0x0400
	MsgLabelRequest      MsgType = 0x0401
	MsgLabelWithdraw     MsgType = 0x0402
	MsgLabelRelease      MsgType = 0x0403
	MsgLabelAbortRequest MsgType = 0x0404
)

const (
	msgHeaderLen = 8 // type, length and Message ID
	msgUBit      = 0x8000
	msgTypeMask  = 0x7FFF
)

type msgDecoder func(c *msgCtx, r *tlvReader) (Message, *DecodeError)

var msgInfo = map[MsgType]struct {
	name string
	dec  msgDecoder
}{
	MsgNotification:      {"Notification", decodeNotification},
	MsgHello:             {"Hello", decodeHello},
	MsgInitialization:    {"Initialization", decodeInitialization},
	MsgKeepAlive:         {"KeepAlive", decodeKeepAlive},
	MsgCapability:        {"Capability", decodeCapabilityMsg},
	MsgAddress:           {"Address", decodeAddress},
	MsgAddressWithdraw:   {"Address Withdraw", decodeAddressWithdraw},
	MsgLabelMapping:      {"Label Mapping", decodeLabelMapping},
	MsgLabelRequest:      {"Label Request", decodeLabelRequest},
	MsgLabelWithdraw:     {"Label Withdraw", decodeLabelWithdraw},
	MsgLabelRelease:      {"Label Release", decodeLabelRelease},
	MsgLabelAbortRequest: {"Label Abort Request", decodeLabelAbortRequest},
}

// String returns the RFC name of the message type, or its hex value.
func (t MsgType) String() string {
	if i, ok := msgInfo[t]; ok {
		return i.name
	}
	return fmt.Sprintf("Message(0x%04x)", uint16(t))
}

// Message is one LDP message. Every message carries a Message ID (RFC
// 5036 section 3.5) that the peer echoes in Status TLVs.
type Message interface {
	// Type returns the message type.
	Type() MsgType
	// MessageID returns the Message ID.
	MessageID() uint32
	// SetMessageID sets the Message ID (senders number their messages).
	SetMessageID(id uint32)
	// appendParams appends the mandatory then optional parameters.
	appendParams(b []byte) ([]byte, error)
}

// RawMessage is a message kept verbatim: one of unknown type (RFC 5036
// section 3.5: U=0 means notify "Unknown Message Type", U=1 means ignore
// silently), or one of known type that failed to decode for a non-fatal
// reason reported alongside it. Re-encoding emits the original bytes.
type RawMessage struct {
	U       bool
	MsgType MsgType
	MsgID   uint32
	Params  []byte // everything after the Message ID
}

// Type returns the message type.
func (m *RawMessage) Type() MsgType { return m.MsgType }

// MessageID returns the Message ID.
func (m *RawMessage) MessageID() uint32 { return m.MsgID }

// SetMessageID sets the Message ID.
func (m *RawMessage) SetMessageID(id uint32) { m.MsgID = id }

func (m *RawMessage) appendParams(b []byte) ([]byte, error) { return append(b, m.Params...), nil }

// AppendMessage appends the wire encoding of m, header included, to b.
func AppendMessage(b []byte, m Message) ([]byte, error) {
	t := m.Type()
	if t > msgTypeMask {
		return b, invalidf("message type 0x%04x exceeds 15 bits", uint16(t))
	}
	h := uint16(t)
	if r, ok := m.(*RawMessage); ok && r.U {
		h |= msgUBit
	}
	start := len(b)
	b = binary.BigEndian.AppendUint16(b, h)
	b = append(b, 0, 0)
	b = binary.BigEndian.AppendUint32(b, m.MessageID())
	b, err := m.appendParams(b)
	if err != nil {
		return b[:start], fmt.Errorf("%v message: %w", t, err)
	}
	n := len(b) - start - 4
	if n > 0xFFFF {
		return b[:start], fmt.Errorf("%v message: %w", t, invalidf("length %d exceeds 65535", n))
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(n))
	return b, nil
}

// msgCtx carries what error reports need about the message being decoded
// and collects its first non-fatal error.
type msgCtx struct {
	name   string
	typ    MsgType
	id     uint32
	off    int
	index  int
	soft   *DecodeError // first non-fatal error; the engine ignores the message
	broken bool         // the typed form could not be built; keep it raw
	// unknownTLVs is the PDU's count of unknown TLVs (nil: not counted).
	unknownTLVs *int
}

func (c *msgCtx) errAt(tlv string, off int, st StatusCode, format string, args ...any) *DecodeError {
	return &DecodeError{
		Msg: c.name, MsgType: c.typ, MsgID: c.id, Index: c.index,
		TLV: tlv, Offset: off, Status: st, Err: fmt.Errorf(format, args...),
	}
}

// fatal reports whether err must abort decoding of the whole PDU. A
// non-fatal error marks the message as broken and is remembered.
func (c *msgCtx) fatal(err *DecodeError) bool {
	if err == nil {
		return false
	}
	if err.Fatal() {
		return true
	}
	c.broken = true
	if c.soft == nil {
		c.soft = err
	}
	return false
}

// unknown keeps a TLV the message does not define. RFC 5036 section 3.3:
// with U=0 the whole message must be ignored and "Unknown TLV" notified;
// the TLV is kept either way so the engine sees and can forward it.
func (c *msgCtx) unknown(t tlvAt, dst *[]RawTLV) {
	*dst = append(*dst, t.raw())
	if c.unknownTLVs != nil {
		*c.unknownTLVs++
	}
	if !t.U && c.soft == nil {
		c.soft = c.errAt(t.name(), t.off, StatusUnknownTLV, "unknown TLV 0x%04x with U bit clear", uint16(t.Type))
	}
}

// once rejects a second copy of a TLV that the message layout allows once.
func (c *msgCtx) once(seen *bool, t tlvAt) *DecodeError {
	if *seen {
		return c.errAt(t.name(), t.off, StatusMalformedTLVValue, "duplicate TLV")
	}
	*seen = true
	return nil
}

// require records a missing mandatory parameter (RFC 5036 section 3.5:
// "Missing Message Parameters").
func (c *msgCtx) require(seen bool, t TLVType) {
	if !seen {
		c.fatal(c.errAt(t.String(), c.off, StatusMissingMessageParameters, "mandatory %v TLV absent", t))
	}
}

// wantLen checks a fixed-size TLV value.
func (c *msgCtx) wantLen(t tlvAt, n int) *DecodeError {
	if len(t.Value) != n {
		return c.errAt(t.name(), t.off, StatusBadTLVLength, "length %d, want %d", len(t.Value), n)
	}
	return nil
}
