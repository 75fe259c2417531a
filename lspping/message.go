package lspping

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// Version is the version number of the message format (RFC 8029
// section 3). Marshal always writes it; Parse rejects any other.
const Version = 1

// Port is the UDP port of MPLS echo requests (RFC 8029 section 6.1).
const Port = 3503

// HeaderLen is the length of the fixed part of a message, before the TLVs.
const HeaderLen = 32

// MessageType is the Message Type field (RFC 8029 section 3).
type MessageType uint8

// Message types.
const (
	EchoRequest MessageType = 1 // MPLS Echo Request
	EchoReply   MessageType = 2 // MPLS Echo Reply
)

// String returns the RFC 8029 name of the message type.
func (t MessageType) String() string {
	switch t {
	case EchoRequest:
		return "MPLS Echo Request"
	case EchoReply:
		return "MPLS Echo Reply"
	}
	return "MessageType(" + strconv.Itoa(int(t)) + ")"
}

// ReplyMode is the Reply Mode field (RFC 8029 section 3).
type ReplyMode uint8

// Reply modes.
const (
	ReplyNone           ReplyMode = 1 // Do not reply
	ReplyUDP            ReplyMode = 2 // Reply via an IPv4/IPv6 UDP packet
	ReplyUDPRouterAlert ReplyMode = 3 // Reply via an IPv4/IPv6 UDP packet with Router Alert
	ReplyControlChannel ReplyMode = 4 // Reply via application-level control channel
)

// String returns the RFC 8029 meaning of the reply mode.
func (r ReplyMode) String() string {
	switch r {
	case ReplyNone:
		return "Do not reply"
	case ReplyUDP:
		return "Reply via an IPv4/IPv6 UDP packet"
	case ReplyUDPRouterAlert:
		return "Reply via an IPv4/IPv6 UDP packet with Router Alert"
	case ReplyControlChannel:
		return "Reply via application-level control channel"
	}
	return "ReplyMode(" + strconv.Itoa(int(r)) + ")"
}

// GlobalFlags is the Global Flags field (RFC 8029 section 3). Bit 15 of
// the RFC, the last one on the wire, is the least significant bit here.
type GlobalFlags uint16

// Global flags. The other bits must be zero when sent and are ignored on
// receipt: Parse clears them and Marshal never writes them.
const (
	FlagValidateFEC         GlobalFlags = 1 << 0 // V: Validate FEC Stack
	FlagRespondTTLExpired   GlobalFlags = 1 << 1 // T: Respond Only If TTL Expired (RFC 6425)
	FlagValidateReversePath GlobalFlags = 1 << 2 // R: Validate Reverse Path (RFC 6426)

	knownGlobalFlags = FlagValidateFEC | FlagRespondTTLExpired | FlagValidateReversePath
)

// ReturnCode is the Return Code of an echo reply (RFC 8029 section 3.1),
// also carried by the Downstream Detailed Mapping TLV.
type ReturnCode uint8

// Return codes. Where the name says "at stack-depth", the Return Subcode
// carries the depth, the bottom of the label stack being 1 (section 4.4).
const (
	RCNone                    ReturnCode = 0  // No Return Code
	RCMalformedRequest        ReturnCode = 1  // Malformed echo request received
	RCTLVNotUnderstood        ReturnCode = 2  // One or more of the TLVs was not understood
	RCEgress                  ReturnCode = 3  // Replying router is an egress for the FEC at stack-depth <RSC>
	RCNoMapping               ReturnCode = 4  // Replying router has no mapping for the FEC at stack-depth <RSC>
	RCDownstreamMismatch      ReturnCode = 5  // Downstream Mapping Mismatch
	RCUpstreamIfIndexUnknown  ReturnCode = 6  // Upstream Interface Index Unknown
	RCLabelSwitched           ReturnCode = 8  // Label switched at stack-depth <RSC>
	RCLabelSwitchedNoMPLS     ReturnCode = 9  // Label switched but no MPLS forwarding at stack-depth <RSC>
	RCMappingNotGivenLabel    ReturnCode = 10 // Mapping for this FEC is not the given label at stack-depth <RSC>
	RCNoLabelEntry            ReturnCode = 11 // No label entry at stack-depth <RSC>
	RCProtocolNotAssociated   ReturnCode = 12 // Protocol not associated with interface at FEC stack-depth <RSC>
	RCPrematureTermination    ReturnCode = 13 // Premature termination of ping due to label stack shrinking to a single label
	RCSeeDDMAP                ReturnCode = 14 // See DDMAP TLV for meaning of Return Code and Return Subcode
	RCLabelSwitchedFECChanged ReturnCode = 15 // Label switched with FEC change
)

var returnCodeNames = [...]string{
	RCNone:                    "No Return Code",
	RCMalformedRequest:        "Malformed echo request received",
	RCTLVNotUnderstood:        "One or more of the TLVs was not understood",
	RCEgress:                  "Replying router is an egress for the FEC at stack-depth",
	RCNoMapping:               "Replying router has no mapping for the FEC at stack-depth",
	RCDownstreamMismatch:      "Downstream Mapping Mismatch",
	RCUpstreamIfIndexUnknown:  "Upstream Interface Index Unknown",
	7:                         "Reserved",
	RCLabelSwitched:           "Label switched at stack-depth",
	RCLabelSwitchedNoMPLS:     "Label switched but no MPLS forwarding at stack-depth",
	RCMappingNotGivenLabel:    "Mapping for this FEC is not the given label at stack-depth",
	RCNoLabelEntry:            "No label entry at stack-depth",
	RCProtocolNotAssociated:   "Protocol not associated with interface at FEC stack-depth",
	RCPrematureTermination:    "Premature termination of ping due to label stack shrinking to a single label",
	RCSeeDDMAP:                "See DDMAP TLV for meaning of Return Code and Return Subcode",
	RCLabelSwitchedFECChanged: "Label switched with FEC change",
}

// String returns the meaning of the code as RFC 8029 section 3.1 words it.
func (c ReturnCode) String() string {
	if int(c) < len(returnCodeNames) {
		return returnCodeNames[c]
	}
	return "ReturnCode(" + strconv.Itoa(int(c)) + ")"
}

// Timestamp is a 64-bit NTP timestamp (RFC 5905 section 6): seconds since
// 1900-01-01 UTC in the upper 32 bits, fraction of a second in the lower.
// Zero means "not set", as in the TimeStamp Received of an echo request.
type Timestamp uint64

// ntpUnixOffset is the number of seconds from 1900-01-01 to 1970-01-01.
const ntpUnixOffset = 2208988800

// NewTimestamp converts t to NTP format. The zero time gives 0. The
// fraction is rounded up, so that Time gives back t to the nanosecond.
func NewTimestamp(t time.Time) Timestamp {
	if t.IsZero() {
		return 0
	}
	sec := uint64(t.Unix() + ntpUnixOffset) // modulo 2^32: the era is implied
	frac := (uint64(t.Nanosecond())<<32 + 999999999) / 1e9
	return Timestamp(sec<<32 | frac)
}

// Seconds is the seconds part of the timestamp.
func (ts Timestamp) Seconds() uint32 { return uint32(ts >> 32) }

// Fraction is the fraction part, in units of 2^-32 seconds.
func (ts Timestamp) Fraction() uint32 { return uint32(ts) }

// Time converts the timestamp to a time.Time. The era is inferred as is
// usual: seconds with the high bit clear are taken to be after 2036-02-07
// (era 1), so timestamps cover 1968 to 2104. Zero gives the zero time.
func (ts Timestamp) Time() time.Time {
	if ts == 0 {
		return time.Time{}
	}
	sec := int64(ts.Seconds())
	if sec&0x80000000 == 0 {
		sec += 1 << 32
	}
	nsec := int64(uint64(ts.Fraction()) * 1e9 >> 32)
	return time.Unix(sec-ntpUnixOffset, nsec).UTC()
}

// Message is an MPLS echo request or reply (RFC 8029 section 3).
type Message struct {
	Flags             GlobalFlags
	Type              MessageType
	ReplyMode         ReplyMode
	ReturnCode        ReturnCode
	ReturnSubcode     uint8
	SenderHandle      uint32
	SequenceNumber    uint32
	TimestampSent     Timestamp
	TimestampReceived Timestamp
	TLVs              []TLV // in wire order
}

// NewRequest returns an echo request for the LDP FEC fec: a Target FEC
// Stack TLV with one LDP IPv4 or IPv6 prefix sub-TLV, the Return Code and
// TimeStamp Received zero (RFC 8029 section 4.3). Traceroute callers add
// a DownstreamDetailedMapping to TLVs.
func NewRequest(handle, seq uint32, sent time.Time, fec netip.Prefix, mode ReplyMode, flags GlobalFlags) *Message {
	return &Message{
		Flags:          flags,
		Type:           EchoRequest,
		ReplyMode:      mode,
		SenderHandle:   handle,
		SequenceNumber: seq,
		TimestampSent:  NewTimestamp(sent),
		TLVs:           []TLV{&TargetFECStack{FECs: []FEC{&LDPPrefix{Prefix: fec}}}},
	}
}

// TargetFECs returns the FECs of the first Target FEC Stack TLV, the first
// one describing the top of the label stack, or nil if there is none.
func (m *Message) TargetFECs() []FEC {
	for _, t := range m.TLVs {
		if s, ok := t.(*TargetFECStack); ok {
			return s.FECs
		}
	}
	return nil
}

// Marshal is m.MarshalBinary.
func Marshal(m *Message) ([]byte, error) { return m.MarshalBinary() }

// MarshalBinary encodes m. It fails on values the wire cannot carry, such
// as an invalid prefix or a TLV longer than 65535 octets.
func (m *Message) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

// AppendBinary appends the encoding of m to b.
func (m *Message) AppendBinary(b []byte) ([]byte, error) {
	b = binary.BigEndian.AppendUint16(b, Version)
	b = binary.BigEndian.AppendUint16(b, uint16(m.Flags&knownGlobalFlags))
	b = append(b, byte(m.Type), byte(m.ReplyMode), byte(m.ReturnCode), m.ReturnSubcode)
	b = binary.BigEndian.AppendUint32(b, m.SenderHandle)
	b = binary.BigEndian.AppendUint32(b, m.SequenceNumber)
	b = binary.BigEndian.AppendUint64(b, uint64(m.TimestampSent))
	b = binary.BigEndian.AppendUint64(b, uint64(m.TimestampReceived))
	for _, t := range m.TLVs {
		var err error
		if b, err = appendTLV(b, t); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// ParseError reports why Parse rejected a message, and what the responder
// should answer (RFC 8029 section 4.4 step 1).
type ParseError struct {
	// Code is the Return Code for the echo reply: RCMalformedRequest, or
	// RCTLVNotUnderstood when the message is well formed but has
	// mandatory TLVs (types below 32768) this package does not know.
	Code ReturnCode
	// NotUnderstood lists those TLVs, in wire order, for the reply's
	// Errored TLVs TLV (section 3.8). Empty unless Code is
	// RCTLVNotUnderstood.
	NotUnderstood []RawTLV
	// Header has the fixed header fields (no TLVs), which the reply
	// copies whatever the error; nil when the input is shorter than the
	// header.
	Header *Message
	// Offset is where in the input the fault was found.
	Offset int
	// Reason describes the fault.
	Reason string
}

// Error gives the offset, the fault and the return code.
func (e *ParseError) Error() string {
	return fmt.Sprintf("lspping: at offset %d: %s (return code %d, %s)", e.Offset, e.Reason, e.Code, e.Code)
}

func malformed(off int, format string, args ...any) *ParseError {
	return &ParseError{Code: RCMalformedRequest, Offset: off, Reason: fmt.Sprintf(format, args...)}
}

// Parse decodes an echo request or reply: the UDP payload, without IP or
// UDP header. It returns a *ParseError if the message is malformed or has
// mandatory TLVs it does not understand. An echo request must carry a
// Target FEC Stack with at least one FEC, and at most one Downstream
// Detailed Mapping TLV (sections 3.2, 3.4 and 4.3). The message keeps no
// reference to b.
func Parse(b []byte) (*Message, error) {
	if len(b) < HeaderLen {
		return nil, malformed(len(b), "message of %d octets is shorter than the %d-octet header", len(b), HeaderLen)
	}
	m := &Message{
		Flags:             GlobalFlags(binary.BigEndian.Uint16(b[2:])) & knownGlobalFlags,
		Type:              MessageType(b[4]),
		ReplyMode:         ReplyMode(b[5]),
		ReturnCode:        ReturnCode(b[6]),
		ReturnSubcode:     b[7],
		SenderHandle:      binary.BigEndian.Uint32(b[8:]),
		SequenceNumber:    binary.BigEndian.Uint32(b[12:]),
		TimestampSent:     Timestamp(binary.BigEndian.Uint64(b[16:])),
		TimestampReceived: Timestamp(binary.BigEndian.Uint64(b[24:])),
	}
	fail := func(e *ParseError) (*Message, error) {
		h := *m
		h.TLVs = nil
		e.Header = &h
		return nil, e
	}
	if v := binary.BigEndian.Uint16(b); v != Version {
		return fail(malformed(0, "version %d, want %d", v, Version))
	}
	m.TLVs = sized[TLV](b[HeaderLen:])
	var notUnderstood []RawTLV
	firstOff := 0
	err := walkTLVs(b[HeaderLen:], HeaderLen, func(typ uint16, val []byte, off int) *ParseError {
		if typ < 32768 && !understood(typ) {
			if notUnderstood == nil {
				notUnderstood = make([]RawTLV, 0, cap(m.TLVs))
				firstOff = off - 4
			}
			notUnderstood = append(notUnderstood, RawTLV{Type: typ, Value: clone(val)})
			return nil
		}
		t, err := parseTLV(typ, val, off)
		if err != nil {
			return err
		}
		m.TLVs = append(m.TLVs, t)
		return nil
	})
	if err != nil {
		return fail(err)
	}
	if len(notUnderstood) > 0 {
		e := &ParseError{Code: RCTLVNotUnderstood, NotUnderstood: notUnderstood, Offset: firstOff,
			Reason: fmt.Sprintf("%d mandatory TLV(s) not understood, the first of type %d", len(notUnderstood), notUnderstood[0].Type)}
		return fail(e)
	}
	if m.Type == EchoRequest {
		ddmaps := 0
		for _, t := range m.TLVs {
			if _, ok := t.(*DownstreamDetailedMapping); ok {
				ddmaps++
			}
		}
		if len(m.TargetFECs()) == 0 {
			return fail(malformed(HeaderLen, "echo request without a Target FEC Stack, or with an empty one"))
		}
		if ddmaps > 1 {
			return fail(malformed(HeaderLen, "echo request with %d Downstream Detailed Mapping TLVs", ddmaps))
		}
	}
	return m, nil
}
