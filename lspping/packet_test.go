package lspping

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
)

// sum16 is a ones' complement sum written independently of checksum: a
// 64-bit accumulator folded once at the end.
func sum16(parts ...[]byte) uint16 {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	if len(b)%2 == 1 {
		b = append(b, 0)
	}
	var s uint64
	for i := 0; i < len(b); i += 2 {
		s += uint64(binary.BigEndian.Uint16(b[i:]))
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

func echoRequestPacket(t *testing.T) ([]byte, []byte) {
	t.Helper()
	m := NewRequest(0xabcd, 1, time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), netip.MustParsePrefix("192.0.2.1/32"), ReplyUDP, FlagValidateFEC)
	payload, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	pkt, err := EchoRequestIPv4(addr("198.51.100.7"), addr("127.0.0.1"), 49152, payload)
	if err != nil {
		t.Fatal(err)
	}
	return pkt, payload
}

func TestEchoRequestIPv4(t *testing.T) {
	pkt, payload := echoRequestPacket(t)
	// RFC 791 header with the RFC 2113 option (type 148, length 4, value
	// 0), RFC 8029 section 4.3: IP TTL 1, UDP to port 3503.
	wantHdr := unhex(t, `4600 0050 | 0000 0000 | 01 11 0000 | c6336407 | 7f000001 | 94 04 0000 | c000 0daf 0038 0000`)
	if len(pkt) != 24+8+len(payload) || len(payload) != 48 {
		t.Fatalf("packet of %d octets, payload %d", len(pkt), len(payload))
	}
	got := bytes.Clone(pkt[:32])
	got[10], got[11], got[30], got[31] = 0, 0, 0, 0 // checksums, checked below
	if !bytes.Equal(got, wantHdr) {
		t.Fatalf("headers\n got %x\nwant %x", got, wantHdr)
	}
	if !bytes.Equal(pkt[32:], payload) {
		t.Fatal("payload")
	}
	// IP header checksum: the header sums to all ones (RFC 1071).
	if s := sum16(pkt[:24]); s != 0xffff {
		t.Fatalf("IP header sums to %#x", s)
	}
	// UDP checksum over the pseudo-header (RFC 768).
	pseudo := append(append(bytes.Clone(pkt[12:20]), 0, 17), pkt[28:30]...)
	if s := sum16(pseudo, pkt[24:]); s != 0xffff {
		t.Fatalf("UDP datagram sums to %#x", s)
	}
	// And golang.org/x/net/ipv4 reads the same header.
	h, err := ipv4.ParseHeader(pkt)
	if err != nil {
		t.Fatal(err)
	}
	if h.Version != 4 || h.Len != 24 || h.TotalLen != len(pkt) || h.TTL != 1 || h.Protocol != 17 ||
		!h.Src.Equal(addr("198.51.100.7").AsSlice()) || !h.Dst.Equal(addr("127.0.0.1").AsSlice()) ||
		!bytes.Equal(h.Options, []byte{0x94, 4, 0, 0}) || int(binary.BigEndian.Uint16(pkt[10:])) != h.Checksum {
		t.Fatalf("x/net/ipv4 header %v", h)
	}

	p, err := ParseIPv4UDP(pkt)
	if err != nil {
		t.Fatal(err)
	}
	want := &IPv4UDP{Src: addr("198.51.100.7"), Dst: addr("127.0.0.1"), TTL: 1, RouterAlert: true, SrcPort: 49152, DstPort: Port, Payload: payload}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("parsed %+v", p)
	}
	if _, err := Parse(p.Payload); err != nil {
		t.Fatal(err)
	}
}

func TestEchoRequestIPv4Destinations(t *testing.T) {
	pkt, err := EchoRequestIPv4(addr("192.0.2.1"), netip.Addr{}, 1, nil)
	if err != nil || !bytes.Equal(pkt[16:20], []byte{127, 0, 0, 1}) {
		t.Fatalf("default destination: %x %v", pkt, err)
	}
	pkt, err = EchoRequestIPv4(addr("192.0.2.1"), addr("::ffff:127.1.2.3"), 1, nil)
	if err != nil || !bytes.Equal(pkt[16:20], []byte{127, 1, 2, 3}) {
		t.Fatalf("127/8 destination: %x %v", pkt, err)
	}
	for _, c := range []struct{ src, dst string }{{"192.0.2.1", "128.0.0.1"}, {"192.0.2.1", "::1"}, {"2001:db8::1", "127.0.0.1"}} {
		if _, err := EchoRequestIPv4(addr(c.src), addr(c.dst), 1, nil); err == nil {
			t.Errorf("%s to %s accepted", c.src, c.dst)
		}
	}
	if _, err := EchoRequestIPv4(addr("192.0.2.1"), netip.Addr{}, 1, make([]byte, 65535-24-8+1)); err == nil {
		t.Error("oversized payload accepted")
	}
	if _, err := EchoRequestIPv4(addr("192.0.2.1"), netip.Addr{}, 1, make([]byte, 65535-24-8)); err != nil {
		t.Error(err)
	}
}

func TestIPv4UDPRoundTrip(t *testing.T) {
	for _, p := range []*IPv4UDP{
		{Src: addr("192.0.2.1"), Dst: addr("198.51.100.2"), TOS: 0xc0, TTL: 255, SrcPort: Port, DstPort: 49152, Payload: []byte{1, 2, 3}},
		{Src: addr("192.0.2.1"), Dst: addr("198.51.100.2"), TTL: 255, RouterAlert: true, SrcPort: Port, DstPort: 49152, Payload: []byte{}},
	} {
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if sum16(b[:4*int(b[0]&0xf)]) != 0xffff {
			t.Fatal("IP header checksum")
		}
		q, err := ParseIPv4UDP(append(b, 0, 0)) // trailing link-layer padding is ignored
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip %+v, want %+v", q, p)
		}
	}
}

func TestParseIPv4UDPErrors(t *testing.T) {
	good, _ := echoRequestPacket(t)
	fixSum := func(b []byte) []byte {
		b[10], b[11] = 0, 0
		binary.BigEndian.PutUint16(b[10:], ^sum16(b[:4*int(b[0]&0xf)]))
		return b
	}
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for _, c := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"truncated header", good[:19]},
		{"truncated packet", good[:len(good)-1]},
		{"IPv6", edit(func(b []byte) []byte { b[0] = 0x66; return b })},
		{"header length 16", edit(func(b []byte) []byte { b[0] = 0x44; return fixSum(b) })},
		{"header longer than the packet", edit(func(b []byte) []byte { b[0] = 0x4f; b[2], b[3] = 0, 40; return b[:40] })},
		{"bad header checksum", edit(func(b []byte) []byte { b[8] = 2; return b })},
		{"fragment", edit(func(b []byte) []byte { b[6] = 0x20; return fixSum(b) })},
		{"fragment offset", edit(func(b []byte) []byte { b[7] = 1; return fixSum(b) })},
		{"TCP", edit(func(b []byte) []byte { b[9] = 6; return fixSum(b) })},
		{"option overruns header", edit(func(b []byte) []byte { b[21] = 8; return fixSum(b) })},
		{"option of length 1", edit(func(b []byte) []byte { b[21] = 1; return fixSum(b) })},
		{"Router Alert of length 2", edit(func(b []byte) []byte { b[21], b[22] = 2, 1; return fixSum(b) })},
		{"UDP length 7", edit(func(b []byte) []byte { b[28], b[29] = 0, 7; return b })},
		{"UDP length beyond the packet", edit(func(b []byte) []byte { b[28], b[29] = 0xff, 0; return b })},
		{"no UDP header", edit(func(b []byte) []byte { b[2], b[3] = 0, 28; return fixSum(b)[:28] })},
	} {
		if p, err := ParseIPv4UDP(c.in); err == nil {
			t.Errorf("%s: parsed %+v", c.name, p)
		}
	}
	// NOP and End of Option List are skipped; other options are ignored.
	for _, c := range []struct {
		opts []byte
		ra   bool
	}{
		{[]byte{0x94, 4, 0, 0}, true},
		{[]byte{0x94, 4, 0xff, 0xff}, true}, // other values are ignored, the option is there
		{[]byte{1, 1, 1, 1}, false},
		{[]byte{0x07, 3, 4, 0}, false},
	} {
		b := bytes.Clone(good)
		copy(b[20:24], c.opts)
		p, err := ParseIPv4UDP(fixSum(b))
		if err != nil || p.RouterAlert != c.ra {
			t.Fatalf("options %x: %+v %v", c.opts, p, err)
		}
	}
	b := bytes.Clone(good)
	copy(b[20:24], []byte{0, 0x94, 4, 0}) // after End of Option List
	if p, err := ParseIPv4UDP(fixSum(b)); err != nil || p.RouterAlert {
		t.Fatalf("after EOL: %v %v", p, err)
	}
}

func TestLabelStack(t *testing.T) {
	// RFC 3032 section 2.1: Label 20 bits, TC 3, S 1, TTL 8.
	stack := []LabelEntry{{Label: 16, TC: 0, TTL: 255}, {Label: 1001, TC: 5, S: true, TTL: 1}, {Label: 0xfffff, TC: 7, S: true, TTL: 0}}
	b := EncodeLabelStack(stack)
	want := unhex(t, `000100ff | 003e9b01 | fffffF00`)
	if !bytes.Equal(b, want) {
		t.Fatalf("encoded %x, want %x", b, want)
	}
	got, rest, err := DecodeLabelStack(append(b[:8:8], 0x45, 0))
	if err != nil || !reflect.DeepEqual(got, stack[:2]) || !bytes.Equal(rest, []byte{0x45, 0}) {
		t.Fatalf("decoded %v %x %v", got, rest, err)
	}
	if got, rest, err := DecodeLabelStack(b[8:]); err != nil || !reflect.DeepEqual(got, stack[2:]) || len(rest) != 0 {
		t.Fatalf("decoded %v %x %v", got, rest, err)
	}
	for _, in := range [][]byte{nil, b[:4], b[:7], {0, 0, 0}} {
		if _, _, err := DecodeLabelStack(in); err == nil {
			t.Errorf("%x: decoded without bottom of stack", in)
		}
	}
	if b := EncodeLabelStack([]LabelEntry{{Label: 1<<20 | 3, TC: 9, S: true, TTL: 64}}); !bytes.Equal(b, []byte{0, 0, 0x33, 64}) {
		t.Fatalf("truncation %x", b)
	}
}

// TestTcpdump writes the echo request, under a label, to an Ethernet pcap
// file and checks tcpdump decodes it as an MPLS echo request for the FEC,
// with good checksums.
func TestTcpdump(t *testing.T) {
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Skip("tcpdump not installed")
	}
	pkt, _ := echoRequestPacket(t)
	frame := append(unhex(t, `020000000002 020000000001 8847`), EncodeLabelStack([]LabelEntry{{Label: 1001, S: true, TTL: 255}})...)
	frame = append(frame, pkt...)
	var f bytes.Buffer
	f.Write(unhex(t, `d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000`)) // pcap, little-endian, DLT_EN10MB
	rec := make([]byte, 16)
	binary.LittleEndian.PutUint32(rec[0:], 1735787045)
	binary.LittleEndian.PutUint32(rec[8:], uint32(len(frame)))
	binary.LittleEndian.PutUint32(rec[12:], uint32(len(frame)))
	f.Write(rec)
	f.Write(frame)
	file := filepath.Join(t.TempDir(), "echo.pcap")
	if err := os.WriteFile(file, f.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tcpdump, "-nvv", "-r", file).CombinedOutput()
	if err != nil {
		t.Fatalf("tcpdump: %v\n%s", err, out)
	}
	t.Logf("tcpdump:\n%s", out)
	for _, want := range []string{"MPLS (label 1001, tc 0, [S], ttl 255)", "ttl 1,", "options (RA)",
		"198.51.100.7.49152 > 127.0.0.1.3503: [udp sum ok]", "LSP-PINGv1, msg-type: MPLS Echo Request (1), length: 48",
		"reply-mode: Reply via an IPv4/IPv6 UDP packet (2)", "Sender Handle: 0x0000abcd, Sequence: 1",
		"(2025-01-02T03:04:05Z)", "Target FEC Stack TLV (1), length: 12", "LDP IPv4 prefix subTLV (1), length: 5", "192.0.2.1/32"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("tcpdump output lacks %q", want)
		}
	}
	if strings.Contains(string(out), "bad") {
		t.Error("tcpdump reports a bad checksum")
	}
}
