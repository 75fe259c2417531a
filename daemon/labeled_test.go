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
