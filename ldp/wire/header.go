package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
)

// Protocol constants from RFC 5036 section 3.1 and 3.5.3.
const (
	// Version is the only LDP protocol version (RFC 5036 section 3.1).
	Version = 1
	// HeaderLen is the size of the LDP PDU header.
	HeaderLen = 10
	// DefaultMaxPDULen is the largest PDU Length allowed before the
	// Initialization exchange negotiated another one, and the meaning of
	// any advertised Max PDU Length of 255 or less (section 3.5.3).
	DefaultMaxPDULen = 4096
	// minPDULen is the smallest PDU Length field: the LDP Identifier plus
	// one message header with its Message ID, since a PDU carries one or
	// more messages (section 3.1).
	minPDULen = 6 + msgHeaderLen
	// pduLenOffset is where the PDU Length field begins; the field counts
	// the bytes that follow it.
	pduLenOffset = 4
)

// LDPID is an LDP Identifier (RFC 5036 section 2.2.2): the LSR ID, a
// 4-byte router ID that is an IPv4-formatted value even on IPv6 sessions
// (RFC 7552), plus a label space.
type LDPID struct {
	LSRID      netip.Addr
	LabelSpace uint16
}

// String formats the identifier the customary way, "192.0.2.1:0".
func (id LDPID) String() string { return fmt.Sprintf("%s:%d", id.LSRID, id.LabelSpace) }

func decodeLDPID(b []byte) LDPID {
	return LDPID{LSRID: netip.AddrFrom4([4]byte(b[:4])), LabelSpace: binary.BigEndian.Uint16(b[4:6])}
}

func appendLDPID(b []byte, id LDPID) ([]byte, error) {
	if !id.LSRID.Is4() {
		return b, invalidf("LSR ID %v is not a 4-byte value", id.LSRID)
	}
	a := id.LSRID.As4()
	b = append(b, a[:]...)
	return binary.BigEndian.AppendUint16(b, id.LabelSpace), nil
}

func headerError(off int, st StatusCode, format string, args ...any) *DecodeError {
	return &DecodeError{Index: -1, Offset: off, Status: st, Err: fmt.Errorf(format, args...)}
}

// PDUSize inspects the start of a TCP byte stream and reports how many
// bytes the PDU beginning there occupies, so that a session can frame
// the stream (RFC 5036 section 3.1). It returns 0 and no error when buf
// holds fewer than 4 bytes. maxLen bounds the PDU Length field (the
// negotiated Max PDU Length, DefaultMaxPDULen before negotiation); 0
// means no bound beyond the 16-bit field.
func PDUSize(buf []byte, maxLen int) (int, error) {
	if len(buf) < 4 {
		return 0, nil
	}
	if v := binary.BigEndian.Uint16(buf); v != Version {
		return 0, headerError(0, StatusBadProtocolVersion, "version %d, want %d", v, Version)
	}
	l := int(binary.BigEndian.Uint16(buf[2:]))
	if l < minPDULen {
		return 0, headerError(2, StatusBadPDULength, "PDU length %d below minimum %d", l, minPDULen)
	}
	if maxLen > 0 && l > maxLen {
		return 0, headerError(2, StatusBadPDULength, "PDU length %d exceeds maximum %d", l, maxLen)
	}
	return pduLenOffset + l, nil
}

// ReadPDU reads exactly one PDU from r, typically a TCP connection, and
// returns its bytes for DecodePDU. It returns io.EOF only when r ends
// cleanly between PDUs and io.ErrUnexpectedEOF when it ends inside one;
// a bad version or length yields a *DecodeError, after which the stream
// can no longer be framed and the session must be closed.
func ReadPDU(r io.Reader, maxLen int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n, err := PDUSize(hdr[:], maxLen)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	copy(buf, hdr[:])
	if _, err := io.ReadFull(r, buf[4:]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}
