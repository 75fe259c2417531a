package netlinkfib

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/lsrd/lsrd/fib"
)

// applyPlan does to have what the kernel does when every request of p
// succeeds, garbage collection included, as reconcile drives it.
func applyPlan(have *kernelState, p *plan) {
	for _, o := range p.nexthopAdd {
		have.nexthops[o.id], have.usedIDs[o.id] = o.hop, true
	}
	for _, o := range p.nexthopReplace {
		have.nexthops[o.id] = o.hop
	}
	for _, g := range p.groupAdd {
		have.groups[g.id], have.usedIDs[g.id] = g.members, true
	}
	for _, g := range p.groupReplace {
		have.groups[g.id] = g.members
	}
	for _, r := range p.routeAdd {
		have.routes[r.prefix] = r.nhid
	}
	for _, r := range p.routeReplace {
		have.routes[r.prefix] = r.nhid
	}
	for _, pfx := range p.routeDelete {
		delete(have.routes, pfx)
	}
	ref := have.referenced()
	for _, id := range p.groupDelete {
		if !ref[id] {
			delete(have.groups, id)
			delete(have.usedIDs, id)
		}
	}
	ref = have.referenced()
	for _, id := range p.nexthopDelete {
		if !ref[id] {
			delete(have.nexthops, id)
			delete(have.usedIDs, id)
		}
	}
}

// Over random sequences of desired tables (LSPs relabelled, lost and back,
// ECMP sets growing and shrinking, prefixes coming and going), one plan
// brings the kernel to the desired state, the next plan is empty, and no
// route points at an object that is gone.
func TestDiffFTNConverges(t *testing.T) {
	gws := []netip.Addr{netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.1.2"), netip.MustParseAddr("10.0.2.2")}
	for seed := range uint64(100) {
		rng := rand.New(rand.NewPCG(seed, 7))
		have := newKernelState()
		// Per gateway, the label of its LSP (0: none, plain IP).
		lsp := make([]int, len(gws))
		for step := range 30 {
			for i := range lsp {
				if rng.IntN(3) == 0 {
					lsp[i] = []int{0, 300, 301, 302}[rng.IntN(4)]
				}
			}
			want := desiredState{ftn: map[netip.Prefix][]hop{}}
			for i := range 40 {
				if rng.IntN(5) == 0 {
					continue
				}
				var hs []hop
				for g := range gws {
					if (i+g)%3 == 0 || (g == i%len(gws)) || rng.IntN(8) == 0 {
						h := hop{gw: gws[g], ifindex: 2 + g}
						if lsp[g] != 0 && i%5 != 0 { // every fifth prefix is the next hop's own (PHP) route
							h.labels = []fib.Label{fib.Label(lsp[g])}
						}
						hs = append(hs, h)
					}
				}
				want.ftn[pfx(i)] = normalizeHops(hs)
			}
			p := diff(want, have, &idAllocator{used: have.usedIDs})
			if len(p.conflicts) > 0 {
				t.Fatalf("seed %d step %d: conflicts %v", seed, step, p.conflicts)
			}
			applyPlan(have, p)
			for pfx, hs := range want.ftn {
				id, ok := have.routes[pfx]
				if !ok {
					t.Fatalf("seed %d step %d: %s has no route", seed, step, pfx)
				}
				var got []hop
				if members, isGroup := have.groups[id]; isGroup {
					for _, m := range members {
						h, ok := have.nexthops[m]
						if !ok {
							t.Fatalf("seed %d step %d: group %d of %s has a member %d that is gone", seed, step, id, pfx, m)
						}
						got = append(got, h)
					}
				} else if h, ok := have.nexthops[id]; ok {
					got = []hop{h}
				} else {
					t.Fatalf("seed %d step %d: %s points at %d, which is gone", seed, step, pfx, id)
				}
				if !slices.EqualFunc(normalizeHops(got), hs, hop.equal) {
					t.Fatalf("seed %d step %d: %s forwards %v, want %v", seed, step, pfx, got, hs)
				}
			}
			if len(have.routes) != len(want.ftn) {
				t.Fatalf("seed %d step %d: %d routes, want %d", seed, step, len(have.routes), len(want.ftn))
			}
			if again := diff(want, have, &idAllocator{used: have.usedIDs}); !again.empty() {
				t.Fatalf("seed %d step %d: a second pass still plans %s", seed, step, fmt.Sprintf("%+v", again))
			}
		}
	}
}
