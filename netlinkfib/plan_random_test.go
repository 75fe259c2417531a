package netlinkfib

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/internal/hostonly"
)

// applyPlan does to have what the kernel does when every request of p
// succeeds, garbage collection included, as reconcile drives it.
func applyPlan(have *kernelState, p *plan) {
	f := &FIB{have: have}
	for _, c := range changes(p) {
		f.done(p, c)
	}
	for _, id := range p.groupDelete {
		if !have.referenced(id) {
			have.deleteObject(id)
		}
	}
	for _, id := range p.nexthopDelete {
		if !have.referenced(id) {
			have.deleteObject(id)
		}
	}
}

// Over random sequences of desired tables (LSPs relabelled, lost and back,
// ECMP sets growing and shrinking, prefixes coming and going), one plan
// brings the kernel to the desired state, the next plan is empty, and no
// route points at an object that is gone.
func TestDiffFTNConverges(t *testing.T) {
	hostonly.Skip(t)
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
			p := diff(want, have, &idAllocator{used: have.usedIDs}, nil)
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
			if again := diff(want, have, &idAllocator{used: have.usedIDs}, nil); !again.empty() {
				t.Fatalf("seed %d step %d: a second pass still plans %s", seed, step, fmt.Sprintf("%+v", again))
			}
		}
	}
}

// walkReferenced returns the objects that routes and groups use, found by
// walking them all, and fails t if the state's own use counts disagree.
func walkReferenced(t *testing.T, have *kernelState) map[uint32]bool {
	t.Helper()
	count := map[uint32]int{}
	for _, id := range have.routes {
		count[id]++
	}
	for _, members := range have.groups {
		for _, m := range members {
			count[m]++
		}
	}
	if !maps.Equal(count, have.users) {
		t.Fatalf("use counts %v, walking the routes and groups gives %v", have.users, count)
	}
	ref := map[uint32]bool{}
	for id := range count {
		ref[id] = true
	}
	return ref
}

// forwarding is what have makes pfx do: the hops of its object, or of its
// group's members, sorted; an error when it has no route or points at an
// object that is gone.
func forwarding(have *kernelState, pfx netip.Prefix) ([]hop, error) {
	id, ok := have.routes[pfx]
	if !ok {
		return nil, fmt.Errorf("%s has no route", pfx)
	}
	if members, isGroup := have.groups[id]; isGroup {
		var got []hop
		for _, m := range members {
			h, ok := have.nexthops[m]
			if !ok {
				return nil, fmt.Errorf("group %d of %s has a member %d that is gone", id, pfx, m)
			}
			got = append(got, h)
		}
		return normalizeHops(got), nil
	}
	if h, ok := have.nexthops[id]; ok {
		return []hop{h}, nil
	}
	return nil, fmt.Errorf("%s points at %d, which is gone", pfx, id)
}

// randomWant is a desired state over 30 labels and 40 prefixes on three
// gateways, each item present with probability 4/5 (or keepOld's choice),
// LSP labels drawn from a small set so objects are shared and relabelled.
func randomWant(rng *rand.Rand, gws []netip.Addr) desiredState {
	lsp := make([]int, len(gws))
	for i := range lsp {
		lsp[i] = []int{0, 300, 301, 302}[rng.IntN(4)]
	}
	want := desiredState{labels: map[fib.Label]labelRoute{}, ftn: map[netip.Prefix][]hop{}}
	for i := range 30 {
		if rng.IntN(5) == 0 {
			continue
		}
		in := fib.Label(100 + i)
		h := hop{gw: gws[rng.IntN(len(gws))], ifindex: 2}
		if rng.IntN(2) == 0 {
			h.labels = []fib.Label{fib.Label(200 + rng.IntN(3))}
		}
		want.labels[in] = labelRoute{in: in, hops: []hop{h}}
	}
	for i := range 40 {
		if rng.IntN(5) == 0 {
			continue
		}
		var hs []hop
		for g := range gws {
			if g == i%len(gws) || rng.IntN(4) == 0 {
				h := hop{gw: gws[g], ifindex: 2 + g}
				if lsp[g] != 0 && i%5 != 0 {
					h.labels = []fib.Label{fib.Label(lsp[g])}
				}
				hs = append(hs, h)
			}
		}
		want.ftn[pfx(i)] = normalizeHops(hs)
	}
	return want
}

// The restart contract, against an oracle. A previous run leaves a random
// kernel state (and an object nothing uses); the new run adopts it and
// publishes random tables, then sweeps at a random step. Before the sweep
// every pass must: delete no adopted label, route or object; leave every
// adopted label and prefix nothing wants now forwarding exactly as it did
// (as the previous run left it, or as this run last wanted it); program every desired item; and converge (a second
// plan is empty). After the sweep the kernel holds exactly the desired
// state and no object nothing uses.
func TestDiffKeepsStaleUntilSweep(t *testing.T) {
	hostonly.Skip(t)
	gws := []netip.Addr{netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.1.2"), netip.MustParseAddr("10.0.2.2")}
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 11))
		have := newKernelState()
		prev := randomWant(rng, gws)
		applyPlan(have, diff(prev, have, &idAllocator{used: have.usedIDs}, nil))
		for _, l := range prev.labels {
			have.labels[l.in] = l
		}
		orphan, _ := (&idAllocator{used: have.usedIDs}).alloc()
		have.nexthops[orphan] = hop{gw: gws[0], ifindex: 2, labels: []fib.Label{999}}
		keep := adopt(have, time.Now())

		sweepAt := rng.IntN(6)
		for step := range 8 {
			if step == sweepAt {
				keep = nil
			}
			want := randomWant(rng, gws)
			// What each kept label and prefix forwards before the pass.
			beforeFwd := map[netip.Prefix][]hop{}
			for q := range have.routes {
				if keep.keepsRoute(q) {
					hs, err := forwarding(have, q)
					if err != nil {
						t.Fatalf("seed %d step %d: before the pass: %v", seed, step, err)
					}
					beforeFwd[q] = hs
				}
			}
			beforeLabels := maps.Clone(have.labels)
			p := diff(want, have, &idAllocator{used: have.usedIDs}, keep)
			if len(p.conflicts) > 0 {
				t.Fatalf("seed %d step %d: conflicts %v", seed, step, p.conflicts)
			}
			if keep != nil {
				for _, l := range p.labelDelete {
					if keep.labels[l] {
						t.Fatalf("seed %d step %d: adopted label %s deleted before the sweep", seed, step, l)
					}
				}
				for _, q := range p.routeDelete {
					if keep.routes[q.prefix] {
						t.Fatalf("seed %d step %d: adopted route %s deleted before the sweep", seed, step, q.prefix)
					}
				}
				for _, id := range append(slices.Clone(p.nexthopDelete), p.groupDelete...) {
					if keep.objects[id] {
						t.Fatalf("seed %d step %d: adopted object %d collected before the sweep", seed, step, id)
					}
				}
			}
			applyPlan(have, p)
			for _, l := range p.labelAdd {
				have.labels[l.in] = l
			}
			for _, l := range p.labelReplace {
				have.labels[l.in] = l
			}
			for _, l := range p.labelDelete {
				delete(have.labels, l)
			}

			for in, w := range want.labels {
				if h, ok := have.labels[in]; !ok || !h.equal(w) {
					t.Fatalf("seed %d step %d: label %s is %v, want %v", seed, step, in, h, w)
				}
			}
			for q, hs := range want.ftn {
				got, err := forwarding(have, q)
				if err != nil {
					t.Fatalf("seed %d step %d: %v", seed, step, err)
				}
				if !slices.EqualFunc(got, hs, hop.equal) {
					t.Fatalf("seed %d step %d: %s forwards %v, want %v", seed, step, q, got, hs)
				}
			}
			if keep != nil {
				for in, l := range beforeLabels {
					if _, wanted := want.labels[in]; wanted || !keep.keepsLabel(in) {
						continue
					}
					if h, ok := have.labels[in]; !ok || !h.equal(l) {
						t.Fatalf("seed %d step %d: stale label %s is %v, was %v", seed, step, in, h, l)
					}
				}
				for q, hs := range beforeFwd {
					if _, wanted := want.ftn[q]; wanted {
						continue
					}
					got, err := forwarding(have, q)
					if err != nil {
						t.Fatalf("seed %d step %d: stale %v", seed, step, err)
					}
					if !slices.EqualFunc(got, hs, hop.equal) {
						t.Fatalf("seed %d step %d: stale %s forwards %v, before the pass %v", seed, step, q, got, hs)
					}
				}
				for id := range keep.objects {
					_, n := have.nexthops[id]
					_, g := have.groups[id]
					if !n && !g {
						t.Fatalf("seed %d step %d: adopted object %d is gone before the sweep", seed, step, id)
					}
				}
			} else {
				if len(have.labels) != len(want.labels) || len(have.routes) != len(want.ftn) {
					t.Fatalf("seed %d step %d, swept: %d labels %d routes, want %d and %d", seed, step,
						len(have.labels), len(have.routes), len(want.labels), len(want.ftn))
				}
				ref := walkReferenced(t, have)
				for id := range have.nexthops {
					if !ref[id] {
						t.Fatalf("seed %d step %d, swept: nexthop %d is left with nothing using it", seed, step, id)
					}
				}
			}
			if again := diff(want, have, &idAllocator{used: have.usedIDs}, keep); !again.empty() {
				t.Fatalf("seed %d step %d: a second pass still plans %+v", seed, step, again)
			}
		}
	}
}
