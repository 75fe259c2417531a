package netlinkfib

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/lsrd/lsrd/fib"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// unhex reads a vector written as spaced hex with comments after '#'.
func unhex(t *testing.T, s string) []byte {
	t.Helper()
	var clean strings.Builder
	for _, line := range strings.Split(s, "\n") {
		line, _, _ = strings.Cut(line, "#")
		clean.WriteString(strings.ReplaceAll(strings.TrimSpace(line), " ", ""))
	}
	b, err := hex.DecodeString(clean.String())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func serialize(req *nl.NetlinkRequest) []byte {
	req.Seq, req.Pid = 1, 0
	return req.Serialize()
}

// The vectors follow linux/netlink.h, linux/rtnetlink.h, linux/nexthop.h,
// linux/lwtunnel.h and linux/mpls_iptunnel.h, in host order (x86: little
// endian) except label entries and addresses, which are network order.
func TestNexthopMessageBytes(t *testing.T) {
	if nl.NativeEndian().Uint16([]byte{1, 0}) != 1 {
		t.Skip("vectors are little-endian")
	}
	o := nexthopObject{id: blockOf(DefaultProtocol).first, hop: kh(gwA, 2, 300, 301)}
	want := unhex(t, `
		48000000 6800 0106 01000000 00000000 # nlmsghdr: len 72, RTM_NEWNEXTHOP, REQUEST|EXCL|CREATE, seq 1
		02 00 ea 00 00000000                 # nhmsg: AF_INET, scope 0, protocol 234, flags 0
		0800 0100 000000ea                   # NHA_ID 0xea000000
		0800 0500 02000000                   # NHA_OIF 2
		0800 0600 0a000002                   # NHA_GATEWAY 10.0.0.2
		0600 0700 0100 0000                  # NHA_ENCAP_TYPE LWTUNNEL_ENCAP_MPLS, padded
		1000 0880                            # NHA_ENCAP | NLA_F_NESTED
		  0c00 0100 0012c000 0012d100        #   MPLS_IPTUNNEL_DST 300, 301+BOS
	`)
	if got := serialize(nexthopRequest(DefaultProtocol, o, flagsAdd)); !bytes.Equal(got, want) {
		t.Errorf("nexthop:\n got %x\nwant %x", got, want)
	}

	// 6PE: an IPv6 object through a mapped IPv4 gateway, on-link,
	// pushing the LSP label and the IPv6 explicit null.
	six := nexthopObject{id: blockOf(DefaultProtocol).first + 1, hop: hop{gw: netip.MustParseAddr("::ffff:10.0.0.2"), ifindex: 2, labels: []fib.Label{300, 2}}}
	want = unhex(t, `
		54000000 6800 0106 01000000 00000000 # len 84
		0a 00 ea 00 04000000                 # nhmsg: AF_INET6, protocol 234, flags RTNH_F_ONLINK
		0800 0100 010000ea                   # NHA_ID
		0800 0500 02000000                   # NHA_OIF 2
		1400 0600 00000000 00000000 0000ffff 0a000002 # NHA_GATEWAY ::ffff:10.0.0.2
		0600 0700 0100 0000                  # NHA_ENCAP_TYPE LWTUNNEL_ENCAP_MPLS, padded
		1000 0880                            # NHA_ENCAP | NLA_F_NESTED
		  0c00 0100 0012c000 00002100        #   MPLS_IPTUNNEL_DST 300, 2+BOS
	`)
	if got := serialize(nexthopRequest(DefaultProtocol, six, flagsAdd)); !bytes.Equal(got, want) {
		t.Errorf("6PE nexthop:\n got %x\nwant %x", got, want)
	}

	g := groupObject{id: blockOf(DefaultProtocol).first + 2, members: []uint32{blockOf(DefaultProtocol).first, blockOf(DefaultProtocol).first + 1}}
	want = unhex(t, `
		34000000 6800 0105 01000000 00000000 # len 52, RTM_NEWNEXTHOP, REQUEST|REPLACE|CREATE
		00 00 ea 00 00000000                 # nhmsg: AF_UNSPEC, protocol 234
		0800 0100 020000ea                   # NHA_ID
		1400 0200                            # NHA_GROUP: two struct nexthop_grp
		  000000ea 00 00 0000                #   id, weight-1 = 0, reserved
		  010000ea 00 00 0000
	`)
	if got := serialize(groupRequest(DefaultProtocol, g, flagsReplace)); !bytes.Equal(got, want) {
		t.Errorf("group:\n got %x\nwant %x", got, want)
	}

	want = unhex(t, `
		20000000 6900 0100 01000000 00000000 # len 32, RTM_DELNEXTHOP, REQUEST
		00 00 00 00 00000000
		0800 0100 010000ea
	`)
	if got := serialize(nexthopDeleteRequest(blockOf(DefaultProtocol).first + 1)); !bytes.Equal(got, want) {
		t.Errorf("delete:\n got %x\nwant %x", got, want)
	}
}

func TestRouteMessageBytes(t *testing.T) {
	if nl.NativeEndian().Uint16([]byte{1, 0}) != 1 {
		t.Skip("vectors are little-endian")
	}
	r := labelRoute{in: 100, hops: []hop{kh(gwA, 2, 200, 300)}}
	want := unhex(t, `
		44000000 1800 0106 01000000 00000000 # len 68, RTM_NEWROUTE, REQUEST|EXCL|CREATE
		1c 14 00 00 fe ea 00 01 00000000     # rtmsg: AF_MPLS, dst_len 20, main, proto 234, universe, unicast
		0800 0100 00064100                   # RTA_DST 100+BOS
		0c00 1300 000c8000 0012c100          # RTA_NEWDST 200, 300+BOS
		0a00 1200 0200 0a000002 0000         # RTA_VIA AF_INET 10.0.0.2, padded
		0800 0400 02000000                   # RTA_OIF 2
	`)
	if got := serialize(labelRouteRequest(DefaultProtocol, r, flagsAdd)); !bytes.Equal(got, want) {
		t.Errorf("label route:\n got %x\nwant %x", got, want)
	}

	pr := prefixRoute{prefix: netip.MustParsePrefix("198.18.1.0/24"), nhid: blockOf(DefaultProtocol).first}
	want = unhex(t, `
		2c000000 1800 0105 01000000 00000000 # len 44, RTM_NEWROUTE, REQUEST|REPLACE|CREATE
		02 18 00 00 fe ea 00 01 00000000     # rtmsg: AF_INET, /24, main, proto 234
		0800 0100 c6120100                   # RTA_DST 198.18.1.0
		0800 1e00 000000ea                   # RTA_NH_ID
	`)
	if got := serialize(prefixRouteRequest(routeTarget{table: unix.RT_TABLE_MAIN, proto: DefaultProtocol}, pr, flagsReplace)); !bytes.Equal(got, want) {
		t.Errorf("prefix route:\n got %x\nwant %x", got, want)
	}
}

// What the FIB writes, it reads back the same: encode then decode.
func TestRoundTrip(t *testing.T) {
	for _, r := range []labelRoute{
		{in: 100, hops: []hop{kh(gwA, 2, 200, 300)}},
		{in: 101, hops: []hop{kh(gwA, 2)}},
		{in: 102, hops: []hop{kh(gwA, 2, 401), kh(gwB, 3, 402)}},
		{in: 103, hops: []hop{kh(gwA, 2, 0)}},
		{in: 104, hops: []hop{kh(netip.MustParseAddr("fe80::1"), 2, 5)}},
	} {
		b := serialize(labelRouteRequest(DefaultProtocol, r, flagsAdd))
		got, err := decodeRoute(b[unix.SizeofNlMsghdr:])
		if err != nil {
			t.Fatal(err)
		}
		if got.label != r.in || got.protocol != DefaultProtocol || !(labelRoute{in: got.label, hops: got.hops}).equal(r) {
			t.Errorf("label %d: decoded %+v", r.in, got)
		}
	}
	for _, o := range []nexthopObject{{id: 5, hop: kh(gwA, 2, 300, 301)}, {id: 6, hop: kh(gwB, 3)}} {
		b := serialize(nexthopRequest(DefaultProtocol, o, flagsAdd))
		got, err := decodeNexthop(b[unix.SizeofNlMsghdr:])
		if err != nil {
			t.Fatal(err)
		}
		if got.id != o.id || !got.hop.equal(o.hop) || got.protocol != DefaultProtocol || got.other {
			t.Errorf("nexthop %d: decoded %+v", o.id, got)
		}
	}
	b := serialize(groupRequest(DefaultProtocol, groupObject{id: 9, members: []uint32{5, 6}}, flagsAdd))
	if got, err := decodeNexthop(b[unix.SizeofNlMsghdr:]); err != nil || !reflect.DeepEqual(got.group, []uint32{5, 6}) {
		t.Errorf("group: %+v %v", got, err)
	}
	b = serialize(prefixRouteRequest(routeTarget{table: 1000, metric: 20}, prefixRoute{prefix: netip.MustParsePrefix("2001:db8::/32"), nhid: 7}, flagsAdd))
	got, err := decodeRoute(b[unix.SizeofNlMsghdr:])
	if err != nil || got.prefix.String() != "2001:db8::/32" || got.table != 1000 || got.metric != 20 || got.nhid != 7 {
		t.Errorf("prefix route: %+v %v", got, err)
	}
}

func TestEncodeLabels(t *testing.T) {
	if got := encodeLabels([]fib.Label{fib.MaxLabel}); !bytes.Equal(got, []byte{0xff, 0xff, 0xf1, 0x00}) {
		t.Errorf("max label: %x", got)
	}
}

// The decoders read what the kernel sends; malformed input must be an
// error, never a panic.
func FuzzDecode(f *testing.F) {
	f.Add(serialize(labelRouteRequest(DefaultProtocol, labelRoute{in: 102, hops: []hop{kh(gwA, 2, 401), kh(gwB, 3, 402)}}, 0))[16:])
	f.Add(serialize(nexthopRequest(DefaultProtocol, nexthopObject{id: 5, hop: kh(gwA, 2, 300, 301)}, 0))[16:])
	f.Add(serialize(groupRequest(DefaultProtocol, groupObject{id: 9, members: []uint32{5, 6}}, 0))[16:])
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = decodeRoute(b)
		_, _ = decodeNexthop(b)
		_, _, _ = decodeLinkName(b)
		_ = forMessages(b, func(h unix.NlMsghdr, p []byte) error { decodeError(h, p); return nil })
	})
}

// IPv6 routes sent without a metric come back at 1024: lsrd's own must be
// recognized on a re-read, at the default metric only.
func TestSameMetricIPv6Default(t *testing.T) {
	for _, c := range []struct {
		target uint32
		fam    uint8
		got    uint32
		want   bool
	}{
		{0, unix.AF_INET6, 1024, true},
		{0, unix.AF_INET6, 0, true},
		{0, unix.AF_INET6, 20, false},
		{0, unix.AF_INET, 1024, false},
		{0, unix.AF_INET, 0, true},
		{20, unix.AF_INET6, 1024, false},
		{20, unix.AF_INET6, 20, true},
	} {
		if got := (routeTarget{metric: c.target}).sameMetric(c.fam, c.got); got != c.want {
			t.Errorf("target %d family %d metric %d: %v, want %v", c.target, c.fam, c.got, got, c.want)
		}
	}
}
