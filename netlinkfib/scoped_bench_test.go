package netlinkfib

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"testing"

	"github.com/lsrd/lsrd/fib"
)

// labelChangeTables is a table of n prefixes: 1,000 behind the LSP of
// 10.2.0.2 (label l), the rest spread over 49 other next hops; and the
// change that names those 1,000.
func labelChangeTable(n int, l fib.Label) (*fib.Table, *scope) {
	t := fib.NewTable()
	c := &scope{prefixes: map[netip.Prefix]struct{}{}}
	hops := make([][]fib.NextHop, 50)
	hops[0] = []fib.NextHop{{Addr: netip.MustParseAddr("10.2.0.2"), Ifname: "eth1", Labels: []fib.Label{l}}}
	for i := 1; i < 50; i++ {
		hops[i] = []fib.NextHop{{Addr: netip.AddrFrom4([4]byte{10, 3, byte(i), 2}), Ifname: "eth1", Labels: []fib.Label{fib.Label(5000 + i)}}}
	}
	for i := range n {
		a := 20<<24 + uint32(i)<<8
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), 0}), 24)
		h := hops[1+i%49]
		if i < 1000 {
			h = hops[0]
			c.prefixes[p] = struct{}{}
		}
		t.FTN[p] = fib.FTNEntry{Prefix: p, NextHops: h}
	}
	return t, c
}

// The LSP label of one next hop changes under 1,000 prefixes, in tables of
// 10,000 to 1,000,000: a full pass's resolve and diff (the reference), a
// scoped pass's when the producer names the 1,000 prefixes, and one when it
// hands on a fib.Ride instead (the daemon's way since), applied to the
// table as well. All end in the same single request (a relabel in place).
func BenchmarkLabelChange(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		tabs := [2]*fib.Table{}
		var sc *scope
		tabs[0], sc = labelChangeTable(n, 1000)
		tabs[1], _ = labelChangeTable(n, 1001)
		riders := slices.Collect(maps.Keys(sc.prefixes))
		lsp := netip.MustParseAddr("4.4.4.4")
		lspHops := [2][]fib.NextHop{tabs[0].FTN[riders[0]].NextHops, tabs[1].FTN[riders[0]].NextHops}
		for _, kind := range []string{"full", "scoped", "ride"} {
			b.Run(fmt.Sprintf("table=%d/pass=%s", n, kind), func(b *testing.B) {
				own := &fib.Table{FTN: maps.Clone(tabs[0].FTN)}
				have := newKernelState()
				want, _ := resolve(tabs[0], benchLinks, true)
				applyPlan(have, diff(want, have, &idAllocator{used: have.usedIDs}, nil))
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					i++
					t := tabs[i%2]
					var p *plan
					switch kind {
					case "full":
						want, _ = resolve(t, benchLinks, true)
						p = diff(want, have, &idAllocator{used: have.usedIDs}, nil)
					case "scoped":
						resolveScoped(&want, nil, t, sc, benchLinks, true)
						p = diffScoped(want, have, &idAllocator{used: have.usedIDs}, sc)
					default:
						// The ride amends a copy of the first table,
						// which stands for the kernel layer's own.
						d := &fib.Delta{Rides: map[netip.Addr]*fib.Ride{lsp: {NextHops: lspHops[i%2], Prefixes: riders}}}
						own.Apply(d)
						var moved int
						p, _, moved, _ = planScoped(&want, nil, have, own, deltaScope(d), benchLinks, true, &idAllocator{used: have.usedIDs})
						if moved != 1 {
							b.Fatalf("%d rides in place, want 1", moved)
						}
					}
					if cs := changes(p); len(cs) != 1 {
						b.Fatalf("%d requests, want 1", len(cs))
					}
					applyPlan(have, p)
				}
			})
		}
	}
}
