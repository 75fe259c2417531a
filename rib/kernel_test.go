package rib

import (
	"fmt"
	"net"
	"testing"

	"github.com/vishvananda/netlink"
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
func TestKernelRoute(t *testing.T) {
	names := func(i int) string { return map[int]string{2: "eth0", 3: "eth1"}[i] }
	dst := func(s string) *net.IPNet { _, n, _ := net.ParseCIDR(s); return n }
	gw := net.ParseIP("10.0.0.2")
	tests := []struct {
		name   string
		family int
		r      netlink.Route
		want   string // "" for dropped
	}{
		{"static", netlink.FAMILY_V4, netlink.Route{Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC, Dst: dst("192.0.2.0/24"), Gw: gw, LinkIndex: 2},
			"{192.0.2.0/24 kernel 0 [{10.0.0.2 eth0}] [] [] 4}"},
		{"default", netlink.FAMILY_V4, netlink.Route{Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_BOOT, Gw: gw, LinkIndex: 2},
			"{0.0.0.0/0 kernel 0 [{10.0.0.2 eth0}] [] [] 3}"},
		{"ecmp", netlink.FAMILY_V4, netlink.Route{Type: unix.RTN_UNICAST, Protocol: 186, Dst: dst("198.51.100.0/24"),
			MultiPath: []*netlink.NexthopInfo{{Gw: gw, LinkIndex: 2}, {Gw: net.ParseIP("10.0.1.2"), LinkIndex: 3}}},
			"{198.51.100.0/24 kernel 0 [{10.0.0.2 eth0} {10.0.1.2 eth1}] [] [] 186}"},
		{"lsrd's own", netlink.FAMILY_V4, netlink.Route{Type: unix.RTN_UNICAST, Protocol: 234, Dst: dst("20.0.0.0/24"), Gw: gw, LinkIndex: 2}, ""},
		{"an earlier lsrd's", netlink.FAMILY_V4, netlink.Route{Type: unix.RTN_UNICAST, Protocol: 193, Dst: dst("20.0.1.0/24"), Gw: gw, LinkIndex: 2}, ""},
		{"connected", netlink.FAMILY_V4, netlink.Route{Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_KERNEL, Dst: dst("10.0.0.0/30"), LinkIndex: 2}, ""},
		{"blackhole", netlink.FAMILY_V4, netlink.Route{Type: unix.RTN_BLACKHOLE, Protocol: unix.RTPROT_STATIC, Dst: dst("203.0.113.0/24")}, ""},
	}
	for _, tt := range tests {
		got, ok := kernelRoute(tt.family, tt.r, names, testOwn)
		if s := fmt.Sprint(got); ok != (tt.want != "") || (ok && s != tt.want) {
			t.Errorf("%s: got %v (kept %v), want %q", tt.name, s, ok, tt.want)
		}
	}
}
