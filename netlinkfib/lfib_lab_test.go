//go:build lab

package netlinkfib

import (
	"net"
	"strings"
	"testing"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/lab/topo"
	"github.com/vishvananda/netlink"
)

// Swap with a two-label stack, PHP, ECMP and explicit-null, programmed by one
// Apply, read back through vishvananda/netlink and through iproute2.
func TestLFIB(t *testing.T) {
	lab := topo.New(t)
	r1, r2, r3 := lab.Router("r1"), lab.Router("r2"), lab.Router("r3")
	a, _ := lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	b, _ := lab.Link(r1, r3, "10.0.1.1/30", "10.0.1.2/30")
	r1.EnableMPLS(a, b)
	f := newFIB(t, r1)
	if err := f.CheckMPLS(); err != nil {
		t.Fatal(err)
	}
	tab := fib.NewTable()
	tab.LFIB[100] = lfib(100, nh("10.0.0.2", a, 200, 300))
	tab.LFIB[101] = lfib(101, nh("10.0.0.2", a))
	tab.LFIB[102] = lfib(102, nh("10.0.1.2", b, 402), nh("10.0.0.2", a, 401))
	tab.LFIB[103] = lfib(103, nh("10.0.0.2", a, fib.LabelIPv4ExplicitNull))
	apply(t, f, tab)

	routes, err := r1.Netlink().RouteListFiltered(netlink.FAMILY_MPLS, &netlink.Route{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]netlink.Route{}
	for _, r := range routes {
		if r.Protocol != netlink.RouteProtocol(DefaultProtocol) {
			t.Errorf("route %v has protocol %d", r, r.Protocol)
		}
		got[*r.MPLSDst] = r
	}
	if r := got[100]; r.NewDst == nil || r.NewDst.String() != "200/300" || !r.Via.(*netlink.Via).Addr.Equal(net.ParseIP("10.0.0.2")) {
		t.Errorf("label 100: %v", r)
	}
	if r := got[101]; r.NewDst != nil || r.Via == nil {
		t.Errorf("label 101 (PHP): %v", r)
	}
	if r := got[102]; len(r.MultiPath) != 2 {
		t.Errorf("label 102 (ECMP): %v", r)
	}
	if r := got[103]; r.NewDst == nil || r.NewDst.String() != "0" {
		t.Errorf("label 103 (explicit-null): %v", r)
	}
	out := r1.Run("ip", "-f", "mpls", "route", "show")
	t.Logf("ip -f mpls route show:\n%s", out)
	for _, want := range []string{
		"100 as to 200/300 via inet 10.0.0.2 dev " + a + " proto 234",
		"101 via inet 10.0.0.2 dev " + a + " proto 234",
		"102 proto 234 \n\tnexthop as to 401 via inet 10.0.0.2 dev " + a + " \n\tnexthop as to 402 via inet 10.0.1.2 dev " + b,
		"103 as to 0 via inet 10.0.0.2 dev " + a + " proto 234",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("ip -f mpls route show lacks %q", want)
		}
	}

	// A second Apply of the same table changes nothing; a changed one
	// replaces and deletes.
	apply(t, f, tab)
	tab2 := fib.NewTable()
	tab2.LFIB[100] = lfib(100, nh("10.0.0.2", a, 201))
	tab2.LFIB[102] = tab.LFIB[102]
	apply(t, f, tab2)
	out = r1.Run("ip", "-f", "mpls", "route", "show")
	if !strings.Contains(out, "100 as to 201 via") || strings.Contains(out, "101 ") || strings.Contains(out, "103 ") {
		t.Errorf("after the second table:\n%s", out)
	}
}
