package lspping

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// unhex decodes a hex string written with spaces, newlines and | for
// readability.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.NewReplacer(" ", "", "\n", "", "\t", "", "|", "").Replace(s))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// mustHex is unhex for package-level values.
func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.NewReplacer(" ", "", "|", "").Replace(s))
	if err != nil {
		panic(err)
	}
	return b
}

// header is the fixed part used by the byte-layout tests (RFC 8029
// section 3): version 1, global flags V, an echo request (1) asking for
// a UDP reply (2), return code and subcode 0, sender's handle 0x1234,
// sequence number 7, TimeStamp Sent 0xe8f1a2b3.80000000, TimeStamp
// Received 0.
const header = `0001 0001 | 01 02 00 00 | 00001234 | 00000007 | e8f1a2b3 80000000 | 00000000 00000000`

func headerMsg(tlvs ...TLV) *Message {
	return &Message{
		Flags: FlagValidateFEC, Type: EchoRequest, ReplyMode: ReplyUDP,
		SenderHandle: 0x1234, SequenceNumber: 7, TimestampSent: 0xe8f1a2b380000000,
		TLVs: tlvs,
	}
}

func fecStack(fecs ...FEC) *TargetFECStack { return &TargetFECStack{FECs: fecs} }

func ldp(s string) *LDPPrefix { return &LDPPrefix{Prefix: netip.MustParsePrefix(s)} }

var ldpFEC = fecStack(ldp("192.0.2.1/32"))

// ldpFECBytes is the Target FEC Stack of section 3.2's example: one LDP
// IPv4 prefix 192.0.2.1/32 (section 3.2.1). The sub-TLV Length is 5, the
// three octets after the prefix length are padding, and the TLV Length
// (12) counts the sub-TLV with its padding (section 3).
const ldpFECBytes = `0001 000c | 0001 0005 | c0000201 | 20 000000`

func TestHeaderLayout(t *testing.T) {
	m := headerMsg(ldpFEC)
	p := roundTrip(t, m, unhex(t, header+ldpFECBytes))
	if p.TimestampSent.Seconds() != 0xe8f1a2b3 || p.TimestampSent.Fraction() != 0x80000000 {
		t.Fatalf("timestamp %x", uint64(p.TimestampSent))
	}
}

func TestGlobalFlags(t *testing.T) {
	// Section 3: |MBZ|R|T|V|, V the last bit on the wire. The MBZ bits
	// are ignored on receipt and never sent.
	b := unhex(t, header+ldpFECBytes)
	b[2], b[3] = 0xff, 0xff
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Flags != FlagValidateFEC|FlagRespondTTLExpired|FlagValidateReversePath {
		t.Fatalf("flags %#x", m.Flags)
	}
	m.Flags = 0xffff
	out, _ := m.MarshalBinary()
	if out[2] != 0 || out[3] != 0x07 {
		t.Fatalf("flags on the wire %x", out[2:4])
	}
}

func TestNewRequest(t *testing.T) {
	sent := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)
	m := NewRequest(9, 3, sent, netip.MustParsePrefix("2001:db8::1/128"), ReplyUDPRouterAlert, FlagValidateFEC)
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if p.Type != EchoRequest || p.ReplyMode != ReplyUDPRouterAlert || p.SenderHandle != 9 || p.SequenceNumber != 3 ||
		p.ReturnCode != 0 || p.TimestampReceived != 0 || !p.TimestampSent.Time().Equal(sent) {
		t.Fatalf("request %+v", p)
	}
	fecs := p.TargetFECs()
	if len(fecs) != 1 || fecs[0].TLVType() != FECLDPIPv6 || fecs[0].(*LDPPrefix).Prefix != netip.MustParsePrefix("2001:db8::1/128") {
		t.Fatalf("FECs %#v", fecs)
	}
	if (&Message{}).TargetFECs() != nil {
		t.Fatal("FECs of an empty message")
	}
	if _, err := NewRequest(1, 1, sent, netip.Prefix{}, ReplyUDP, 0).MarshalBinary(); err == nil {
		t.Fatal("invalid prefix marshaled")
	}
}

func TestTimestamp(t *testing.T) {
	// RFC 5905 section 6: seconds since 1900 and a 32-bit fraction.
	for _, c := range []struct {
		t  time.Time
		ts Timestamp
	}{
		{time.Unix(0, 0), 0x83aa7e80_00000000},
		{time.Unix(0, 5e8), 0x83aa7e80_80000000},
		{time.Unix(1, 25e7), 0x83aa7e81_40000000},
		// Era 1 starts 2036-02-07T06:28:16Z.
		{time.Date(2036, 2, 7, 6, 28, 16, 5e8, time.UTC), 0x00000000_80000000},
		{time.Date(2036, 2, 7, 6, 28, 15, 0, time.UTC), 0xffffffff_00000000},
	} {
		if got := NewTimestamp(c.t); got != c.ts {
			t.Errorf("NewTimestamp(%v) = %#x, want %#x", c.t, uint64(got), uint64(c.ts))
		}
		if got := c.ts.Time(); !got.Equal(c.t) {
			t.Errorf("%#x.Time() = %v, want %v", uint64(c.ts), got, c.t)
		}
	}
	for _, tm := range []time.Time{time.Now(), time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(2100, 1, 1, 0, 0, 0, 1, time.UTC)} {
		if got := NewTimestamp(tm).Time(); !got.Equal(tm) {
			t.Errorf("round trip of %v gave %v", tm, got)
		}
	}
	if NewTimestamp(time.Time{}) != 0 || !Timestamp(0).Time().IsZero() {
		t.Error("zero time is not the zero timestamp")
	}
}

func TestReturnCodeStrings(t *testing.T) {
	// RFC 8029 section 3.1.
	want := []string{
		"No Return Code",
		"Malformed echo request received",
		"One or more of the TLVs was not understood",
		"Replying router is an egress for the FEC at stack-depth",
		"Replying router has no mapping for the FEC at stack-depth",
		"Downstream Mapping Mismatch",
		"Upstream Interface Index Unknown",
		"Reserved",
		"Label switched at stack-depth",
		"Label switched but no MPLS forwarding at stack-depth",
		"Mapping for this FEC is not the given label at stack-depth",
		"No label entry at stack-depth",
		"Protocol not associated with interface at FEC stack-depth",
		"Premature termination of ping due to label stack shrinking to a single label",
		"See DDMAP TLV for meaning of Return Code and Return Subcode",
		"Label switched with FEC change",
	}
	for i, w := range want {
		if got := ReturnCode(i).String(); got != w {
			t.Errorf("ReturnCode(%d) = %q, want %q", i, got, w)
		}
	}
	consts := []ReturnCode{RCNone, RCMalformedRequest, RCTLVNotUnderstood, RCEgress, RCNoMapping, RCDownstreamMismatch,
		RCUpstreamIfIndexUnknown, 7, RCLabelSwitched, RCLabelSwitchedNoMPLS, RCMappingNotGivenLabel, RCNoLabelEntry,
		RCProtocolNotAssociated, RCPrematureTermination, RCSeeDDMAP, RCLabelSwitchedFECChanged}
	for i, c := range consts {
		if int(c) != i {
			t.Errorf("constant %d has value %d", i, c)
		}
	}
	if got := ReturnCode(16).String(); got != "ReturnCode(16)" {
		t.Errorf("ReturnCode(16) = %q", got)
	}
	if EchoRequest.String() != "MPLS Echo Request" || EchoReply.String() != "MPLS Echo Reply" || MessageType(9).String() != "MessageType(9)" {
		t.Error("message type names")
	}
	if ReplyNone.String() != "Do not reply" || ReplyControlChannel.String() != "Reply via application-level control channel" || ReplyMode(0).String() != "ReplyMode(0)" {
		t.Error("reply mode names")
	}
}

func TestParseErrors(t *testing.T) {
	hdr := func(s string) string { return header + s }
	reply := strings.Replace(header, "01 02 00 00", "02 02 03 01", 1)
	for _, c := range []struct {
		name string
		in   string
		code ReturnCode
	}{
		{"truncated header", header[:len(header)-2], RCMalformedRequest},
		{"empty", "", RCMalformedRequest},
		{"version 2", "0002" + header[4:] + ldpFECBytes, RCMalformedRequest},
		{"version 0", "0000" + header[4:] + ldpFECBytes, RCMalformedRequest},
		{"TLV length beyond the packet", hdr(`0001 0010 | 0001 0005 | c0000201 | 20 000000`), RCMalformedRequest},
		{"TLV padding missing", hdr(ldpFECBytes + `8001 0001 | 00`), RCMalformedRequest},
		{"sub-TLV padding missing", hdr(`0001 0009 | 0001 0005 | c0000201 | 20 000000`), RCMalformedRequest},
		{"trailing octets", hdr(ldpFECBytes + `0000`), RCMalformedRequest},
		{"sub-TLV overrun", hdr(`0001 000c | 0001 0009 | c0000201 | 20 000000`), RCMalformedRequest},
		{"sub-TLV header cut", hdr(`0001 0002 | 0001 0000`), RCMalformedRequest},
		{"IPv4 prefix length 33", hdr(`0001 000c | 0001 0005 | c0000201 | 21 000000`), RCMalformedRequest},
		{"IPv6 prefix length 129", hdr(`0001 0018 | 0002 0011 | 20010db8000000000000000000000001 | 81 000000`), RCMalformedRequest},
		{"LDP IPv4 sub-TLV of length 4", hdr(`0001 0008 | 0001 0004 | c0000201`), RCMalformedRequest},
		{"LDP IPv6 sub-TLV of length 5", hdr(`0001 000c | 0002 0005 | c0000201 | 20 000000`), RCMalformedRequest},
		{"empty Pad", hdr(ldpFECBytes + `0003 0000`), RCMalformedRequest},
		{"Reply TOS of length 2", hdr(ldpFECBytes + `000a 0002 | b800 0000`), RCMalformedRequest},
		{"Vendor Enterprise of length 2", hdr(ldpFECBytes + `0005 0002 | 0009 0000`), RCMalformedRequest},
		{"DDMAP address type 9", hdr(ldpFECBytes + `0014 0010 | 05dc 09 00 | c0000202 | c0000206 | 0000 0000`), RCMalformedRequest},
		{"DDMAP cut in the addresses", hdr(ldpFECBytes + `0014 000c | 05dc 03 00 | c0000202 | c0000206`), RCMalformedRequest},
		{"DDMAP Sub-TLV Length too long", hdr(ldpFECBytes + `0014 0010 | 05dc 01 00 | c0000202 | c0000206 | 0000 0004`), RCMalformedRequest},
		{"DDMAP Sub-TLV Length too short", hdr(ldpFECBytes + `0014 0018 | 05dc 01 00 | c0000202 | c0000206 | 0000 0004 | 0002 0004 | 003e9103`), RCMalformedRequest},
		{"DDMAP sub-TLV overrun", hdr(ldpFECBytes + `0014 0018 | 05dc 01 00 | c0000202 | c0000206 | 0000 0008 | 0002 0008 | 003e9103`), RCMalformedRequest},
		{"Label Stack sub-TLV of length 6", hdr(ldpFECBytes + `0014 001c | 05dc 01 00 | c0000202 | c0000206 | 0000 000c | 0002 0006 | 003e9103 0000 0000`), RCMalformedRequest},
		{"Interface and Label Stack of Non IP type", hdr(ldpFECBytes + `0007 000c | 05 000000 | 00000001 | 00000002`), RCMalformedRequest},
		{"Interface and Label Stack with half a label", hdr(ldpFECBytes + `0007 000e | 01 000000 | c0000209 | c000020a | 003e 0000`), RCMalformedRequest},
		{"Errored TLVs overrun", hdr(ldpFECBytes + `0009 0004 | 0004 0001`), RCMalformedRequest},
		{"request without Target FEC Stack", header, RCMalformedRequest},
		{"request with an empty Target FEC Stack", hdr(`0001 0000`), RCMalformedRequest},
		{"request with two DDMAPs", hdr(ldpFECBytes + strings.Repeat(`0014 0010 | 05dc 02 00 | 7f000001 | 00000000 | 0000 0000`, 2)), RCMalformedRequest},
		{"malformed beats not understood", hdr(`0004 0000 | 0001 000c | 0001 0005 | c0000201 | 21 000000`), RCMalformedRequest},
		{"unknown mandatory TLV", hdr(ldpFECBytes + `0004 0003 | 010203 00`), RCTLVNotUnderstood},
		{"deprecated Downstream Mapping", hdr(ldpFECBytes + `0002 0004 | 05dc 0100`), RCTLVNotUnderstood},
		{"vendor private mandatory TLV", hdr(ldpFECBytes + `7c00 0004 | 00000009`), RCTLVNotUnderstood},
		{"highest mandatory type", reply + `7fff 0000`, RCTLVNotUnderstood},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := unhex(t, c.in)
			m, err := Parse(in)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse = %v, %v; want a *ParseError", m, err)
			}
			if m != nil || pe.Code != c.code {
				t.Fatalf("code %d (%v), want %d", pe.Code, pe, c.code)
			}
			if (pe.Header == nil) != (len(in) < HeaderLen) {
				t.Fatalf("header %v", pe.Header)
			}
			if pe.Header != nil && (pe.Header.SenderHandle != 0x1234 || pe.Header.SequenceNumber != 7 || pe.Header.TLVs != nil) {
				t.Fatalf("header %+v", pe.Header)
			}
			if (len(pe.NotUnderstood) > 0) != (c.code == RCTLVNotUnderstood) {
				t.Fatalf("not understood %v", pe.NotUnderstood)
			}
			if pe.Offset < 0 || pe.Offset > len(in) || !strings.Contains(pe.Error(), "lspping: ") {
				t.Fatalf("error %q at %d", pe, pe.Offset)
			}
		})
	}
}

func TestNotUnderstood(t *testing.T) {
	// Section 4.4 step 1: the TLVs not understood, and only them, go back
	// as sub-TLVs of an Errored TLVs TLV (section 3.8); optional ones
	// (32768 and up) are not reported.
	in := unhex(t, header+`0004 0003 | 010203 00 | 8001 0001 | ff 000000`+ldpFECBytes+`0002 0000 | 8000 0000`)
	_, err := Parse(in)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Code != RCTLVNotUnderstood {
		t.Fatalf("err %v", err)
	}
	want := []RawTLV{{Type: 4, Value: []byte{1, 2, 3}}, {Type: TLVDownstreamMapping}}
	if !reflect.DeepEqual(pe.NotUnderstood, want) {
		t.Fatalf("not understood %#v", pe.NotUnderstood)
	}
	reply := *pe.Header
	reply.Type, reply.ReturnCode = EchoReply, pe.Code
	reply.TLVs = []TLV{&ErroredTLVs{TLVs: pe.NotUnderstood}}
	b, err := reply.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	wantReply := strings.Replace(header, "01 02 00 00", "02 02 02 00", 1) + `0009 000c | 0004 0003 | 010203 00 | 0002 0000`
	if !bytes.Equal(b, unhex(t, wantReply)) {
		t.Fatalf("reply %x", b)
	}
}

func TestOptionalTLVsKept(t *testing.T) {
	// Section 3: types from 32768 up are ignored if not understood; they
	// are kept raw for the responder to look at.
	in := unhex(t, header+ldpFECBytes+`8000 0000 | ffff 0002 | abcd 0000`)
	m, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	want := headerMsg(ldpFEC, &RawTLV{Type: 0x8000}, &RawTLV{Type: 0xffff, Value: []byte{0xab, 0xcd}})
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got %#v", m)
	}
}

func TestReplyWithoutFECStack(t *testing.T) {
	reply := strings.Replace(header, "01 02 00 00", "02 02 03 01", 1)
	m, err := Parse(unhex(t, reply))
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != EchoReply || m.ReturnCode != RCEgress || m.ReturnSubcode != 1 || len(m.TLVs) != 0 {
		t.Fatalf("reply %+v", m)
	}
}

func TestMarshalErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		tlv  TLV
	}{
		{"invalid prefix", fecStack(&LDPPrefix{})},
		{"DDMAP IPv4 numbered with an IPv6 address", &DownstreamDetailedMapping{AddrType: AddrIPv4Numbered, Address: netip.MustParseAddr("::1"), InterfaceAddr: netip.MustParseAddr("192.0.2.1")}},
		{"DDMAP IPv4 numbered without interface address", &DownstreamDetailedMapping{AddrType: AddrIPv4Numbered, Address: netip.MustParseAddr("192.0.2.1")}},
		{"DDMAP IPv6 unnumbered with an IPv4 address", &DownstreamDetailedMapping{AddrType: AddrIPv6Unnumbered, Address: netip.MustParseAddr("192.0.2.1")}},
		{"DDMAP IPv6 numbered without interface address", &DownstreamDetailedMapping{AddrType: AddrIPv6Numbered, Address: netip.MustParseAddr("::1")}},
		{"DDMAP address type 0", &DownstreamDetailedMapping{}},
		{"DDMAP label too large", &DownstreamDetailedMapping{AddrType: AddrNonIP, SubTLVs: []SubTLV{&LabelStack{Labels: []DownstreamLabel{{Label: 1 << 20}}}}}},
		{"DDMAP TC too large", &DownstreamDetailedMapping{AddrType: AddrNonIP, SubTLVs: []SubTLV{&LabelStack{Labels: []DownstreamLabel{{TC: 8}}}}}},
		{"DDMAP sub-TLVs too long", &DownstreamDetailedMapping{AddrType: AddrNonIP, SubTLVs: []SubTLV{&RawTLV{Type: 1, Value: make([]byte, 40000)}, &RawTLV{Type: 1, Value: make([]byte, 40000)}}}},
		{"Interface and Label Stack of Non IP type", &InterfaceLabelStack{AddrType: AddrNonIP}},
		{"Interface and Label Stack label too large", &InterfaceLabelStack{AddrType: AddrIPv4Unnumbered, Address: netip.MustParseAddr("192.0.2.1"), Labels: []LabelEntry{{Label: 1 << 20}}}},
		{"value too long", &RawTLV{Type: 0x8000, Value: make([]byte, 65536)}},
		{"Errored TLVs too long", &ErroredTLVs{TLVs: []RawTLV{{Value: make([]byte, 65535)}}}},
	} {
		if b, err := headerMsg(ldpFEC, c.tlv).MarshalBinary(); err == nil {
			t.Errorf("%s: marshaled %x", c.name, b)
		}
	}
	if b, err := Marshal(headerMsg(ldpFEC, &RawTLV{Type: 0x8000, Value: make([]byte, 65535)})); err != nil || len(b) != 32+16+4+65535+1 {
		t.Errorf("longest TLV: %d octets, %v", len(b), err)
	}
}

// TestParseAllocations checks that Parse allocates a bounded multiple of
// its input, whatever the input is made of.
func TestParseAllocations(t *testing.T) {
	many := func(unit string, n int) string { return strings.Repeat(unit, n) }
	const n = 16000 // 4-octet units, close to a 64 KiB datagram
	for _, c := range []struct {
		name string
		in   string
	}{
		{"empty FEC sub-TLVs", header + `0001 fa00` + many(`0010 0000`, n)},
		{"empty optional TLVs", header + ldpFECBytes + many(`8000 0000`, n)},
		{"unknown mandatory TLVs", header + ldpFECBytes + many(`0004 0000`, n)},
		{"empty Errored TLVs entries", header + ldpFECBytes + `0009 fa00` + many(`0004 0000`, n)},
		{"downstream labels", header + ldpFECBytes + `0014 fa14 | 05dc 05 00 | 00000000 | 00000000 | 0000 fa04 | 0002 fa00` + many(`003e9103`, n)},
		{"interface labels", header + ldpFECBytes + `0007 fa0c | 01 000000 | c0000209 | c000020a` + many(`003e9101`, n)},
	} {
		in := unhex(t, c.in)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m, err := Parse(in)
		runtime.ReadMemStats(&after)
		var pe *ParseError
		if err != nil && !(errors.As(err, &pe) && pe.Code == RCTLVNotUnderstood && len(pe.NotUnderstood) == n) {
			t.Fatalf("%s: %v", c.name, err)
		}
		runtime.KeepAlive(m)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%s: %d octets allocated for %d of input", c.name, alloc, len(in))
		if alloc > uint64(24*len(in)) {
			t.Errorf("%s: %d octets allocated for %d of input", c.name, alloc, len(in))
		}
	}
}

// roundTrip checks that m marshals to want and want parses back to m, and
// returns the parsed message.
func roundTrip(t *testing.T, m *Message, want []byte) *Message {
	t.Helper()
	got, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("marshal\n got %x\nwant %x", got, want)
	}
	p, err := Parse(want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, m) {
		t.Fatalf("parse\n got %#v\nwant %#v", p, m)
	}
	return p
}
