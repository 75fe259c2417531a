package lspping

import (
	"bytes"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// replyHeader is header as an echo reply, which needs no Target FEC Stack.
var replyHeader = strings.Replace(header, "01 02 00 00", "02 02 00 00", 1)

func replyMsg(tlvs ...TLV) *Message {
	m := headerMsg(tlvs...)
	m.Type = EchoReply
	return m
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// tlvCases are TLVs with their encoding, written from the RFC 8029
// figures; the section of each is in its name. Every value is padded to 4
// octets and its Length excludes that padding (section 3).
var tlvCases = []struct {
	name string
	tlv  TLV
	wire string
}{
	{"3.2.1 LDP IPv4 prefix", ldpFEC, ldpFECBytes},
	{"3.2.1 LDP IPv4 prefix /24", fecStack(ldp("198.51.100.0/24")),
		`0001 000c | 0001 0005 | c6336400 | 18 000000`},
	{"3.2.2 LDP IPv6 prefix, 16 octets and the length", fecStack(ldp("2001:db8::1/128")),
		`0001 0018 | 0002 0011 | 20010db8 00000000 00000000 00000001 | 80 000000`},
	{"3.2.2 LDP IPv6 prefix ::/0", fecStack(ldp("::/0")),
		`0001 0018 | 0002 0011 | 00000000 00000000 00000000 00000000 | 00 000000`},
	// The second example of section 3: the TLV Length 32 counts both
	// padded sub-TLVs; the VPN IPv4 prefix (3.2.5, length 13) is kept raw.
	{"3 LDP and VPN IPv4 FEC stack", fecStack(ldp("192.0.2.1/32"), &RawTLV{Type: 6, Value: []byte{0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 203, 0, 113, 0, 24}}),
		`0001 0020 | 0001 0005 | c0000201 | 20 000000 | 0006 000d | 0000fde8 00000001 | cb007100 | 18 000000`},
	{"3.2.17 Nil FEC kept raw", fecStack(&RawTLV{Type: 16, Value: []byte{0, 0, 0x30, 0}}),
		`0001 0008 | 0010 0004 | 00003000`},
	// Section 3.4: MTU, Address Type, DS Flags, the two addresses (K = 16
	// octets for IPv4, section 6.2.4), Return Code and Subcode, Sub-TLV
	// Length, then a Label Stack sub-TLV (3.4.1.2): label 16 TC 5 and
	// label 1001 S, both LDP (protocol 3).
	{"3.4 DDMAP IPv4 numbered with label stack", &DownstreamDetailedMapping{
		MTU: 1500, AddrType: AddrIPv4Numbered, Flags: DSFlagI,
		Address: addr("192.0.2.2"), InterfaceAddr: addr("192.0.2.6"),
		SubTLVs: []SubTLV{&LabelStack{Labels: []DownstreamLabel{{Label: 16, TC: 5, Protocol: ProtoLDP}, {Label: 1001, S: true, Protocol: ProtoLDP}}}},
	}, `0014 001c | 05dc 01 02 | c0000202 | c0000206 | 00 00 000c | 0002 0008 | 00010a03 | 003e9103`},
	{"3.4 DDMAP IPv4 unnumbered, neighbor unknown", &DownstreamDetailedMapping{
		MTU: 1500, AddrType: AddrIPv4Unnumbered, Flags: DSFlagI | DSFlagN, Address: addr("127.0.0.1"),
		ReturnCode: RCLabelSwitched, ReturnSubcode: 1,
	}, `0014 0010 | 05dc 02 03 | 7f000001 | 00000000 | 08 01 0000`},
	{"3.4 DDMAP IPv4 unnumbered, all routers", &DownstreamDetailedMapping{
		MTU: 1500, AddrType: AddrIPv4Unnumbered, Address: addr("224.0.0.2"), InterfaceIndex: 0x01020304,
	}, `0014 0010 | 05dc 02 00 | e0000002 | 01020304 | 00 00 0000`},
	{"3.4 DDMAP IPv6 numbered, K = 40", &DownstreamDetailedMapping{
		MTU: 9000, AddrType: AddrIPv6Numbered, Address: addr("2001:db8::2"), InterfaceAddr: addr("2001:db8::6"),
	}, `0014 0028 | 2328 03 00 | 20010db8 00000000 00000000 00000002 | 20010db8 00000000 00000000 00000006 | 00 00 0000`},
	{"3.4 DDMAP IPv6 unnumbered, K = 28", &DownstreamDetailedMapping{
		MTU: 1500, AddrType: AddrIPv6Unnumbered, Address: addr("::1"),
	}, `0014 001c | 05dc 04 00 | 00000000 00000000 00000000 00000001 | 00000000 | 00 00 0000`},
	// RFC 6426 section 2.1.1: Ingress IF_Num, then Egress IF_Num.
	{"RFC 6426 DDMAP Non IP", &DownstreamDetailedMapping{
		MTU: 1500, AddrType: AddrNonIP, IngressIfNum: 7, InterfaceIndex: 9,
	}, `0014 0010 | 05dc 05 00 | 00000007 | 00000009 | 00 00 0000`},
	// Sections 3.4.1.1 and 3.4.1.3, kept raw: Multipath Type 0 with
	// Multipath Length 0, and a PUSH of an LDP FEC with the remote peer
	// Unspecified.
	{"3.4.1 DDMAP multipath and FEC stack change", &DownstreamDetailedMapping{
		MTU: 1500, AddrType: AddrIPv4Numbered, Address: addr("192.0.2.2"), InterfaceAddr: addr("192.0.2.6"),
		ReturnCode: RCLabelSwitchedFECChanged, ReturnSubcode: 1,
		SubTLVs: []SubTLV{
			&RawTLV{Type: SubTLVMultipath, Value: []byte{0, 0, 0, 0}},
			&RawTLV{Type: SubTLVFECStackChange, Value: mustHex(`01000c00 | 00010005 | c000020a | 20000000`)},
		},
	}, `0014 002c | 05dc 01 00 | c0000202 | c0000206 | 0f 01 001c | 0001 0004 | 00000000 | 0003 0010 | 01000c00 | 00010005 | c000020a | 20000000`},
	{"3.5 Pad, copy", &Pad{Action: PadCopy, Data: []byte{0xaa, 0xbb, 0xcc, 0xdd, 0xee}},
		`0003 0006 | 02 aabbccddee 0000`},
	{"3.5 Pad, drop, one octet", &Pad{Action: PadDrop},
		`0003 0001 | 01 000000`},
	{"3.6 Vendor Enterprise Number kept raw", &RawTLV{Type: TLVVendorEnterprise, Value: []byte{0, 0, 0, 9}},
		`0005 0004 | 00000009`},
	// Section 3.7: Address Type, MBZ, the addresses (K = 12 octets for
	// IPv4), then label stack entries with their TTL.
	{"3.7 Interface and Label Stack IPv4 numbered", &InterfaceLabelStack{
		AddrType: AddrIPv4Numbered, Address: addr("192.0.2.9"), InterfaceAddr: addr("192.0.2.10"),
		Labels: []LabelEntry{{Label: 1001, S: true, TTL: 1}},
	}, `0007 0010 | 01 000000 | c0000209 | c000020a | 003e9101`},
	{"3.7 Interface and Label Stack IPv4 unnumbered, K = 12", &InterfaceLabelStack{
		AddrType: AddrIPv4Unnumbered, Address: addr("192.0.2.9"), InterfaceIndex: 3,
	}, `0007 000c | 02 000000 | c0000209 | 00000003`},
	{"3.7 Interface and Label Stack IPv6 numbered, K = 36", &InterfaceLabelStack{
		AddrType: AddrIPv6Numbered, Address: addr("2001:db8::9"), InterfaceAddr: addr("2001:db8::a"),
	}, `0007 0024 | 03 000000 | 20010db8 00000000 00000000 00000009 | 20010db8 00000000 00000000 0000000a`},
	{"3.7 Interface and Label Stack IPv6 unnumbered, K = 24", &InterfaceLabelStack{
		AddrType: AddrIPv6Unnumbered, Address: addr("2001:db8::9"), InterfaceIndex: 5,
		Labels: []LabelEntry{{Label: 16, TC: 7, TTL: 255}, {Label: 1001, S: true, TTL: 1}},
	}, `0007 0020 | 04 000000 | 20010db8 00000000 00000000 00000009 | 00000005 | 00010eff | 003e9101`},
	{"3.8 Errored TLVs", &ErroredTLVs{TLVs: []RawTLV{{Type: 4, Value: []byte{1, 2, 3}}, {Type: 0x7c00, Value: []byte{0, 0, 0, 9}}}},
		`0009 0010 | 0004 0003 | 010203 00 | 7c00 0004 | 00000009`},
	{"3.9 Reply TOS Byte", &ReplyTOS{TOS: 0xb8},
		`000a 0004 | b8 000000`},
	{"3 optional TLV kept raw", &RawTLV{Type: 0x8001, Value: []byte{0xab, 0xcd}},
		`8001 0002 | abcd 0000`},
	{"3 optional TLV, empty", &RawTLV{Type: 0xfc00},
		`fc00 0000`},
}

func TestTLVLayouts(t *testing.T) {
	for _, c := range tlvCases {
		t.Run(c.name, func(t *testing.T) {
			roundTrip(t, replyMsg(c.tlv), unhex(t, replyHeader+c.wire))
		})
	}
}

// TestRoundTrip puts every TLV in one echo request.
func TestRoundTrip(t *testing.T) {
	m := headerMsg()
	ddmap := false
	for _, c := range tlvCases {
		if _, ok := c.tlv.(*DownstreamDetailedMapping); ok {
			if ddmap {
				continue // one per echo request (section 3.4)
			}
			ddmap = true
		}
		m.TLVs = append(m.TLVs, c.tlv)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, m) {
		t.Fatalf("round trip\n got %#v\nwant %#v", p, m)
	}
	if fecs := p.TargetFECs(); len(fecs) != 1 || fecs[0].(*LDPPrefix).Prefix.String() != "192.0.2.1/32" {
		t.Fatalf("FECs %v", fecs)
	}
}

func TestLDPPrefixHostBits(t *testing.T) {
	// Sections 3.2.1 and 3.2.2: bits past the prefix length SHOULD be zero;
	// they are sent as zero and ignored on receipt.
	m := replyMsg(fecStack(ldp("192.0.2.77/24")))
	b, _ := m.MarshalBinary()
	if want := unhex(t, replyHeader+`0001 000c | 0001 0005 | c0000200 | 18 000000`); !bytes.Equal(b, want) {
		t.Fatalf("marshal %x", b)
	}
	b = unhex(t, replyHeader+`0001 0018 | 0002 0011 | 20010db8 00000000 00000000 00000001 | 20 000000`)
	p, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.TargetFECs()[0].(*LDPPrefix).Prefix; got != netip.MustParsePrefix("2001:db8::/32") {
		t.Fatalf("prefix %v", got)
	}
}

func TestMBZIgnored(t *testing.T) {
	// Section 1.1: Must Be Zero fields and padding are ignored on receipt;
	// section 3.4: undefined DS flags too.
	b := unhex(t, replyHeader+`0001 000c | 0001 0005 | c0000201 | 20 ffffff`+
		`000a 0004 | b8 ffffff | 0007 000c | 02 ffffff | c0000209 | 00000003 | 0003 0001 | 01 ffffff`+
		`0014 0010 | 05dc 02 ff | 7f000001 | 00000000 | 00 00 0000`)
	p, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	want := replyMsg(ldpFEC, &ReplyTOS{TOS: 0xb8},
		&InterfaceLabelStack{AddrType: AddrIPv4Unnumbered, Address: addr("192.0.2.9"), InterfaceIndex: 3},
		&Pad{Action: PadDrop},
		&DownstreamDetailedMapping{MTU: 1500, AddrType: AddrIPv4Unnumbered, Flags: DSFlagN | DSFlagI | DSFlagE | DSFlagL, Address: addr("127.0.0.1")})
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("got %#v", p)
	}
}

func TestDDMAPLabels(t *testing.T) {
	var d *DownstreamDetailedMapping
	for _, c := range tlvCases {
		if c.name == "3.4 DDMAP IPv4 numbered with label stack" {
			d = c.tlv.(*DownstreamDetailedMapping)
		}
	}
	if l := d.Labels(); len(l) != 2 || l[1].Label != 1001 || !l[1].S || l[0].TC != 5 || l[0].Protocol != ProtoLDP {
		t.Fatalf("labels %v", l)
	}
	if (&DownstreamDetailedMapping{}).Labels() != nil {
		t.Fatal("labels of an empty DDMAP")
	}
}
