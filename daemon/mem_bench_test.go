package daemon

import (
	"net/netip"
	"runtime"
	"testing"

	"github.com/lsrd/lsrd/config"
	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/internal/heap"
	"github.com/lsrd/lsrd/rib"
)

// The parent's memory per BGP prefix, layer by layer, for 100,000 /24s
// over 10 next hops behind LSPs: the RIB (best routes and their
// histories), the desired forwarding (lsrd's routes, the next-hop index,
// the FTN) and the whole table handed to the kernel layer once. Reported
// as B/prefix per layer (the figures for docs/DESIGN.md).
func BenchmarkBytesPerPrefix(b *testing.B) {
	const n = 100_000
	alloc, _ := allocatePolicy(config.Labels{Allocate: "host-routes"})
	for b.Loop() {
		ldp := fib.NewTable()
		base := []rib.Route{{Prefix: netip.MustParsePrefix("10.2.0.0/30"), Source: rib.SourceConnected, NextHops: []rib.NextHop{{Ifname: "eth1"}}}}
		var nhs []netip.Addr
		for i := range 10 {
			a := netip.AddrFrom4([4]byte{4, 4, 4, byte(i + 1)})
			nhs = append(nhs, a)
			p := netip.PrefixFrom(a, 32)
			base = append(base, rib.Route{Prefix: p, Source: rib.SourceStatic, Distance: rib.DistanceStatic, NextHops: []rib.NextHop{{Addr: netip.MustParseAddr("10.2.0.2")}}})
			ldp.FTN[p] = fib.FTNEntry{Prefix: p, NextHops: []fib.NextHop{{Addr: netip.MustParseAddr("10.2.0.2"), Ifname: "eth1", Labels: []fib.Label{fib.Label(1000 + i)}}}}
		}
		routes := make([]rib.Route, n)
		for i := range routes {
			a := 20<<24 + uint32(i)<<8
			routes[i] = rib.Route{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), 0}), 24),
				Source: rib.SourceBGP, Distance: rib.DistanceIBGP, NextHops: []rib.NextHop{{Addr: nhs[i%10]}}}
		}
		h0 := heap.Live()
		r, held := rib.New(), map[netip.Prefix]struct{}{}
		var cs []rib.Change
		for _, rt := range base {
			cs = append(cs, r.Update(rt)...)
		}
		for i := 0; i < n; i += 1000 {
			cs = append(cs, r.Apply(rib.SourceBGP, routes[i:i+1000], nil)...)
		}
		ldpRoutes(cs, alloc, held)
		routes = nil // what GoBGP hands over is not kept
		h1 := heap.Live()
		f := newForwarding(true, r.Best)
		f.setLDP(ldp)
		f.routes(cs)
		h2 := heap.Live()
		// The changes the RIB returned are not kept either: what they
		// held is counted out of the RIB's figure. (Live until here: the
		// collector frees a variable after its last use.)
		runtime.KeepAlive(cs)
		h3 := heap.Live()
		t := f.table()
		h4 := heap.Live()
		if len(t.FTN) != n+len(nhs) { // the statics to the next hops too
			b.Fatalf("%d FTN entries, want %d", len(t.FTN), n+len(nhs))
		}
		b.ReportMetric(float64(h1-h0-(h2-h3))/n, "B/prefix-rib")
		b.ReportMetric(float64(h2-h1)/n, "B/prefix-forwarding")
		b.ReportMetric(float64(h4-h3)/n, "B/prefix-handed-table")
		runtime.KeepAlive(r)
		runtime.KeepAlive(f)
		runtime.KeepAlive(t)
	}
}
