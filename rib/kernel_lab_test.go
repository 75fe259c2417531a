//go:build lab

package rib

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/lsrd/lsrd/lab/topo"
)

func TestReadKernelState(t *testing.T) {
	lab := topo.New(t)
	r1, r2 := lab.Router("r1"), lab.Router("r2")
	if1, _ := lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	r1.AddLoopback("2.2.2.2/32")
	r1.Run("ip", "route", "add", "5.5.5.0/24", "via", "10.0.0.2")
	r1.Run("ip", "route", "add", "6.6.6.0/24", "via", "10.0.0.2", "proto", "193")
	r1.Run("ip", "route", "add", "7.7.7.0/24", "via", "10.0.0.2", "proto", "bgp")
	ifaces, names := readInterfaces(t, r1.Netlink())
	var got []string
	for _, r := range ConnectedRoutes(ifaces) {
		got = append(got, fmt.Sprintf("%s %s %s", r.Prefix, r.Source, r.NextHops[0].Ifname))
	}
	slices.Sort(got)
	want := []string{"10.0.0.0/30 connected " + if1, "2.2.2.2/32 connected lo"}
	if !slices.Equal(got, want) {
		t.Errorf("connected routes %q, want %q", got, want)
	}

	ns, err := netns.GetFromName(r1.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	routes, err := ReadKernelRoutes(ns, func(i int) string { return names[i] }, ProtocolSet(234, 193))
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, r := range routes {
		got = append(got, fmt.Sprintf("%s %s %d via %s dev %s", r.Prefix, r.Source, r.Distance, r.NextHops[0].Addr, r.NextHops[0].Ifname))
	}
	slices.Sort(got)
	// 6.6.6.0/24 carries lsrd's own protocol and must not come back.
	want = []string{
		"5.5.5.0/24 kernel 0 via 10.0.0.2 dev " + if1,
		"7.7.7.0/24 kernel 0 via 10.0.0.2 dev " + if1,
	}
	if !slices.Equal(got, want) {
		t.Errorf("kernel routes %q, want %q", got, want)
	}
}

// The route dump that skips lsrd's routes by their header reads what
// netlink's own decoder reads from the same kernel: every kind of route
// another daemon or an operator installs (ECMP, device routes, IPv6, a
// default route, many of them), none of lsrd's, none of another table;
// and a VRF's table above 255, named by an attribute only.
func TestReadKernelRoutesMatchesNetlink(t *testing.T) {
	lab := topo.New(t)
	r1, r2, r3 := lab.Router("r1"), lab.Router("r2"), lab.Router("r3")
	if1, _ := lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	if2, _ := lab.Link(r1, r3, "10.0.1.1/30", "10.0.1.2/30")
	r1.Run("ip", "-6", "addr", "add", "2001:db8:f::1/64", "dev", if1, "nodad")
	var batch strings.Builder
	for i := range 3000 {
		proto := []string{"234", "193", "186", "4"}[i%4]
		fmt.Fprintf(&batch, "route add 20.%d.%d.0/24 via 10.0.%d.2 proto %s\n", i/256, i%256, i%2, proto)
	}
	for i := range 200 {
		fmt.Fprintf(&batch, "route add 2001:db8:%x::/48 via 2001:db8:f::2 proto %s\n", i, []string{"234", "12"}[i%2])
	}
	fmt.Fprintf(&batch, "route add 198.51.100.0/24 proto 186 nexthop via 10.0.0.2 dev %s nexthop via 10.0.1.2 dev %s\n", if1, if2)
	fmt.Fprintf(&batch, "route add 198.51.101.0/24 dev %s proto 4\n", if2)
	fmt.Fprintf(&batch, "route add default via 10.0.0.2 proto 3\n")
	fmt.Fprintf(&batch, "route add blackhole 203.0.113.0/24 proto 4\n")
	fmt.Fprintf(&batch, "route add 192.0.2.0/24 via 10.0.0.2 table 100 proto 4\n")
	fmt.Fprintf(&batch, "route add 192.0.2.0/25 via 10.0.0.2 table 1000 proto 4\n")
	fmt.Fprintf(&batch, "route add 192.0.2.128/25 via 10.0.0.2 table 1000 proto 234\n")
	fmt.Fprintf(&batch, "route add 2001:db8:1000::/48 via 2001:db8:f::2 table 1000 proto 4\n")
	file := filepath.Join(t.TempDir(), "routes")
	if err := os.WriteFile(file, []byte(batch.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r1.Run("ip", "-batch", file)

	ns, err := netns.GetFromName(r1.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h := r1.Netlink()
	_, names := readInterfaces(t, h)
	own := ProtocolSet(234, 193)
	routes, err := ReadKernelRoutes(ns, func(i int) string { return names[i] }, own)
	if err != nil {
		t.Fatal(err)
	}
	// The reference: netlink's decoder, every route of the main table.
	var ref []Route
	for _, family := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		err := h.RouteListFilteredIter(family, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE, func(r netlink.Route) bool {
			if r.Type != unix.RTN_UNICAST || r.Protocol == unix.RTPROT_KERNEL || own[uint8(r.Protocol)] {
				return true
			}
			p := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
			if family == netlink.FAMILY_V6 {
				p = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
			}
			if r.Dst != nil {
				a, _ := netip.AddrFromSlice(r.Dst.IP)
				ones, _ := r.Dst.Mask.Size()
				p = netip.PrefixFrom(a.Unmap(), ones)
			}
			route := Route{Prefix: p.Masked(), Source: SourceKernel, Distance: DistanceKernel, Protocol: uint8(r.Protocol)}
			hops := []*netlink.NexthopInfo{{Gw: r.Gw, LinkIndex: r.LinkIndex}}
			if len(r.MultiPath) > 0 {
				hops = r.MultiPath
			}
			for _, nh := range hops {
				a, _ := netip.AddrFromSlice(nh.Gw)
				route.NextHops = append(route.NextHops, NextHop{Addr: a.Unmap(), Ifname: names[nh.LinkIndex]})
			}
			ref = append(ref, route)
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	str := func(rs []Route) []string {
		var out []string
		for _, r := range rs {
			out = append(out, fmt.Sprint(r))
		}
		slices.Sort(out)
		return out
	}
	if g, w := str(routes), str(ref); !slices.Equal(g, w) {
		t.Errorf("%d routes read, netlink's decoder reads %d:\n%v\nwant\n%v", len(g), len(w), g[:min(len(g), 10)], w[:min(len(w), 10)])
	}
	// 1,500 of the 3,000 IPv4 routes, 100 of the 200 IPv6 ones, the ECMP,
	// device and default routes; not the blackhole, nor other tables.
	if len(routes) != 1500+100+3 {
		var other []string
		for _, r := range routes {
			if !strings.HasPrefix(r.Prefix.String(), "20.") {
				other = append(other, fmt.Sprint(r))
			}
		}
		t.Errorf("%d routes read, want %d; besides 20.0.0.0/8: %v\n%s", len(routes), 1500+100+3, other, r1.Run("ip", "-6", "route", "show", "table", "all", "proto", "12"))
	}
	byProto := map[uint8]int{}
	for _, r := range routes {
		byProto[r.Protocol]++
		if r.Prefix == netip.MustParsePrefix("198.51.100.0/24") && len(r.NextHops) != 2 {
			t.Errorf("the ECMP route reads as %v", r)
		}
	}
	// 750 of the 3,000 each and the ECMP route (186); 750 and the device
	// route (static); the default route (boot); the 100 IPv6 ones (bird).
	if want := map[uint8]int{186: 751, 4: 751, 3: 1, 12: 100}; fmt.Sprint(byProto) != fmt.Sprint(want) {
		t.Errorf("routes by protocol %v, want %v", byProto, want)
	}
	vrf, err := ReadTableRoutes(ns, 1000, func(i int) string { return names[i] }, own)
	if err != nil {
		t.Fatal(err)
	}
	var g []string
	for _, r := range vrf {
		var hops []string
		for _, nh := range r.NextHops {
			if nh.Ifname == "" {
				t.Errorf("table 1000: %v: a next hop without its interface", r)
			}
			hops = append(hops, nh.Addr.String())
		}
		g = append(g, fmt.Sprintf("%s proto %d via %s", r.Prefix, r.Protocol, strings.Join(hops, ",")))
	}
	slices.Sort(g)
	if w := []string{"192.0.2.0/25 proto 4 via 10.0.0.2", "2001:db8:1000::/48 proto 4 via 2001:db8:f::2"}; !slices.Equal(g, w) {
		t.Errorf("table 1000 reads %q, want %q", g, w)
	}
}

// readInterfaces reads h's interfaces and their names by index.
func readInterfaces(t *testing.T, h *netlink.Handle) ([]Interface, map[int]string) {
	t.Helper()
	ifaces, err := ReadInterfaces(h)
	if err != nil {
		t.Fatal(err)
	}
	names := map[int]string{}
	for _, i := range ifaces {
		names[i.Index] = i.Name
	}
	return ifaces, names
}
