package netlinkfib

import (
	"fmt"
	"net/netip"
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
// 10,000 to 1,000,000: a full pass's resolve and diff (the reference) and a
// scoped pass's, which the daemon's producer makes possible by naming the
// 1,000 prefixes. Both end in the same single request (a relabel in place).
func BenchmarkLabelChange(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		tabs := [2]*fib.Table{}
		var sc *scope
		tabs[0], sc = labelChangeTable(n, 1000)
		tabs[1], _ = labelChangeTable(n, 1001)
		for _, kind := range []string{"full", "scoped"} {
			b.Run(fmt.Sprintf("table=%d/pass=%s", n, kind), func(b *testing.B) {
				have := newKernelState()
				want, _ := resolve(tabs[0], benchLinks, true)
				applyPlan(have, diff(want, have, &idAllocator{used: have.usedIDs}, nil))
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					i++
					t := tabs[i%2]
					var p *plan
					if kind == "full" {
						want, _ = resolve(t, benchLinks, true)
						p = diff(want, have, &idAllocator{used: have.usedIDs}, nil)
					} else {
						resolveScoped(&want, nil, t, sc, benchLinks, true)
						p = diffScoped(want, have, &idAllocator{used: have.usedIDs}, sc)
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
