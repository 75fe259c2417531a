package rib

import (
	"fmt"
	"net/netip"
	"testing"
)

// bgpTable is n distinct BGP /24s spread over the loopbacks 3.3.3.1 .. 3.3.3.<nhs>,
// each reached by a static /32 over a connected subnet (two levels of
// recursion, as in a BGP-free core).
func bgpTable(n, nhs int) (base []Route, bgp []Route) {
	base = append(base, Route{Prefix: netip.MustParsePrefix("10.1.0.0/24"), Source: SourceConnected,
		NextHops: []NextHop{{Ifname: "zt0"}}})
	for i := range nhs {
		base = append(base, Route{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{3, 3, 3, byte(i + 1)}), 32),
			Source: SourceStatic, Distance: DistanceStatic, NextHops: []NextHop{{Addr: netip.MustParseAddr("10.1.0.2")}}})
	}
	for i := range n {
		a := 20<<24 + uint32(i)<<8 // 20.0.0.0/24, 20.0.1.0/24, ...
		bgp = append(bgp, Route{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), 0}), 24),
			Source: SourceBGP, Distance: DistanceIBGP,
			NextHops: []NextHop{{Addr: netip.AddrFrom4([4]byte{3, 3, 3, byte(i%nhs + 1)})}}})
	}
	return base, bgp
}

func loadBase(b *testing.B, base []Route) *RIB {
	r := New()
	for _, rt := range base {
		r.Update(rt)
	}
	return r
}

// 100,000 BGP routes over 10 next hops arrive in batches of 1,000 (how the
// BGP speaker hands them over), into a RIB that already resolves the next
// hops.
func BenchmarkApplyBGP100k(b *testing.B) {
	base, routes := bgpTable(100_000, 10)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		r := loadBase(b, base)
		b.StartTimer()
		published := 0
		for i := 0; i < len(routes); i += 1000 {
			published += len(r.Apply(SourceBGP, routes[i:min(i+1000, len(routes))], nil))
		}
		if published != len(routes) {
			b.Fatalf("%d routes published, want %d", published, len(routes))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100_000, "ns/route")
}

// The route to one next hop changes under 10,000 dependents (100,000 over
// 10 next hops), then changes back: each change republishes its 10,000.
func BenchmarkNextHopChange(b *testing.B) {
	benchNextHopChange(b, 100_000, 10)
}

// The route to the only next hop of 100,000 BGP routes changes.
func BenchmarkNextHopChangeAll100k(b *testing.B) {
	benchNextHopChange(b, 100_000, 1)
}

func benchNextHopChange(b *testing.B, n, nhs int) {
	base, routes := bgpTable(n, nhs)
	r := loadBase(b, base)
	r.Apply(SourceBGP, routes, nil)
	nh := base[1]
	moved := nh
	moved.NextHops = []NextHop{{Addr: netip.MustParseAddr("10.1.0.3")}}
	b.ReportAllocs()
	for b.Loop() {
		for _, rt := range []Route{moved, nh} {
			if got := len(r.Update(rt)); got != n/nhs+1 {
				b.Fatalf("%d changes, want %d", got, n/nhs+1)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/2, "ns/change")
}

// A kernel resync that finds nothing new under 100,000 BGP routes.
func BenchmarkReplaceSourceUnchanged(b *testing.B) {
	base, routes := bgpTable(100_000, 10)
	r := loadBase(b, nil)
	r.Apply(SourceBGP, routes, nil)
	var kernel []Route
	for i := range 50 {
		kernel = append(kernel, Route{Prefix: netip.MustParsePrefix(fmt.Sprintf("192.0.2.%d/32", i)), Source: SourceKernel,
			NextHops: []NextHop{{Addr: netip.MustParseAddr("10.1.0.2"), Ifname: "zt0"}}})
	}
	r.ReplaceSource(SourceConnected, base[:1])
	r.ReplaceSource(SourceKernel, kernel)
	b.ReportAllocs()
	for b.Loop() {
		if cs := r.ReplaceSource(SourceKernel, kernel); len(cs) != 0 {
			b.Fatalf("%d changes", len(cs))
		}
	}
}

// 100,000 BGP routes withdrawn in batches of 1,000.
func BenchmarkWithdrawBGP100k(b *testing.B) {
	base, routes := bgpTable(100_000, 10)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		r := loadBase(b, base)
		r.Apply(SourceBGP, routes, nil)
		b.StartTimer()
		withdrawn := 0
		for i := 0; i < len(routes); i += 1000 {
			var dels []netip.Prefix
			for _, rt := range routes[i:min(i+1000, len(routes))] {
				dels = append(dels, rt.Prefix)
			}
			withdrawn += len(r.Apply(SourceBGP, nil, dels))
		}
		if withdrawn != len(routes) {
			b.Fatalf("%d withdrawn, want %d", withdrawn, len(routes))
		}
	}
}
