//go:build !lab

package rib

import (
	"net"
	"net/netip"
	"slices"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/lsrd/lsrd/internal/netnstest"
)

// Every address lands on its own interface: ReadInterfaces reads all of
// them in one dump and groups them by interface index.
func TestReadInterfacesGroupsAddresses(t *testing.T) {
	a, b := netnstest.New(t), netnstest.New(t)
	netnstest.Veth(t, a, b, "a0", "b0", netip.MustParsePrefix("10.0.0.1/30"), netip.MustParsePrefix("10.0.0.2/30"))
	netnstest.Veth(t, a, b, "a1", "b1", netip.MustParsePrefix("10.0.1.1/30"), netip.MustParsePrefix("10.0.1.2/30"))
	h, err := netlink.NewHandleAt(a)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	add := func(ifname, p string) {
		l, err := h.LinkByName(ifname)
		if err != nil {
			t.Fatal(err)
		}
		pp := netip.MustParsePrefix(p)
		if err := h.AddrAdd(l, &netlink.Addr{IPNet: &net.IPNet{IP: pp.Addr().AsSlice(), Mask: net.CIDRMask(pp.Bits(), 32)}}); err != nil {
			t.Fatal(err)
		}
	}
	add("lo", "2.2.2.2/32")
	add("a1", "192.0.2.1/24")
	ifaces, err := ReadInterfaces(h)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, i := range ifaces {
		for _, p := range i.Addrs {
			if p.Addr().Is4() {
				got[i.Name] = append(got[i.Name], p.String())
			}
		}
		slices.Sort(got[i.Name])
	}
	want := map[string][]string{"lo": {"127.0.0.1/8", "2.2.2.2/32"}, "a0": {"10.0.0.1/30"}, "a1": {"10.0.1.1/30", "192.0.2.1/24"}}
	for name, w := range want {
		if !slices.Equal(got[name], w) {
			t.Errorf("%s: %v, want %v", name, got[name], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("interfaces with IPv4 addresses: %v, want %v", got, want)
	}
}
