package wire

import (
	"errors"
	"fmt"
	"strings"
)

// DecodeError describes why (part of) a PDU could not be decoded. Status
// is the RFC 5036 status code the session engine should put in the
// Notification it sends back; MsgID and MsgType identify the offending
// message for the Status TLV (section 3.4.6), and are zero for
// PDU-level errors.
type DecodeError struct {
	Msg     string     // message name, "" for PDU header errors
	MsgType MsgType    // type of the offending message, 0 if unknown
	MsgID   uint32     // ID of the offending message, 0 if unknown
	Index   int        // index of the message in PDU.Messages, -1 for PDU-level errors
	TLV     string     // TLV name, "" when the error is not inside a TLV
	Offset  int        // byte offset from the start of the PDU
	Status  StatusCode // status code to report to the peer
	Err     error      // underlying detail
}

// Error names the message, TLV and offset so that logs locate the fault.
func (e *DecodeError) Error() string {
	var sb strings.Builder
	sb.WriteString("ldp: ")
	if e.Msg != "" {
		fmt.Fprintf(&sb, "%s message (id %d) ", e.Msg, e.MsgID)
	} else {
		sb.WriteString("PDU ")
	}
	if e.TLV != "" {
		fmt.Fprintf(&sb, "%s TLV ", e.TLV)
	}
	fmt.Fprintf(&sb, "at offset %d: %s", e.Offset, e.Status)
	if e.Err != nil {
		sb.WriteString(": ")
		sb.WriteString(e.Err.Error())
	}
	return sb.String()
}

// Unwrap returns the underlying detail error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Fatal reports whether the error requires closing the session
// (RFC 5036 section 3.9 E bit of Status).
func (e *DecodeError) Fatal() bool { return e.Status.Fatal() }

// MessageErrors lists the non-fatal per-message errors of one PDU. RFC
// 5036 section 3.5 has the receiver ignore such a message, notify the
// peer and go on with the rest of the PDU, so DecodePDU returns them
// alongside a usable PDU.
type MessageErrors []*DecodeError

// Error joins the individual errors.
func (m MessageErrors) Error() string {
	s := make([]string, len(m))
	for i, e := range m {
		s[i] = e.Error()
	}
	return strings.Join(s, "; ")
}

// Unwrap exposes the individual errors to errors.Is and errors.As.
func (m MessageErrors) Unwrap() []error {
	out := make([]error, len(m))
	for i, e := range m {
		out[i] = e
	}
	return out
}

// ErrInvalid is wrapped by encoding errors caused by values that cannot
// be represented on the wire.
var ErrInvalid = errors.New("ldp: invalid value")

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
