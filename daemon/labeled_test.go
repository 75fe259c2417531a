package daemon

import (
	"net/netip"
	"testing"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/rib"
)

// A labelled-unicast route pushes its BGP label under the LSP's label, or
// alone to a directly connected BGP next hop, and falls back to plain IP when
// neither holds.
func TestLabeledUnicastForwarding(t *testing.T) {
	pfx, addr := netip.MustParsePrefix, netip.MustParseAddr
	lsp := fib.FTNEntry{Prefix: pfx("3.3.3.3/32"), NextHops: []fib.NextHop{{Addr: addr("10.1.0.2"), Ifname: "zt0", Labels: []fib.Label{17}}}}
	ldp := fib.NewTable()
	ldp.FTN[lsp.Prefix] = lsp
	remote := rib.Route{Prefix: pfx("198.51.100.0/24"), Source: rib.SourceBGP, Distance: rib.DistanceIBGP,
		NextHops: []rib.NextHop{{Addr: addr("10.1.0.2"), Ifname: "zt0"}}, Recursive: []netip.Addr{addr("3.3.3.3")}, Labels: []uint32{5000}}
	direct := rib.Route{Prefix: pfx("203.0.113.0/24"), Source: rib.SourceBGP, Distance: rib.DistanceEBGP,
		NextHops: []rib.NextHop{{Addr: addr("10.9.0.2"), Ifname: "eth1"}}, Recursive: []netip.Addr{addr("10.9.0.2")}, Labels: []uint32{6000}}
	nh := func(a, ifname string, ls ...fib.Label) fib.NextHop {
		return fib.NextHop{Addr: addr(a), Ifname: ifname, Labels: ls}
	}
	tests := []struct {
		name  string
		ldp   *fib.Table
		route rib.Route
		want  []fib.NextHop
	}{
		{"over the LSP", ldp, remote, []fib.NextHop{nh("10.1.0.2", "zt0", 17, 5000)}},
		{"LSP gone: plain IP", fib.NewTable(), remote, []fib.NextHop{nh("10.1.0.2", "zt0")}},
		{"direct neighbour", fib.NewTable(), direct, []fib.NextHop{nh("10.9.0.2", "eth1", 6000)}},
	}
	for _, tt := range tests {
		got := desiredForwarding(tt.ldp, []rib.Route{tt.route}, true).FTN[tt.route.Prefix]
		want := fib.FTNEntry{Prefix: tt.route.Prefix, NextHops: tt.want}
		if !got.Equal(want) {
			t.Errorf("%s: %v, want %v", tt.name, got, want)
		}
	}
	// The LDP table is not changed by the push.
	if !ldp.FTN[lsp.Prefix].Equal(lsp) {
		t.Errorf("LDP's LSP changed: %v", ldp.FTN[lsp.Prefix])
	}
}

// 6PE (RFC 4798): an IPv6 BGP route whose next hop is an IPv4 loopback
// pushes the LSP's label and, under it, the IPv6 explicit null, through the
// mapped IPv4 gateway; the explicit null alone when the LSP's next hop pops
// (implicit null); nothing without an LSP (an IPv4 core does not forward
// IPv6); and the prefixes behind one LSP share one next-hop slice.
func TestSixPEForwarding(t *testing.T) {
	pfx, addr := netip.MustParsePrefix, netip.MustParseAddr
	ldp := fib.NewTable()
	for _, e := range []fib.FTNEntry{
		{Prefix: pfx("3.3.3.3/32"), NextHops: []fib.NextHop{{Addr: addr("10.1.0.2"), Ifname: "zt0", Labels: []fib.Label{17}}}},
		{Prefix: pfx("2.2.2.2/32"), NextHops: []fib.NextHop{{Addr: addr("10.1.0.2"), Ifname: "zt0", Labels: []fib.Label{fib.LabelImplicitNull}}}},
	} {
		ldp.FTN[e.Prefix] = e
	}
	route := func(p, nh string) rib.Route {
		return rib.Route{Prefix: pfx(p), Source: rib.SourceBGP, Distance: rib.DistanceIBGP,
			NextHops: []rib.NextHop{{Addr: addr("10.1.0.2"), Ifname: "zt0"}}, Recursive: []netip.Addr{addr(nh)}}
	}
	mapped := addr("::ffff:10.1.0.2")
	for _, tt := range []struct {
		name  string
		route rib.Route
		want  []fib.NextHop // nil: no route
	}{
		{"over a labelled LSP", route("2001:db8:100::/48", "3.3.3.3"), []fib.NextHop{{Addr: mapped, Ifname: "zt0", Labels: []fib.Label{17, fib.LabelIPv6ExplicitNull}}}},
		{"over a popping LSP", route("2001:db8:200::/48", "2.2.2.2"), []fib.NextHop{{Addr: mapped, Ifname: "zt0", Labels: []fib.Label{fib.LabelIPv6ExplicitNull}}}},
		{"no LSP", route("2001:db8:300::/48", "4.4.4.4"), nil},
		{"IPv4 route, unchanged", route("198.51.100.0/24", "3.3.3.3"), []fib.NextHop{{Addr: addr("10.1.0.2"), Ifname: "zt0", Labels: []fib.Label{17}}}},
	} {
		got, ok := desiredForwarding(ldp, []rib.Route{tt.route}, true).FTN[tt.route.Prefix]
		if tt.want == nil {
			if ok {
				t.Errorf("%s: %v, want no route", tt.name, got)
			}
			continue
		}
		if want := (fib.FTNEntry{Prefix: tt.route.Prefix, NextHops: tt.want}); !got.Equal(want) {
			t.Errorf("%s: %v, want %v", tt.name, got, want)
		}
	}
	// Sharing, through the forwarding's interner.
	best := map[netip.Prefix]rib.Route{}
	f := newForwarding(true, lookup(best))
	f.setLDP(ldp)
	var cs []rib.Change
	for i := range 3 {
		r := route(netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(i)}), 48).String(), "3.3.3.3")
		best[r.Prefix] = r
		cs = append(cs, rib.Change{Prefix: r.Prefix, Best: r})
	}
	f.routes(cs)
	first, _ := f.entry(cs[0].Prefix)
	for _, c := range cs[1:] {
		if e, _ := f.entry(c.Prefix); len(e.NextHops) != 1 || &e.NextHops[0] != &first.NextHops[0] {
			t.Errorf("%s holds its own 6PE next hops, not the shared slice", c.Prefix)
		}
	}
}
