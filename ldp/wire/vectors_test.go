package wire

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"
)

// vector is a hand-written PDU (from the RFC 5036 figures, not from the
// encoder) and the value it must decode to.
type vector struct {
	name string
	hex  string
	want *PDU
}

var vectors = []vector{
	{
		name: "Hello link with IPv4 transport and config seq",
		hex: `0001 0026 0a000001 0000  # version 1, PDU length 38, LDP ID 10.0.0.1:0
		      0100 001c 00000001       # Hello, length 28, msg ID 1
		      0400 0004 000f 0000      # Common Hello Params: hold 15, T=R=0
		      0401 0004 0a000001       # IPv4 Transport Address 10.0.0.1
		      0402 0004 00000007       # Configuration Sequence Number 7`,
		want: &PDU{ID: id("10.0.0.1", 0), Messages: []Message{&Hello{
			MsgID: 1, Params: CommonHelloParams{HoldTime: 15},
			TransportAddr: ip("10.0.0.1"), ConfigSeq: new(uint32(7)),
		}}},
	},
	{
		name: "Hello targeted with IPv6 transport (RFC 7552)",
		hex: `0001 002a 0a000001 0000
		      0100 0020 00000002
		      0400 0004 002d c000                      # hold 45, T=1 R=1
		      0403 0010 20010db8000000000000000000000001`,
		want: &PDU{ID: id("10.0.0.1", 0), Messages: []Message{&Hello{
			MsgID: 2, Params: CommonHelloParams{HoldTime: 45, Targeted: true, RequestTargeted: true},
			TransportAddr: ip("2001:db8::1"),
		}}},
	},
	{
		name: "Hello link, IPv6 transport, dual-stack preferring IPv6 (RFC 7552)",
		hex: `0001 0032 0a000001 0000
		      0100 0028 00000003
		      0400 0004 000f 2000                      # hold 15, G=1
		      0403 0010 20010db8000000000000000000000001
		      8701 0004 60000000                       # Dual-Stack, U bit, TR=0110`,
		want: &PDU{ID: id("10.0.0.1", 0), Messages: []Message{&Hello{
			MsgID: 3, Params: CommonHelloParams{HoldTime: 15, GTSM: true},
			TransportAddr: ip("2001:db8::1"), DualStack: &DualStack{TR: DualStackIPv6},
		}}},
	},
	{
		name: "Hello link, IPv4 transport, dual-stack preferring IPv4",
		hex: `0001 0026 0a000001 0000
		      0100 001c 00000004
		      0400 0004 000f 0000
		      0401 0004 0a000001
		      8701 0004 40000000                       # TR=0100`,
		want: &PDU{ID: id("10.0.0.1", 0), Messages: []Message{&Hello{
			MsgID: 4, Params: CommonHelloParams{HoldTime: 15},
			TransportAddr: ip("10.0.0.1"), DualStack: &DualStack{TR: DualStackIPv4},
		}}},
	},
	{
		name: "Hello with a dual-stack preference RFC 7552 does not define, kept for the engine",
		hex: `0001 0026 0a000001 0000
		      0100 001c 00000005
		      0400 0004 000f 0000
		      0401 0004 0a000001
		      8701 0004 50000000                       # TR=0101`,
		want: &PDU{ID: id("10.0.0.1", 0), Messages: []Message{&Hello{
			MsgID: 5, Params: CommonHelloParams{HoldTime: 15},
			TransportAddr: ip("10.0.0.1"), DualStack: &DualStack{TR: 0b0101},
		}}},
	},
	{
		name: "Initialization with capabilities",
		hex: `0001 002f 0a000001 0000
		      0200 0025 00000003
		      0500 000e 0001 00b4 40 05 1000 0a000002 0000  # v1, KA 180, D=1, PVLim 5, max 4096, 10.0.0.2:0
		      8506 0001 80   # Dynamic Announcement, U=1, S=1
		      850b 0001 80   # Typed Wildcard FEC capability
		      8603 0001 80   # Unrecognized Notification capability`,
		want: &PDU{ID: id("10.0.0.1", 0), Messages: []Message{&Initialization{
			MsgID: 3,
			Session: CommonSessionParams{ProtocolVersion: 1, KeepAliveTime: 180, LoopDetection: true,
				PathVectorLimit: 5, MaxPDULength: 4096, ReceiverID: id("10.0.0.2", 0)},
			Capabilities: []CapabilityParam{
				{Type: TLVDynamicAnnouncementCap, State: true},
				{Type: TLVTypedWildcardFECCap, State: true},
				{Type: TLVUnrecognizedNotifCap, State: true},
			},
		}}},
	},
	{
		name: "Initialization with FT Session (RFC 3478 section 2)",
		hex: `0001 0030 0a000001 0000
		      0200 0026 00000007
		      0500 000e 0001 00b4 00 00 1000 0a000002 0000  # v1, KA 180, max 4096, 10.0.0.2:0
		      8503 000c 0001 0000 0001d4c0 0000ea60         # FT Session, U=1: L, reconnect 120000 ms, recovery 60000 ms`,
		want: &PDU{ID: id("10.0.0.1", 0), Messages: []Message{&Initialization{
			MsgID:   7,
			Session: CommonSessionParams{ProtocolVersion: 1, KeepAliveTime: 180, MaxPDULength: 4096, ReceiverID: id("10.0.0.2", 0)},
			FT:      &FTSession{Flags: FTFlagL, ReconnectTimeout: 120000, RecoveryTime: 60000},
		}}},
	},
	{
		name: "KeepAlive",
		hex:  `0001 000e 0a000001 0000  0201 0004 00000004`,
		want: &PDU{ID: id("10.0.0.1", 0), Messages: []Message{&KeepAlive{MsgID: 4}}},
	},
	{
		name: "Address IPv4",
		hex: `0001 001c 0a000001 0000
		      0300 0012 00000005
		      0101 000a 0001 0a000001 c0a80101`,
		want: &PDU{ID: id("10.0.0.1", 0), Messages: []Message{&Address{MsgID: 5,
			Addresses: AddressList{Family: AFIPv4, Addrs: []netip.Addr{ip("10.0.0.1"), ip("192.168.1.1")}}}}},
	},
	{
		name: "Address IPv6 (RFC 7552)",
		hex: `0001 0024 0a000001 0000
		      0300 001a 00000006
		      0101 0012 0002 20010db8000000000000000000000001`,
		want: &PDU{ID: id("10.0.0.1", 0), Messages: []Message{&Address{MsgID: 6,
			Addresses: AddressList{Family: AFIPv6, Addrs: []netip.Addr{ip("2001:db8::1")}}}}},
	},
	{
		name: "Address Withdraw",
		hex: `0001 0018 0a000001 0000
		      0301 000e 00000007
		      0101 0006 0001 0a000001`,
		want: &PDU{ID: id("10.0.0.1", 0), Messages: []Message{&AddressWithdraw{MsgID: 7,
			Addresses: AddressList{Family: AFIPv4, Addrs: []netip.Addr{ip("10.0.0.1")}}}}},
	},
	{
		name: "Label Mapping with all optional parameters",
		hex: `0001 003a 0a000001 0000
		      0400 0030 00000008
		      0100 0007 02 0001 18 0a0100   # FEC: prefix 10.1.0.0/24
		      0200 0004 00000010            # Generic Label 16
		      0600 0004 00000009            # Label Request Message ID 9
		      0103 0001 02                  # Hop Count 2
		      0104 0008 0a000001 0a000002   # Path Vector`,
		want: &PDU{ID: id("10.0.0.1", 0), Messages: []Message{&LabelMapping{
			MsgID: 8, FEC: FEC{PrefixFEC{pfx("10.1.0.0/24")}}, Label: 16,
			LabelRequestID: new(uint32(9)), HopCount: new(uint8(2)),
			PathVector: []netip.Addr{ip("10.0.0.1"), ip("10.0.0.2")},
		}}},
	},
	{
		name: "Label Mapping IPv6 prefix (RFC 7552)",
		hex: `0001 0022 0a000001 0000
		      0400 0018 00000009
		      0100 0008 02 0002 20 20010db8   # 2001:db8::/32
		      0200 0004 00000003              # implicit null`,
		want: &PDU{ID: id("10.0.0.1", 0), Messages: []Message{&LabelMapping{
			MsgID: 9, FEC: FEC{PrefixFEC{pfx("2001:db8::/32")}}, Label: 3}}},
	},
	{
		name: "Label Request",
		hex: `0001 001f 0a000001 0000
		      0401 0015 0000000a
		      0100 0008 02 0001 20 0a000005   # 10.0.0.5/32
		      0103 0001 01`,
		want: &PDU{ID: id("10.0.0.1", 0), Messages: []Message{&LabelRequest{
			MsgID: 10, FEC: FEC{PrefixFEC{pfx("10.0.0.5/32")}}, HopCount: new(uint8(1))}}},
	},
	{
		name: "Label Withdraw wildcard with label",
		hex: `0001 001b 0a000001 0000
		      0402 0011 0000000b
		      0100 0001 01          # Wildcard FEC
		      0200 0004 000fffff    # label 1048575`,
		want: &PDU{ID: id("10.0.0.1", 0), Messages: []Message{&LabelWithdraw{
			MsgID: 11, FEC: FEC{WildcardFEC{}}, Label: new(uint32(MaxLabel))}}},
	},
	{
		name: "Label Release default route",
		hex: `0001 0016 0a000001 0000
		      0403 000c 0000000c
		      0100 0004 02 0001 00   # 0.0.0.0/0, no prefix bytes`,
		want: &PDU{ID: id("10.0.0.1", 0), Messages: []Message{&LabelRelease{
			MsgID: 12, FEC: FEC{PrefixFEC{pfx("0.0.0.0/0")}}}}},
	},
	{
		name: "Label Abort Request",
		hex: `0001 0020 0a000001 0001   # label space 1
		      0404 0016 0000000d
		      0100 0006 02 0001 10 0a01
		      0600 0004 00000007`,
		want: &PDU{ID: id("10.0.0.1", 1), Messages: []Message{&LabelAbortRequest{
			MsgID: 13, FEC: FEC{PrefixFEC{pfx("10.1.0.0/16")}}, LabelRequestID: 7}}},
	},
	{
		name: "Notification Shutdown with extended status",
		hex: `0001 0024 0a000001 0000
		      0001 001a 0000000e
		      0300 000a 8000000a 00000000 0000   # Status: E=1 Shutdown
		      0301 0004 0000beef`,
		want: &PDU{ID: id("10.0.0.1", 0), Messages: []Message{&Notification{
			MsgID: 14, Status: Status{Code: StatusShutdown, Fatal: true}, ExtendedStatus: new(uint32(0xbeef))}}},
	},
	{
		name: "Notification Unknown Message Type with returned message",
		hex: `0001 0028 0a000001 0000
		      0001 001e 0000000f
		      0300 000a 00000004 00000021 3e00
		      0303 0008 3e00 0004 00000021`,
		want: &PDU{ID: id("10.0.0.1", 0), Messages: []Message{&Notification{
			MsgID:           15,
			Status:          Status{Code: StatusUnknownMessageType, MsgID: 0x21, MsgType: 0x3e00},
			ReturnedMessage: []byte{0x3e, 0x00, 0x00, 0x04, 0, 0, 0, 0x21},
		}}},
	},
	{
		name: "Notification End-of-LIB (RFC 5919)",
		hex: `0001 0025 0a000001 0000
		      0001 001b 00000010
		      0300 000a 0000002f 00000000 0000
		      0100 0005 05 02 02 0001   # Typed Wildcard FEC, prefix, len 2, IPv4`,
		want: &PDU{ID: id("10.0.0.1", 0), Messages: []Message{NewEndOfLIB(16, AFIPv4)}},
	},
	{
		name: "Capability message withdrawing typed wildcard (RFC 5561)",
		hex: `0001 0013 0a000001 0000
		      0202 0009 00000011
		      850b 0001 00`,
		want: &PDU{ID: id("10.0.0.1", 0), Messages: []Message{&Capability{
			MsgID: 17, Capabilities: []CapabilityParam{{Type: TLVTypedWildcardFECCap}}}}},
	},
	{
		name: "unknown message U=1 and unknown TLV U=1 F=1 preserved",
		hex: `0001 0032 0a000001 0000
		      bf00 0008 00000015 abcdef01      # U=1, type 0x3f00
		      0400 001c 00000016
		      0100 0006 02 0001 10 0a02
		      0200 0004 00000011
		      ff01 0002 1234                   # U=1 F=1 type 0x3f01`,
		want: &PDU{ID: id("10.0.0.1", 0), Messages: []Message{
			&RawMessage{U: true, MsgType: 0x3f00, MsgID: 0x15, Params: []byte{0xab, 0xcd, 0xef, 0x01}},
			&LabelMapping{MsgID: 0x16, FEC: FEC{PrefixFEC{pfx("10.2.0.0/16")}}, Label: 17,
				Unknown: []RawTLV{{U: true, F: true, Type: 0x3f01, Value: []byte{0x12, 0x34}}}},
		}, UnknownTLVs: 1},
	},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			b := hx(t, v.hex)
			got, err := DecodePDU(b)
			if err != nil {
				t.Fatalf("DecodePDU: %v", err)
			}
			if !reflect.DeepEqual(got, v.want) {
				t.Errorf("decoded\n%#v (%d unknown TLVs)\nwant\n%#v (%d)", got.Messages, got.UnknownTLVs, v.want.Messages, v.want.UnknownTLVs)
			}
			enc, err := v.want.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary: %v", err)
			}
			if !bytes.Equal(enc, b) {
				t.Errorf("encoded\n%x\nwant\n%x", enc, b)
			}
		})
	}
}

// TestHostBitsMasked checks that host bits beyond the prefix length are
// cleared on decode and on encode (RFC 5036 section 3.4.1 only sends
// ceil(len/8) prefix octets).
func TestHostBitsMasked(t *testing.T) {
	b := hx(t, `0001 0021 0a000001 0000
	            0403 0017 00000001
	            0100 0007 02 0001 14 0a01ff   # 10.1.255.0/20 -> 10.1.240.0/20
	            0200 0004 00000010`)
	p, err := DecodePDU(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Messages[0].(*LabelRelease).FEC[0].(PrefixFEC).Prefix; got != pfx("10.1.240.0/20") {
		t.Errorf("decoded prefix %v, want 10.1.240.0/20", got)
	}
	enc, err := AppendMessage(nil, &LabelRelease{MsgID: 1, FEC: FEC{PrefixFEC{netip.PrefixFrom(ip("10.1.255.7"), 20)}}})
	if err != nil {
		t.Fatal(err)
	}
	want := hx(t, `0403 000f 00000001  0100 0007 02 0001 14 0a01f0`)
	if !bytes.Equal(enc, want) {
		t.Errorf("encoded %x, want %x", enc, want)
	}
}
