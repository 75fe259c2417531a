package daemon

import (
	"net/netip"
	"testing"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/rib"
)

func TestDesiredForwarding(t *testing.T) {
	pfx, addr := netip.MustParsePrefix, netip.MustParseAddr
	ldp := fib.NewTable()
	ldp.LFIB[16] = fib.LFIBEntry{InLabel: 16, NextHops: []fib.NextHop{{Addr: addr("10.0.0.2"), Ifname: "zt0"}}}
	labelled := fib.FTNEntry{Prefix: pfx("3.3.3.3/32"), NextHops: []fib.NextHop{{Addr: addr("10.0.0.2"), Ifname: "zt0", Labels: []fib.Label{17}}}}
	ldp.FTN[labelled.Prefix] = labelled
	foreign := fib.FTNEntry{Prefix: pfx("4.4.4.4/32"), NextHops: []fib.NextHop{{Addr: addr("10.0.0.2"), Ifname: "zt0", Labels: []fib.Label{18}}}}
	ldp.FTN[foreign.Prefix] = foreign
	best := []rib.Route{
		{Prefix: pfx("3.3.3.3/32"), Source: rib.SourceStatic, NextHops: []rib.NextHop{{Addr: addr("10.0.0.2"), Ifname: "zt0"}}},
		{Prefix: pfx("4.4.4.4/32"), Source: rib.SourceKernel, NextHops: []rib.NextHop{{Addr: addr("10.0.0.2"), Ifname: "zt0"}}},
		{Prefix: pfx("5.5.5.0/24"), Source: rib.SourceStatic, NextHops: []rib.NextHop{{Addr: addr("10.0.0.6"), Ifname: "eth1"}}},
		{Prefix: pfx("10.0.0.0/24"), Source: rib.SourceConnected, NextHops: []rib.NextHop{{Ifname: "zt0"}}},
	}
	got := desiredForwarding(ldp, best)
	if len(got.LFIB) != 1 || !got.LFIB[16].Equal(ldp.LFIB[16]) {
		t.Errorf("LFIB %v, want LDP's as is", got.LFIB)
	}
	if e := got.FTN[labelled.Prefix]; !e.Equal(labelled) {
		t.Errorf("static route with an LSP: %v, want %v", e, labelled)
	}
	if _, ok := got.FTN[foreign.Prefix]; ok {
		t.Errorf("a kernel route owned by someone else got lsrd's push")
	}
	want := fib.FTNEntry{Prefix: pfx("5.5.5.0/24"), NextHops: []fib.NextHop{{Addr: addr("10.0.0.6"), Ifname: "eth1"}}}
	if e := got.FTN[want.Prefix]; !e.Equal(want) {
		t.Errorf("static route without an LSP: %v, want %v unlabelled", e, want)
	}
	if len(got.FTN) != 2 {
		t.Errorf("FTN has %d entries, want 2: %v", len(got.FTN), got.FTN)
	}
}

// A BGP route whose next hop is a remote loopback follows the LSP to that
// loopback, and falls back to plain IP when the LSP goes.
func TestBGPRouteOverLSP(t *testing.T) {
	pfx, addr := netip.MustParsePrefix, netip.MustParseAddr
	lsp := fib.FTNEntry{Prefix: pfx("3.3.3.3/32"), NextHops: []fib.NextHop{{Addr: addr("10.1.0.2"), Ifname: "zt0", Labels: []fib.Label{17}}}}
	ldp := fib.NewTable()
	ldp.FTN[lsp.Prefix] = lsp
	route := rib.Route{Prefix: pfx("198.51.100.0/24"), Source: rib.SourceBGP, Distance: rib.DistanceEBGP,
		NextHops: []rib.NextHop{{Addr: addr("10.1.0.2"), Ifname: "zt0"}}, Recursive: []netip.Addr{addr("3.3.3.3")}}
	got := desiredForwarding(ldp, []rib.Route{route}).FTN[route.Prefix]
	want := fib.FTNEntry{Prefix: route.Prefix, NextHops: lsp.NextHops}
	if !got.Equal(want) {
		t.Errorf("BGP route with an LSP to its next hop: %v, want %v", got, want)
	}
	got = desiredForwarding(fib.NewTable(), []rib.Route{route}).FTN[route.Prefix]
	want = fib.FTNEntry{Prefix: route.Prefix, NextHops: []fib.NextHop{{Addr: addr("10.1.0.2"), Ifname: "zt0"}}}
	if !got.Equal(want) {
		t.Errorf("without the LSP: %v, want plain IP %v", got, want)
	}
}
