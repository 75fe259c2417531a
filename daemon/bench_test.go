package daemon

import (
	"net/netip"
	"testing"

	"github.com/lsrd/lsrd/config"
	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/rib"
)

// The parent's work for 100,000 BGP routes over one next hop behind an LSP,
// arriving in batches of 1,000: RIB, LDP filter and desired forwarding (the
// snapshots for the kernel layer are spaced by their cost: see
// BenchmarkSnapshot100k).
func BenchmarkBGPBatches100k(b *testing.B) {
	const n = 100_000
	lsp := netip.MustParsePrefix("4.4.4.4/32")
	routes := make([]rib.Route, n)
	for i := range routes {
		a := 20<<24 + uint32(i)<<8
		routes[i] = rib.Route{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), 0}), 24),
			Source: rib.SourceBGP, Distance: rib.DistanceIBGP, NextHops: []rib.NextHop{{Addr: lsp.Addr()}}}
	}
	alloc, _ := allocatePolicy(config.Labels{Allocate: "host-routes"})
	ldp := fib.NewTable()
	ldp.FTN[lsp] = fib.FTNEntry{Prefix: lsp, NextHops: []fib.NextHop{{Addr: netip.MustParseAddr("10.2.0.2"), Ifname: "eth1", Labels: []fib.Label{1000}}}}
	b.ReportAllocs()
	for b.Loop() {
		r, f, held := rib.New(), newForwarding(true), map[netip.Prefix]struct{}{}
		f.setLDP(ldp)
		step := func(cs []rib.Change) {
			f.routes(cs)
			ldpRoutes(cs, alloc, held)
		}
		step(r.Update(rib.Route{Prefix: netip.MustParsePrefix("10.2.0.0/30"), Source: rib.SourceConnected, NextHops: []rib.NextHop{{Ifname: "eth1"}}}))
		step(r.Update(rib.Route{Prefix: lsp, Source: rib.SourceStatic, Distance: rib.DistanceStatic, NextHops: []rib.NextHop{{Addr: netip.MustParseAddr("10.2.0.2")}}}))
		for i := 0; i < n; i += 1000 {
			step(r.Apply(rib.SourceBGP, routes[i:i+1000], nil))
		}
		if len(f.ftn) != n+1 || len(held) != 2 {
			b.Fatalf("%d IP routes wanted, %d routes held by LDP", len(f.ftn), len(held))
		}
	}
}

// One snapshot of a 100,000-route desired table for the kernel layer.
func BenchmarkSnapshot100k(b *testing.B) {
	f := newForwarding(true)
	for i := range 100_000 {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{20, byte(i >> 16), byte(i >> 8), byte(i)}), 32)
		f.ftn[p] = fib.FTNEntry{Prefix: p}
	}
	b.ReportAllocs()
	for b.Loop() {
		f.table()
	}
}
