package rib

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// lsrd's protocol and the one it used before, as the daemon configures them.
var testOwn = ProtocolSet(234, 193)

func TestOwnRouteNotifications(t *testing.T) {
	rtmsg := func(proto byte) []byte {
		b := make([]byte, unix.SizeofRtMsg)
		b[0], b[5] = unix.AF_INET, proto
		return b
	}
	for _, c := range []struct {
		typ  uint16
		data []byte
		own  bool
	}{
		{unix.RTM_NEWROUTE, rtmsg(234), true},
		{unix.RTM_DELROUTE, rtmsg(234), true},
		{unix.RTM_NEWROUTE, rtmsg(193), true},
		{unix.RTM_NEWROUTE, rtmsg(188), false}, // zebra's OSPF routes
		{unix.RTM_NEWROUTE, rtmsg(unix.RTPROT_BOOT), false},
		{unix.RTM_NEWROUTE, rtmsg(unix.RTPROT_STATIC), false},
		{unix.RTM_NEWADDR, rtmsg(234), false}, // not a route: the byte means something else
		{unix.RTM_NEWROUTE, []byte{unix.AF_INET}, false},
	} {
		if got := ownRoute(c.typ, c.data, testOwn); got != c.own {
			t.Errorf("type %d protocol byte %v: own %v, want %v", c.typ, c.data, got, c.own)
		}
	}
}

// What a kernel re-read keeps of each dumped route: other daemons' and
// operators' unicast routes, never the kernel's connected routes or lsrd's.
// (The bytes are read in the lab against the real kernel,
// TestReadKernelState, and fuzzed, FuzzDecodeRoute.)
func TestKernelRoute(t *testing.T) {
	names := func(i int) string { return map[int]string{2: "eth0", 3: "eth1"}[i] }
	addr := netip.MustParseAddr
	gw := addr("10.0.0.2")
	main := uint32(unix.RT_TABLE_MAIN)
	v4 := func(proto, typ uint8, dst string, bits uint8, hops ...kernelHop) kernelRouteMsg {
		m := kernelRouteMsg{family: unix.AF_INET, protocol: proto, typ: typ, table: main, dstLen: bits, hops: hops}
		if dst != "" {
			m.dst = addr(dst)
		}
		return m
	}
	tests := []struct {
		name string
		m    kernelRouteMsg
		want string // "" for dropped
	}{
		{"static", v4(unix.RTPROT_STATIC, unix.RTN_UNICAST, "192.0.2.0", 24, kernelHop{gw, 2}),
			"{192.0.2.0/24 kernel 0 [{10.0.0.2 eth0}] [] [] 4}"},
		{"default", v4(unix.RTPROT_BOOT, unix.RTN_UNICAST, "", 0, kernelHop{gw, 2}),
			"{0.0.0.0/0 kernel 0 [{10.0.0.2 eth0}] [] [] 3}"},
		{"ecmp", v4(186, unix.RTN_UNICAST, "198.51.100.0", 24, kernelHop{gw, 2}, kernelHop{addr("10.0.1.2"), 3}),
			"{198.51.100.0/24 kernel 0 [{10.0.0.2 eth0} {10.0.1.2 eth1}] [] [] 186}"},
		{"device route", v4(unix.RTPROT_STATIC, unix.RTN_UNICAST, "198.51.100.128", 25, kernelHop{ifindex: 3}),
			"{198.51.100.128/25 kernel 0 [{invalid IP eth1}] [] [] 4}"},
		{"lsrd's own", v4(234, unix.RTN_UNICAST, "20.0.0.0", 24, kernelHop{gw, 2}), ""},
		{"an earlier lsrd's", v4(193, unix.RTN_UNICAST, "20.0.1.0", 24, kernelHop{gw, 2}), ""},
		{"connected", v4(unix.RTPROT_KERNEL, unix.RTN_UNICAST, "10.0.0.0", 30, kernelHop{ifindex: 2}), ""},
		{"blackhole", v4(unix.RTPROT_STATIC, unix.RTN_BLACKHOLE, "203.0.113.0", 24), ""},
	}
	for _, tt := range tests {
		var got Route
		ok := tt.m.othersInMain(testOwn)
		if ok {
			got, ok = kernelRoute(tt.m, names)
		}
		if s := fmt.Sprint(got); ok != (tt.want != "") || (ok && s != tt.want) {
			t.Errorf("%s: got %v (kept %v), want %q", tt.name, s, ok, tt.want)
		}
	}
}

// Route messages from anywhere decode to an error or a route, never a
// panic.
func FuzzDecodeRoute(f *testing.F) {
	hdr := []byte{unix.AF_INET, 24, 0, 0, unix.RT_TABLE_MAIN, 186, 0, unix.RTN_UNICAST, 0, 0, 0, 0}
	attr := func(typ uint16, v ...byte) []byte {
		b := binary.NativeEndian.AppendUint16(nil, uint16(4+len(v)))
		b = binary.NativeEndian.AppendUint16(b, typ)
		b = append(b, v...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	rtnh := func(ifindex uint32, attrs ...byte) []byte {
		b := binary.NativeEndian.AppendUint16(nil, uint16(8+len(attrs)))
		b = append(b, 0, 0)
		b = binary.NativeEndian.AppendUint32(b, ifindex)
		return append(b, attrs...)
	}
	f.Add(slices.Concat(hdr, attr(unix.RTA_DST, 198, 51, 100, 0), attr(unix.RTA_GATEWAY, 10, 0, 0, 2), attr(unix.RTA_OIF, 2, 0, 0, 0)))
	f.Add(slices.Concat(hdr, attr(unix.RTA_DST, 198, 51, 100, 0), attr(unix.RTA_MULTIPATH,
		slices.Concat(rtnh(2, attr(unix.RTA_GATEWAY, 10, 0, 0, 2)...), rtnh(3, attr(unix.RTA_GATEWAY, 10, 0, 1, 2)...))...)))
	f.Add(slices.Concat(hdr, attr(unix.RTA_TABLE, 0, 1, 0, 0)))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := rtmHeader(b)
		if err != nil {
			return
		}
		if err := decodeRouteAttrs(&m, b); err != nil {
			return
		}
		if len(m.hops) == 0 {
			t.Fatalf("decoded without a next hop: %+v", m)
		}
		if p, ok := m.prefix(); ok && !p.IsValid() {
			t.Fatalf("invalid prefix kept: %+v", m)
		}
		kernelRoute(m, func(int) string { return "" })
	})
}
