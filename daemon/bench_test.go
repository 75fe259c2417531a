package daemon

import (
	"fmt"
	"maps"
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
		r, held := rib.New(), map[netip.Prefix]struct{}{}
		f := newForwarding(true, r.Best)
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
		if _, ftn := f.size(); ftn != n+1 || len(held) != 2 {
			b.Fatalf("%d IP routes wanted, %d routes held by LDP", ftn, len(held))
		}
	}
}

// The whole 100,000-route desired table built for the kernel layer (its
// first hand-over, and the control API's view).
func BenchmarkSnapshot100k(b *testing.B) {
	best := map[netip.Prefix]rib.Route{}
	f := newForwarding(true, lookup(best))
	var cs []rib.Change
	for i := range 100_000 {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{20, byte(i >> 16), byte(i >> 8), byte(i)}), 32)
		best[p] = rib.Route{Prefix: p, Source: rib.SourceBGP, NextHops: []rib.NextHop{{Addr: netip.MustParseAddr("10.2.0.2"), Ifname: "eth1"}}}
		cs = append(cs, rib.Change{Prefix: p, Best: best[p]})
	}
	f.routes(cs)
	b.ReportAllocs()
	for b.Loop() {
		f.table()
	}
}

// The LSP label of one next hop changes under 1,000 BGP prefixes, in tables
// of 10,000 to 1,000,000 (the rest over 49 other next hops): the parent's
// work, which follows the prefixes behind the next hop (update: the LDP
// delta applied, the FTN entries recomputed, the delta for the kernel
// layer built), and, for reference, the copy of the whole table it handed
// on after each change before (snapshot), which follows the table.
func BenchmarkLabelChangeParent(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		best := map[netip.Prefix]rib.Route{}
		f := newForwarding(true, lookup(best))
		ldp := fib.NewTable()
		var nhs []netip.Addr
		for i := range 50 {
			a := netip.AddrFrom4([4]byte{4, 4, 4, byte(i)})
			nhs = append(nhs, a)
			p := netip.PrefixFrom(a, 32)
			ldp.FTN[p] = fib.FTNEntry{Prefix: p, NextHops: []fib.NextHop{{Addr: netip.MustParseAddr("10.2.0.2"), Ifname: "eth1", Labels: []fib.Label{fib.Label(1000 + i)}}}}
		}
		f.setLDP(ldp)
		cs := make([]rib.Change, n)
		for i := range n {
			a := 20<<24 + uint32(i)<<8
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), 0}), 24)
			nh := nhs[1+i%49]
			if i < 1000 {
				nh = nhs[0]
			}
			cs[i] = rib.Change{Prefix: p, Best: rib.Route{Prefix: p, Source: rib.SourceBGP, Distance: rib.DistanceIBGP,
				NextHops: []rib.NextHop{{Addr: netip.MustParseAddr("10.2.0.2"), Ifname: "eth1"}}, Recursive: []netip.Addr{nh}}}
		}
		maps.Copy(best, bestOf(cs))
		f.routes(cs)
		f.takeDelta()
		lsp := netip.PrefixFrom(nhs[0], 32)
		b.Run(fmt.Sprintf("table=%d/update", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				e := fib.FTNEntry{Prefix: lsp, NextHops: []fib.NextHop{{Addr: netip.MustParseAddr("10.2.0.2"), Ifname: "eth1", Labels: []fib.Label{fib.Label(2000 + i%2)}}}}
				f.applyLDP(&fib.Delta{FTN: map[netip.Prefix]*fib.FTNEntry{lsp: &e}})
				if d, _ := f.takeDelta(); len(d.FTN) != 0 || len(d.Rides[nhs[0]].Prefixes) != 1000 {
					b.Fatalf("%d prefixes in the delta, %d riding: want the 1,000 behind the LSP riding it", len(d.FTN), d.Len())
				}
			}
		})
		b.Run(fmt.Sprintf("table=%d/snapshot", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f.table()
			}
		})
	}
}
