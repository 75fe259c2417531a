package netlinkfib

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/lsrd/lsrd/fib"
)

func rideLinks(name string) (int, bool) {
	switch name {
	case "eth1":
		return 2, true
	case "eth2":
		return 3, true
	}
	return 0, false
}

// randomLSP is one or two next hops with labels (implicit null among
// them, as a neighbour next door gives).
func randomLSP(rng *rand.Rand) []fib.NextHop {
	legs := []fib.NextHop{{Addr: netip.MustParseAddr("10.0.0.2"), Ifname: "eth1"}, {Addr: netip.MustParseAddr("10.0.1.2"), Ifname: "eth2"}}
	rng.Shuffle(len(legs), func(i, j int) { legs[i], legs[j] = legs[j], legs[i] })
	out := legs[:1+rng.IntN(2)]
	for i := range out {
		out[i].Labels = []fib.Label{[]fib.Label{fib.LabelImplicitNull, 300, 301, 302, 303}[rng.IntN(5)]}
	}
	return slices.Clone(out)
}

// Over random sequences of LSP relabels handed on as fib.Rides (merged
// sometimes, as a pass that has not taken one delta merges the next),
// routes moving between LSPs and other entries changing, the table the
// kernel layer amends is the table wanted, and a scoped pass brings the
// kernel exactly where a full pass would: every route forwarding as
// wanted, no object left unused, a full diff afterwards planning nothing.
// Both ways a ride can go are taken: in place, and route by route when
// the object is shared with routes outside it.
func TestRidesConverge(t *testing.T) {
	lsps := []netip.Addr{netip.MustParseAddr("3.3.3.1"), netip.MustParseAddr("3.3.3.2"), netip.MustParseAddr("3.3.3.3")}
	var riders []netip.Prefix
	for i := range 16 {
		riders = append(riders, netip.MustParsePrefix(fmt.Sprintf("20.0.%d.0/24", i)))
	}
	for i := range 8 {
		riders = append(riders, netip.MustParsePrefix(fmt.Sprintf("2001:db8:%d::/48", i)))
	}
	others := []netip.Prefix{pfx(1), pfx(2), pfx(3)}
	var inPlace, perRoute int
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 7))
		// The model: each LSP's next hops, the LSP each rider rides, the
		// other entries' next hops.
		lspHops := map[netip.Addr][]fib.NextHop{}
		rides := map[netip.Prefix]netip.Addr{}
		other := map[netip.Prefix][]fib.NextHop{}
		host := func(a netip.Addr) netip.Prefix { return netip.PrefixFrom(a, 32) }
		entry := func(p netip.Prefix) fib.FTNEntry {
			if a, ok := rides[p]; ok {
				return fib.FTNEntry{Prefix: p, NextHops: fib.RideHops(lspHops[a], p.Addr().Is6())}
			}
			for _, a := range lsps {
				if p == host(a) {
					return fib.FTNEntry{Prefix: p, NextHops: lspHops[a]}
				}
			}
			return fib.FTNEntry{Prefix: p, NextHops: other[p]}
		}
		model := func() map[netip.Prefix]fib.FTNEntry {
			m := map[netip.Prefix]fib.FTNEntry{}
			for _, a := range lsps {
				m[host(a)] = entry(host(a))
			}
			for _, p := range riders {
				m[p] = entry(p)
			}
			for p := range other {
				m[p] = entry(p)
			}
			return m
		}
		for _, a := range lsps {
			lspHops[a] = randomLSP(rng)
		}
		for _, p := range riders {
			rides[p] = lsps[rng.IntN(len(lsps))]
		}
		for _, p := range others {
			other[p] = randomLSP(rng)
		}
		table := fib.NewTable()
		table.FTN = model()
		have := newKernelState()
		want, errs := resolve(table, rideLinks, false)
		applyPlan(have, diff(want, have, &idAllocator{used: have.usedIDs}, nil))

		var pending *fib.Delta
		for step := range 30 {
			d := &fib.Delta{FTN: map[netip.Prefix]*fib.FTNEntry{}}
			named := func(p netip.Prefix) {
				e := entry(p)
				d.FTN[p] = &e
			}
			switch rng.IntN(4) {
			case 0, 1: // an LSP relabelled: its own entry named, its riders ride
				a := lsps[rng.IntN(len(lsps))]
				if rng.IntN(3) == 0 {
					// same legs, new labels
					hs := slices.Clone(lspHops[a])
					for i := range hs {
						hs[i].Labels = []fib.Label{fib.Label(300 + rng.IntN(4))}
					}
					lspHops[a] = hs
				} else {
					lspHops[a] = randomLSP(rng)
				}
				named(host(a))
				r := &fib.Ride{NextHops: lspHops[a]}
				for _, p := range riders {
					if rides[p] != a {
						continue
					}
					if rng.IntN(8) == 0 {
						named(p) // a producer may name a rider too
					} else {
						r.Prefixes = append(r.Prefixes, p)
					}
				}
				d.Rides = map[netip.Addr]*fib.Ride{a: r}
			case 2: // a route moves to another LSP
				p := riders[rng.IntN(len(riders))]
				rides[p] = lsps[rng.IntN(len(lsps))]
				named(p)
			default: // another entry changes
				p := others[rng.IntN(len(others))]
				other[p] = randomLSP(rng)
				named(p)
			}
			if pending == nil {
				pending = d
			} else {
				pending.Merge(d)
			}
			if rng.IntN(3) == 0 && step < 29 {
				continue // merged with the next, as Change does
			}
			d, pending = pending, nil
			table.Apply(d)
			if m := model(); fmt.Sprint(m) != fmt.Sprint(table.FTN) {
				t.Fatalf("seed %d step %d: the deltas give\n%v\nwant\n%v", seed, step, table.FTN, m)
			}
			sc := deltaScope(d)
			var p *plan
			var moved, fallen int
			p, errs, moved, fallen = planScoped(&want, errs, have, table, sc, rideLinks, false, &idAllocator{used: have.usedIDs})
			inPlace += moved
			perRoute += fallen
			if len(p.conflicts) > 0 || len(errs) > 0 {
				t.Fatalf("seed %d step %d: conflicts %v, errors %v", seed, step, p.conflicts, errs)
			}
			applyPlan(have, p)
			fresh, _ := resolve(table, rideLinks, false)
			ref := walkReferenced(t, have)
			for pfx, hs := range fresh.ftn {
				if !slices.EqualFunc(want.ftn[pfx], hs, hop.equal) {
					t.Fatalf("seed %d step %d: %s resolved to %v by scoped passes, %v from the table", seed, step, pfx, want.ftn[pfx], hs)
				}
				got, err := forwarding(have, pfx)
				if err != nil {
					t.Fatalf("seed %d step %d: %v", seed, step, err)
				}
				if !slices.EqualFunc(got, hs, hop.equal) {
					t.Fatalf("seed %d step %d: %s forwards %v, want %v", seed, step, pfx, got, hs)
				}
			}
			checkSettled(t, fmt.Sprintf("seed %d step %d", seed, step), fresh, have, ref)
		}
	}
	if inPlace == 0 || perRoute == 0 {
		t.Fatalf("rides in place %d, route by route %d: want both taken", inPlace, perRoute)
	}
	t.Logf("rides: %d in place, %d route by route", inPlace, perRoute)
}

// 10,000 prefixes ride an LSP (IPv4, and 6PE for a quarter of them) whose
// label changes: the pass rewrites the two objects they share and moves
// no route; the scope it diffs per entry is the LSP's own entry alone.
func TestRideInPlace(t *testing.T) {
	a := netip.MustParseAddr("3.3.3.3")
	lsp := func(l fib.Label) []fib.NextHop {
		return []fib.NextHop{{Addr: netip.MustParseAddr("10.0.0.2"), Ifname: "eth1", Labels: []fib.Label{l}}}
	}
	table := fib.NewTable()
	var riders []netip.Prefix
	for i := range 10000 {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{20, byte(i >> 8), byte(i), 0}), 24)
		if i%4 == 0 {
			p = netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(i >> 8), byte(i)}), 48)
		}
		riders = append(riders, p)
		table.FTN[p] = fib.FTNEntry{Prefix: p, NextHops: fib.RideHops(lsp(300), p.Addr().Is6())}
	}
	hostEntry := fib.FTNEntry{Prefix: netip.PrefixFrom(a, 32), NextHops: lsp(300)}
	table.FTN[hostEntry.Prefix] = hostEntry
	have := newKernelState()
	want, errs := resolve(table, rideLinks, false)
	applyPlan(have, diff(want, have, &idAllocator{used: have.usedIDs}, nil))

	hostEntry.NextHops = lsp(301)
	d := &fib.Delta{FTN: map[netip.Prefix]*fib.FTNEntry{hostEntry.Prefix: &hostEntry},
		Rides: map[netip.Addr]*fib.Ride{a: {NextHops: lsp(301), Prefixes: riders}}}
	table.Apply(d)
	sc := deltaScope(d)
	p, errs, moved, fallen := planScoped(&want, errs, have, table, sc, rideLinks, false, &idAllocator{used: have.usedIDs})
	if len(errs) > 0 || moved != 2 || fallen != 0 {
		t.Fatalf("errors %v, rides in place %d, route by route %d: want 2 and 0", errs, moved, fallen)
	}
	if n := len(changes(p)); n != 2 || len(p.nexthopReplace) != 2 {
		t.Fatalf("%d requests (%d object replaces), want the two shared objects replaced: %+v", n, len(p.nexthopReplace), p)
	}
	if len(sc.prefixes) != 1 {
		t.Fatalf("the pass compared %d prefixes one by one, want the LSP's own entry alone", len(sc.prefixes))
	}
	applyPlan(have, p)
	for _, p := range []netip.Prefix{riders[0], riders[1], hostEntry.Prefix} {
		got, err := forwarding(have, p)
		if err != nil || len(got) != 1 || got[0].labels[0] != 301 {
			t.Fatalf("%s forwards %v (%v), want label 301 on top", p, got, err)
		}
	}
}
