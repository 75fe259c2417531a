package lib

import (
	"net/netip"
	"testing"

	"github.com/lsrd/lsrd/internal/heap"
	"github.com/lsrd/lsrd/ldp/fec"
	"github.com/lsrd/lsrd/rib"
)

// TestRouteSetCounts checks that FECs share one route per set of next
// hops, that a set goes with its last FEC, and that the held route's
// addresses are unmapped.
func TestRouteSetCounts(t *testing.T) {
	l := newLIB(t, Config{})
	viaE := []rib.NextHop{via(addrE, "eth1")}
	viaEF := []rib.NextHop{via(addrE, "eth1"), via(addrF, "eth2")}
	mapped := []rib.NextHop{via(netip.AddrFrom16(addrF.As16()), "eth2")}
	p := func(i int) netip.Prefix {
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24)
	}
	for i := range 1000 {
		l.RouteUpdate(rib.Route{Prefix: p(i), Source: rib.SourceStatic, NextHops: viaE})
	}
	if n := l.routes.len(); n != 1 {
		t.Fatalf("1,000 FECs over one next hop hold %d routes, want 1", n)
	}
	for i := range 500 {
		l.RouteUpdate(rib.Route{Prefix: p(i), Source: rib.SourceStatic, NextHops: viaEF})
	}
	if n := l.routes.len(); n != 2 {
		t.Fatalf("%d routes after half moved to ECMP, want 2", n)
	}
	for i := 500; i < 1000; i++ {
		l.RouteUpdate(rib.Route{Prefix: p(i), Source: rib.SourceStatic, NextHops: mapped})
	}
	if n := l.routes.len(); n != 2 {
		t.Fatalf("%d routes once no FEC is over E alone, want 2", n)
	}
	if got := l.fecs[fec.Prefix(p(999))].route.NextHops[0].Addr; got != addrF {
		t.Errorf("held next hop %s, want %s unmapped", got, addrF)
	}
	if got := l.fecs[fec.Prefix(p(0))].route; got != l.fecs[fec.Prefix(p(499))].route {
		t.Error("two FECs over the same next hops hold two routes")
	}
	for i := range 1000 {
		l.RouteDelete(p(i))
	}
	if n := l.routes.len(); n != 0 {
		t.Errorf("%d routes left after every FEC lost its route, want 0", n)
	}
}

// BenchmarkBytesPerFEC states the live heap the LIB keeps per FEC: 10,000
// /24s over two next hops, each with a mapping from both peers and a local
// label (BenchmarkLearn's inputs).
func BenchmarkBytesPerFEC(b *testing.B) {
	for b.Loop() {
		before := heap.Live()
		l := learnedLIB(b)
		l.TakeDelta()
		b.ReportMetric(float64(heap.Live()-before)/benchFECs, "B/FEC")
		if len(l.lfib) != benchFECs {
			b.Fatalf("%d LFIB entries", len(l.lfib))
		}
	}
}
