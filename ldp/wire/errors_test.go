package wire

import (
	"errors"
	"strings"
	"testing"
)

type errCase struct {
	name   string
	hex    string
	status StatusCode
	offset int
	text   []string // substrings the error text must contain
	check  func(t *testing.T, p *PDU)
}

// A Label Mapping for 10.1.0.0/24 label 16 is 0400 0017 <id> + FEC (11
// bytes at offset 18) + label (8 bytes at offset 29) in a 33-byte PDU.
var fatalCases = []errCase{
	{name: "dual-stack TLV of the wrong length",
		hex: `0001 0024 0a000001 0000 0100 001a 00000001 0400 0004 000f 0000
		      0401 0004 0a000001  8701 0002 6000`,
		status: StatusBadTLVLength, offset: 34, text: []string{"Dual-Stack capability"}},
	{name: "header truncated", hex: `0001 000e 0a00`,
		status: StatusBadPDULength, offset: 0, text: []string{"PDU at offset 0", "6 bytes"}},
	{name: "PDU truncated", hex: `0001 000e 0a000001 0000 0201 0004 000000`,
		status: StatusBadPDULength, offset: 2, text: []string{"length 14 does not match 13"}},
	{name: "PDU longer than its length", hex: `0001 000e 0a000001 0000 0201 0004 00000004 0000`,
		status: StatusBadPDULength, offset: 2, text: []string{"does not match"}},
	{name: "PDU length below minimum", hex: `0001 0006 0a000001 0000`,
		status: StatusBadPDULength, offset: 2, text: []string{"below minimum"}},
	{name: "wrong version", hex: `0002 000e 0a000001 0000 0201 0004 00000004`,
		status: StatusBadProtocolVersion, offset: 0, text: []string{"version 2"}},
	{name: "message overruns PDU", hex: `0001 000e 0a000001 0000 0201 0008 00000004`,
		status: StatusBadMessageLength, offset: 10, text: []string{"KeepAlive message (id 4)", "overruns PDU by 4"}},
	{name: "message length below 4", hex: `0001 000e 0a000001 0000 0201 0002 00000004`,
		status: StatusBadMessageLength, offset: 10, text: []string{"KeepAlive", "below 4"}},
	{name: "trailing bytes after last message", hex: `0001 0012 0a000001 0000 0201 0004 00000004 0201 0000`,
		status: StatusBadMessageLength, offset: 18, text: []string{"trailing"}},
	{name: "TLV overruns message",
		hex: `0001 0021 0a000001 0000 0400 0017 00000001
		      0100 0020 02 0001 18 0a0100  0200 0004 00000010`,
		status: StatusBadTLVLength, offset: 18, text: []string{"Label Mapping message (id 1)", "FEC TLV", "offset 18"}},
	{name: "fixed TLV with wrong length",
		hex:    `0001 0015 0a000001 0000 0100 000b 00000001 0400 0003 000f00`,
		status: StatusBadTLVLength, offset: 18, text: []string{"Hello", "Common Hello Parameters TLV", "length 3, want 4"}},
	{name: "FT Session TLV with wrong length",
		hex: `0001 002c 0a000001 0000 0200 0022 00000001
		      0500 000e 0001 00b4 00 00 1000 0a000002 0000
		      8503 0008 0001 0000 0001d4c0`,
		status: StatusBadTLVLength, offset: 36, text: []string{"Initialization", "FT Session TLV", "offset 36", "length 8, want 12"}},
	{name: "duplicate FT Session TLV",
		hex: `0001 0040 0a000001 0000 0200 0036 00000001
		      0500 000e 0001 00b4 00 00 1000 0a000002 0000
		      8503 000c 0001 0000 0001d4c0 00000000
		      8503 000c 0001 0000 0001d4c0 00000000`,
		status: StatusMalformedTLVValue, offset: 52, text: []string{"Initialization", "FT Session TLV", "duplicate"}},
	{name: "IPv4 prefix length 33",
		hex: `0001 0022 0a000001 0000 0400 0018 00000001
		      0100 0008 02 0001 21 0a000005  0200 0004 00000010`,
		status: StatusMalformedTLVValue, offset: 22, text: []string{"Label Mapping", "FEC TLV", "offset 22", "prefix length 33 exceeds 32"}},
	{name: "IPv6 prefix length 129",
		hex: `0001 0022 0a000001 0000 0400 0018 00000001
		      0100 0008 02 0002 81 20010db8  0200 0004 00000010`,
		status: StatusMalformedTLVValue, offset: 22, text: []string{"prefix length 129 exceeds 128"}},
	{name: "prefix bytes missing",
		hex: `0001 0020 0a000001 0000 0400 0016 00000001
		      0100 0006 02 0001 18 0a01  0200 0004 00000010`,
		status: StatusMalformedTLVValue, offset: 22, text: []string{"needs 3 bytes, 2 left"}},
	{name: "label wider than 20 bits",
		hex: `0001 0021 0a000001 0000 0400 0017 00000001
		      0100 0007 02 0001 18 0a0100  0200 0004 00100000`,
		status: StatusMalformedTLVValue, offset: 29, text: []string{"Generic Label TLV", "exceeds 20 bits"}},
	{name: "duplicate FEC TLV",
		hex: `0001 002c 0a000001 0000 0400 0022 00000001
		      0100 0007 02 0001 18 0a0100  0100 0007 02 0001 18 0a0200  0200 0004 00000010`,
		status: StatusMalformedTLVValue, offset: 29, text: []string{"duplicate"}},
	{name: "address list not a multiple of 4",
		hex:    `0001 0019 0a000001 0000 0300 000f 00000001 0101 0007 0001 0a000001 ff`,
		status: StatusMalformedTLVValue, offset: 18, text: []string{"Address message", "Address List TLV"}},
	{name: "TLV header cut by message end",
		hex:    `0001 0010 0a000001 0000 0201 0006 00000004 0000`,
		status: StatusBadTLVLength, offset: 18, text: []string{"KeepAlive", "TLV header"}},
}

func TestFatalErrors(t *testing.T) {
	for _, c := range fatalCases {
		t.Run(c.name, func(t *testing.T) {
			p, err := DecodePDU(hx(t, c.hex))
			if p != nil {
				t.Errorf("got PDU %+v with fatal error", p)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not a *DecodeError", err, err)
			}
			checkErr(t, de, c)
			if !de.Fatal() {
				t.Errorf("%v reported as non-fatal", de.Status)
			}
		})
	}
}

var softCases = []errCase{
	{name: "unknown address family in prefix FEC",
		hex: `0001 0022 0a000001 0000 0400 0018 00000001
		      0100 0008 02 0003 20 0a000005  0200 0004 00000010`,
		status: StatusUnsupportedAddressFamily, offset: 22, text: []string{"Label Mapping", "FEC TLV", "family 3"},
		check: wantRaw(0x0400)},
	{name: "unknown address family in address list",
		hex:    `0001 0018 0a000001 0000 0300 000e 00000001 0101 0006 0009 0a000001`,
		status: StatusUnsupportedAddressFamily, offset: 22, text: []string{"Address List TLV"},
		check: wantRaw(0x0300)},
	{name: "unknown FEC element type",
		hex: `0001 0021 0a000001 0000 0402 0017 00000001
		      0100 0007 80 0001 18 0a0100  0200 0004 00000010`,
		status: StatusUnknownFEC, offset: 22, text: []string{"Label Withdraw", "0x80"},
		check: wantRaw(0x0402)},
	{name: "Label Mapping without Label TLV",
		hex: `0001 0019 0a000001 0000 0400 000f 00000001
		      0100 0007 02 0001 18 0a0100`,
		status: StatusMissingMessageParameters, offset: 10, text: []string{"Label Mapping message (id 1)", "Generic Label TLV"},
		check: wantRaw(0x0400)},
	{name: "Hello without Common Hello Parameters",
		hex:    `0001 0016 0a000001 0000 0100 000c 00000001 0401 0004 0a000001`,
		status: StatusMissingMessageParameters, offset: 10, text: []string{"Hello", "Common Hello Parameters"},
		check: wantRaw(0x0100)},
	{name: "unknown TLV with U=0",
		hex: `0001 0027 0a000001 0000 0400 001d 00000001
		      0100 0007 02 0001 18 0a0100  0200 0004 00000010  3f01 0002 1234`,
		status: StatusUnknownTLV, offset: 37, text: []string{"Label Mapping", "TLV(0x3f01)", "offset 37"},
		check: func(t *testing.T, p *PDU) {
			m, ok := p.Messages[0].(*LabelMapping)
			if !ok || len(m.Unknown) != 1 || m.Unknown[0].U || m.Unknown[0].Type != 0x3f01 {
				t.Errorf("unknown TLV not preserved: %#v", p.Messages[0])
			}
		}},
	{name: "unknown message with U=0 then KeepAlive",
		hex: `0001 001a 0a000001 0000
		      3f00 0008 00000015 abcdef01
		      0201 0004 00000016`,
		status: StatusUnknownMessageType, offset: 10, text: []string{"Message(0x3f00) message (id 21)"},
		check: func(t *testing.T, p *PDU) {
			if len(p.Messages) != 2 {
				t.Fatalf("got %d messages, want 2", len(p.Messages))
			}
			if r, ok := p.Messages[0].(*RawMessage); !ok || r.U || r.MsgType != 0x3f00 {
				t.Errorf("message 0 = %#v", p.Messages[0])
			}
			if _, ok := p.Messages[1].(*KeepAlive); !ok {
				t.Errorf("message 1 = %#v, want KeepAlive", p.Messages[1])
			}
		}},
}

func wantRaw(typ MsgType) func(t *testing.T, p *PDU) {
	return func(t *testing.T, p *PDU) {
		if r, ok := p.Messages[0].(*RawMessage); !ok || r.MsgType != typ {
			t.Errorf("message kept as %#v, want RawMessage of type %v", p.Messages[0], typ)
		}
	}
}

func TestNonFatalErrors(t *testing.T) {
	for _, c := range softCases {
		t.Run(c.name, func(t *testing.T) {
			b := hx(t, c.hex)
			p, err := DecodePDU(b)
			if p == nil {
				t.Fatalf("no PDU for a non-fatal error: %v", err)
			}
			var me MessageErrors
			if !errors.As(err, &me) || len(me) != 1 {
				t.Fatalf("error %v (%T) is not one MessageErrors entry", err, err)
			}
			checkErr(t, me[0], c)
			if me[0].Fatal() {
				t.Errorf("%v reported as fatal", me[0].Status)
			}
			if me[0].Index != 0 {
				t.Errorf("Index %d, want 0", me[0].Index)
			}
			c.check(t, p)
			// A message kept for the engine must re-encode to the same bytes.
			enc, err := p.MarshalBinary()
			if err != nil || string(enc) != string(b) {
				t.Errorf("re-encoded %x, %v; want %x", enc, err, b)
			}
		})
	}
}

func checkErr(t *testing.T, de *DecodeError, c errCase) {
	t.Helper()
	if de.Status != c.status {
		t.Errorf("status %v, want %v (%v)", de.Status, c.status, de)
	}
	if de.Offset != c.offset {
		t.Errorf("offset %d, want %d (%v)", de.Offset, c.offset, de)
	}
	for _, s := range c.text {
		if !strings.Contains(de.Error(), s) {
			t.Errorf("error %q does not mention %q", de.Error(), s)
		}
	}
}

// TestUnknownTLVWithUBit checks RFC 5036 section 3.3: an unknown TLV with
// U=1 is silently kept, without any error.
func TestUnknownTLVWithUBit(t *testing.T) {
	p, err := DecodePDU(hx(t, `0001 0027 0a000001 0000 0400 001d 00000001
		0100 0007 02 0001 18 0a0100  0200 0004 00000010  bf01 0002 1234`))
	if err != nil {
		t.Fatalf("DecodePDU: %v", err)
	}
	m := p.Messages[0].(*LabelMapping)
	if len(m.Unknown) != 1 || !m.Unknown[0].U || m.Unknown[0].F {
		t.Errorf("unknown TLV = %#v", m.Unknown)
	}
}

func TestStatusCodes(t *testing.T) {
	for _, c := range []struct {
		code  StatusCode
		value uint32
		fatal bool
		name  string
	}{
		{StatusSuccess, 0x00, false, "Success"},
		{StatusBadLDPIdentifier, 0x01, true, "Bad LDP Identifier"},
		{StatusBadProtocolVersion, 0x02, true, "Bad Protocol Version"},
		{StatusBadPDULength, 0x03, true, "Bad PDU Length"},
		{StatusUnknownMessageType, 0x04, false, "Unknown Message Type"},
		{StatusBadMessageLength, 0x05, true, "Bad Message Length"},
		{StatusUnknownTLV, 0x06, false, "Unknown TLV"},
		{StatusBadTLVLength, 0x07, true, "Bad TLV Length"},
		{StatusMalformedTLVValue, 0x08, true, "Malformed TLV Value"},
		{StatusHoldTimerExpired, 0x09, true, "Hold Timer Expired"},
		{StatusShutdown, 0x0A, true, "Shutdown"},
		{StatusLoopDetected, 0x0B, false, "Loop Detected"},
		{StatusUnknownFEC, 0x0C, false, "Unknown FEC"},
		{StatusNoRoute, 0x0D, false, "No Route"},
		{StatusNoLabelResources, 0x0E, false, "No Label Resources"},
		{StatusLabelResourcesAvailable, 0x0F, false, "Label Resources Available"},
		{StatusSessionRejectedNoHello, 0x10, true, "Session Rejected/No Hello"},
		{StatusSessionRejectedAdvertMode, 0x11, true, "Session Rejected/Parameters Advertisement Mode"},
		{StatusSessionRejectedMaxPDULength, 0x12, true, "Session Rejected/Parameters Max PDU Length"},
		{StatusSessionRejectedLabelRange, 0x13, true, "Session Rejected/Parameters Label Range"},
		{StatusKeepAliveTimerExpired, 0x14, true, "KeepAlive Timer Expired"},
		{StatusLabelRequestAborted, 0x15, false, "Label Request Aborted"},
		{StatusMissingMessageParameters, 0x16, false, "Missing Message Parameters"},
		{StatusUnsupportedAddressFamily, 0x17, false, "Unsupported Address Family"},
		{StatusSessionRejectedBadKeepAlive, 0x18, true, "Session Rejected/Bad KeepAlive Time"},
		{StatusInternalError, 0x19, true, "Internal Error"},
		{StatusUnsupportedCapability, 0x2E, false, "Unsupported Capability"},
		{StatusEndOfLIB, 0x2F, false, "End-of-LIB"},
	} {
		if uint32(c.code) != c.value || c.code.Fatal() != c.fatal || c.code.String() != c.name {
			t.Errorf("%v: value 0x%x fatal %v, want %q 0x%x fatal %v", c.code, uint32(c.code), c.code.Fatal(), c.name, c.value, c.fatal)
		}
	}
}
