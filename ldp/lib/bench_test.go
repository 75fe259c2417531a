package lib

import (
	"net/netip"
	"testing"
	"time"

	"github.com/lsrd/lsrd/ldp/wire"
	"github.com/lsrd/lsrd/rib"
)

const benchFECs = 10000

// benchInputs are 10,000 /24 routes over E and F (ECMP) and each peer's
// mapping for every one of them.
func benchInputs() ([]rib.Route, []*wire.LabelMapping) {
	routes := make([]rib.Route, benchFECs)
	maps := make([]*wire.LabelMapping, benchFECs)
	for i := range benchFECs {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24)
		routes[i] = rib.Route{Prefix: p, Source: rib.SourceBGP, NextHops: []rib.NextHop{
			{Addr: addrE, Ifname: "eth1"}, {Addr: addrF, Ifname: "eth2"}}}
		maps[i] = &wire.LabelMapping{FEC: wire.FEC{wire.PrefixFEC{Prefix: p}}, Label: uint32(1000 + i)}
	}
	return routes, maps
}

func benchLIB(b testing.TB) *LIB {
	l := newLIB(b, Config{LabelMin: 16, LabelMax: 1<<20 - 1})
	for _, p := range []struct{ id, a netip.Addr }{{peerE, addrE}, {peerF, addrF}} {
		l.NeighborUp(p.id)
		l.NeighborAddresses(p.id, []netip.Addr{p.a})
	}
	return l
}

// BenchmarkLearn measures learning 10,000 FECs: a route each and a mapping
// from each of two peers (30,000 inputs, 20,000 mappings sent per op).
func BenchmarkLearn(b *testing.B) {
	routes, maps := benchInputs()
	b.ReportAllocs()
	for b.Loop() {
		l := benchLIB(b)
		for _, r := range routes {
			l.RouteUpdate(r)
		}
		for _, m := range maps {
			l.LabelMessage(peerE, m)
			l.LabelMessage(peerF, m)
		}
		if n := len(l.lfib); n != benchFECs {
			b.Fatalf("%d LFIB entries", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*3*benchFECs), "ns/input")
}

// learnedLIB is benchLIB with every benchInputs route and mapping learned.
func learnedLIB(b testing.TB) *LIB {
	routes, maps := benchInputs()
	l := benchLIB(b)
	for i, r := range routes {
		l.RouteUpdate(r)
		l.LabelMessage(peerE, maps[i])
		l.LabelMessage(peerF, maps[i])
	}
	return l
}

// BenchmarkTable measures copying the desired table of 10,000 FECs.
func BenchmarkTable(b *testing.B) {
	l := learnedLIB(b)
	b.ReportAllocs()
	for b.Loop() {
		if t := l.Table(); len(t.LFIB) != benchFECs || len(t.FTN) != benchFECs {
			b.Fatalf("table %d/%d", len(t.LFIB), len(t.FTN))
		}
	}
}

// BenchmarkNeighborDown measures the end of a session whose peer left
// 50,000 mappings for FECs without a route (the default bound on them)
// beside 10,000 routed FECs with labels from two peers: the whole release
// (NeighborDown, then Drain until done) per op, and its longest step, the
// most the engine's other work waits.
func BenchmarkNeighborDown(b *testing.B) {
	const held = 50000
	var longest time.Duration
	steps := 0
	for b.Loop() {
		b.StopTimer()
		l := learnedLIB(b)
		for i := range held {
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{20, byte(i >> 16), byte(i >> 8), byte(i)}), 32)
			l.LabelMessage(peerE, &wire.LabelMapping{FEC: wire.FEC{wire.PrefixFEC{Prefix: p}}, Label: uint32(20000 + i)})
		}
		b.StartTimer()
		t0 := time.Now()
		l.NeighborDown(peerE)
		for {
			longest = max(longest, time.Since(t0))
			steps++
			if !l.Draining() {
				break
			}
			t0 = time.Now()
			l.Drain()
		}
	}
	b.ReportMetric(float64(longest.Microseconds())/1000, "ms/longest-step")
	b.ReportMetric(float64(steps)/float64(b.N), "steps/op")
}
