package daemon

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/rib"
)

func TestDesiredForwarding(t *testing.T) {
	pfx, addr := netip.MustParsePrefix, netip.MustParseAddr
	ldp := fib.NewTable()
	ldp.LFIB[16] = fib.LFIBEntry{InLabel: 16, NextHops: []fib.NextHop{{Addr: addr("10.0.0.2"), Ifname: "zt0"}}}
	labelled := fib.FTNEntry{Prefix: pfx("3.3.3.3/32"), NextHops: []fib.NextHop{{Addr: addr("10.0.0.2"), Ifname: "zt0", Labels: []fib.Label{17}}}}
	ldp.FTN[labelled.Prefix] = labelled
	foreign := fib.FTNEntry{Prefix: pfx("4.4.4.4/32"), NextHops: []fib.NextHop{{Addr: addr("10.0.0.2"), Ifname: "zt0", Labels: []fib.Label{18}}}}
	ldp.FTN[foreign.Prefix] = foreign
	best := []rib.Route{
		{Prefix: pfx("3.3.3.3/32"), Source: rib.SourceStatic, NextHops: []rib.NextHop{{Addr: addr("10.0.0.2"), Ifname: "zt0"}}},
		{Prefix: pfx("4.4.4.4/32"), Source: rib.SourceKernel, NextHops: []rib.NextHop{{Addr: addr("10.0.0.2"), Ifname: "zt0"}}},
		{Prefix: pfx("5.5.5.0/24"), Source: rib.SourceStatic, NextHops: []rib.NextHop{{Addr: addr("10.0.0.6"), Ifname: "eth1"}}},
		{Prefix: pfx("10.0.0.0/24"), Source: rib.SourceConnected, NextHops: []rib.NextHop{{Ifname: "zt0"}}},
	}
	got := desiredForwarding(ldp, best, true)
	if len(got.LFIB) != 1 || !got.LFIB[16].Equal(ldp.LFIB[16]) {
		t.Errorf("LFIB %v, want LDP's as is", got.LFIB)
	}
	if e := got.FTN[labelled.Prefix]; !e.Equal(labelled) {
		t.Errorf("static route with an LSP: %v, want %v", e, labelled)
	}
	// Another daemon's route gets a labelled copy for the ingress table,
	// marked so; without the ingress table, none.
	if e := got.FTN[foreign.Prefix]; !e.Foreign || !slices.EqualFunc(e.NextHops, foreign.NextHops, fib.NextHop.Equal) {
		t.Errorf("a kernel route owned by someone else: %v, want a Foreign copy of LDP's %v", e, foreign)
	}
	if _, ok := desiredForwarding(ldp, best, false).FTN[foreign.Prefix]; ok {
		t.Errorf("without the ingress table, a kernel route owned by someone else got lsrd's push")
	}
	delete(got.FTN, foreign.Prefix)
	want := fib.FTNEntry{Prefix: pfx("5.5.5.0/24"), NextHops: []fib.NextHop{{Addr: addr("10.0.0.6"), Ifname: "eth1"}}}
	if e := got.FTN[want.Prefix]; !e.Equal(want) {
		t.Errorf("static route without an LSP: %v, want %v unlabelled", e, want)
	}
	if len(got.FTN) != 2 {
		t.Errorf("FTN has %d entries, want 2: %v", len(got.FTN), got.FTN)
	}
}

// A BGP route whose next hop is a remote loopback follows the LSP to that
// loopback, and falls back to plain IP when the LSP goes.
func TestBGPRouteOverLSP(t *testing.T) {
	pfx, addr := netip.MustParsePrefix, netip.MustParseAddr
	lsp := fib.FTNEntry{Prefix: pfx("3.3.3.3/32"), NextHops: []fib.NextHop{{Addr: addr("10.1.0.2"), Ifname: "zt0", Labels: []fib.Label{17}}}}
	ldp := fib.NewTable()
	ldp.FTN[lsp.Prefix] = lsp
	route := rib.Route{Prefix: pfx("198.51.100.0/24"), Source: rib.SourceBGP, Distance: rib.DistanceEBGP,
		NextHops: []rib.NextHop{{Addr: addr("10.1.0.2"), Ifname: "zt0"}}, Recursive: []netip.Addr{addr("3.3.3.3")}}
	got := desiredForwarding(ldp, []rib.Route{route}, true).FTN[route.Prefix]
	want := fib.FTNEntry{Prefix: route.Prefix, NextHops: lsp.NextHops}
	if !got.Equal(want) {
		t.Errorf("BGP route with an LSP to its next hop: %v, want %v", got, want)
	}
	got = desiredForwarding(fib.NewTable(), []rib.Route{route}, true).FTN[route.Prefix]
	want = fib.FTNEntry{Prefix: route.Prefix, NextHops: []fib.NextHop{{Addr: addr("10.1.0.2"), Ifname: "zt0"}}}
	if !got.Equal(want) {
		t.Errorf("without the LSP: %v, want plain IP %v", got, want)
	}
}

// The forwarding kept change by change equals the one built from scratch
// from the same RIB and LDP table, over random RIB changes and LSP changes.
func TestForwardingIncremental(t *testing.T) {
	pfx, addr := netip.MustParsePrefix, netip.MustParseAddr
	nhs := []netip.Addr{addr("3.3.3.3"), addr("4.4.4.4"), addr("5.5.5.5")}
	// Nested prefixes, for the labelled copies of other daemons' routes
	// and the throws under them.
	prefixes := []netip.Prefix{pfx("198.51.100.0/24"), pfx("203.0.113.0/24"), pfx("192.0.2.0/24"),
		pfx("3.3.3.3/32"), pfx("4.4.4.4/32"), pfx("10.9.0.0/16"), pfx("10.9.1.0/24"), pfx("10.9.1.7/32"), pfx("10.0.0.0/8"),
		pfx("2001:db8:1::/48"), pfx("2001:db8:2::/48")} // 6PE over the IPv4 LSPs
	ridden := 0 // routes moved by a fib.Ride: the test must see some
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 1))
		best := map[netip.Prefix]rib.Route{}
		f := newForwarding(true, lookup(best))
		// last is the kernel layer's table: handed on whole once, then
		// amended by the deltas, which are sometimes merged first, as
		// the kernel layer merges what a pass has not taken yet.
		var ldp, prev, last *fib.Table
		var pending *fib.Delta
		for step := range 40 {
			if rng.IntN(3) == 0 {
				ldp = fib.NewTable()
				for _, a := range nhs {
					if rng.IntN(3) > 0 {
						p := netip.PrefixFrom(a, 32)
						ldp.FTN[p] = fib.FTNEntry{Prefix: p, NextHops: []fib.NextHop{{Addr: addr("10.1.0.2"), Ifname: "zt0",
							Labels: []fib.Label{fib.Label(16 + rng.IntN(3))}}}}
					}
				}
				for range rng.IntN(4) {
					p := prefixes[rng.IntN(len(prefixes))]
					ldp.FTN[p] = fib.FTNEntry{Prefix: p, NextHops: []fib.NextHop{{Addr: addr("10.1.0.3"), Ifname: "zt1", Labels: []fib.Label{99}}}}
				}
				ldp.LFIB[fib.Label(100+step)] = fib.LFIBEntry{InLabel: fib.Label(100 + step)}
				if seed%2 == 0 {
					f.setLDP(ldp)
				} else {
					// As the speaker hands it on: only what changed.
					f.applyLDP(tableDelta(prev, ldp))
				}
				prev = ldp
			} else {
				var cs []rib.Change
				for range 1 + rng.IntN(3) {
					p := prefixes[rng.IntN(len(prefixes))]
					if rng.IntN(4) == 0 {
						delete(best, p)
						cs = append(cs, rib.Change{Prefix: p, Deleted: true})
						continue
					}
					r := rib.Route{Prefix: p, Source: []rib.Source{rib.SourceConnected, rib.SourceStatic, rib.SourceKernel, rib.SourceBGP}[rng.IntN(4)],
						NextHops: []rib.NextHop{{Addr: addr("10.1.0.2"), Ifname: "zt0"}}}
					for range rng.IntN(3) {
						r.Recursive = append(r.Recursive, nhs[rng.IntN(len(nhs))])
					}
					best[p] = r
					cs = append(cs, rib.Change{Prefix: p, Best: r})
				}
				f.routes(cs)
			}
			var all []rib.Route
			for _, r := range best {
				all = append(all, r)
			}
			got, want := f.table(), desiredForwarding(ldp, all, true)
			if fmt.Sprint(got.FTN) != fmt.Sprint(want.FTN) || fmt.Sprint(got.LFIB) != fmt.Sprint(want.LFIB) || fmt.Sprint(got.Throws) != fmt.Sprint(want.Throws) {
				t.Fatalf("seed %d step %d:\nincremental %v\nfrom scratch %v", seed, step, got, want)
			}
			// The table handed on before, amended by the deltas, is the
			// table now: what the kernel layer builds from the deltas.
			delta, full := f.takeDelta()
			if full != (last == nil) {
				t.Fatalf("seed %d step %d: full %v with a table handed on before: %v", seed, step, full, last != nil)
			}
			if last == nil {
				last = f.table()
				continue
			}
			for _, r := range delta.Rides {
				ridden += len(r.Prefixes)
			}
			if pending == nil {
				pending = delta
			} else {
				pending.Merge(delta)
			}
			if rng.IntN(3) == 0 && step < 39 {
				continue // merged with the next
			}
			last.Apply(pending)
			pending = nil
			if fmt.Sprint(last.FTN) != fmt.Sprint(got.FTN) || fmt.Sprint(last.LFIB) != fmt.Sprint(got.LFIB) || fmt.Sprint(last.Throws) != fmt.Sprint(normThrows(got.Throws)) {
				t.Fatalf("seed %d step %d: the deltas give\n%v\nwant\n%v", seed, step, last, got)
			}
		}
	}
	if ridden == 0 {
		t.Fatal("no delta moved a route with a fib.Ride: relabels were all handed on route by route")
	}
	t.Logf("%d routes moved by rides", ridden)
}

// When an LSP goes, the prefixes behind its next hop fall back to plain IP
// on one shared next-hop slice, not a copy each (100,000 BGP prefixes), and
// none of them changes when the next one is computed.
func TestForwardingPlainHopsShared(t *testing.T) {
	pfx, addr := netip.MustParsePrefix, netip.MustParseAddr
	best := map[netip.Prefix]rib.Route{}
	f := newForwarding(true, lookup(best))
	ldp := fib.NewTable()
	lsp := pfx("4.4.4.4/32")
	ldp.FTN[lsp] = fib.FTNEntry{Prefix: lsp, NextHops: []fib.NextHop{{Addr: addr("10.2.0.2"), Ifname: "eth1", Labels: []fib.Label{1000}}}}
	f.setLDP(ldp)
	var cs []rib.Change
	for i := range 100 {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{20, 0, byte(i), 0}), 24)
		cs = append(cs, rib.Change{Prefix: p, Best: rib.Route{Prefix: p, Source: rib.SourceBGP,
			NextHops: []rib.NextHop{{Addr: addr("10.2.0.2"), Ifname: "eth1"}}, Recursive: []netip.Addr{lsp.Addr()}}})
	}
	// One more on another plain next hop, in the middle of them.
	other := pfx("30.0.0.0/24")
	cs = append(cs[:50:50], append([]rib.Change{{Prefix: other, Best: rib.Route{Prefix: other, Source: rib.SourceStatic,
		NextHops: []rib.NextHop{{Addr: addr("10.3.0.2"), Ifname: "eth2"}}}}}, cs[50:]...)...)
	maps.Copy(best, bestOf(cs))
	f.routes(cs)
	f.setLDP(fib.NewTable()) // the LSP goes
	entry := func(p netip.Prefix) fib.FTNEntry {
		e, _ := f.entry(p)
		return e
	}
	tab := f.table() // computed in a map's order, not the RIB's
	first := tab.FTN[cs[0].Prefix].NextHops
	want := []fib.NextHop{{Addr: addr("10.2.0.2"), Ifname: "eth1"}}
	for _, c := range cs {
		got := entry(c.Prefix).NextHops
		if other := tab.FTN[c.Prefix].NextHops; len(other) != 1 || &other[0] != &got[0] {
			t.Errorf("%s: the table and a lookup hold different slices", c.Prefix)
		}
		if c.Prefix == other {
			if len(got) != 1 || !got[0].Equal(fib.NextHop{Addr: addr("10.3.0.2"), Ifname: "eth2"}) {
				t.Errorf("%s: %v", c.Prefix, got)
			}
			continue
		}
		if len(got) != 1 || !got[0].Equal(want[0]) {
			t.Fatalf("%s: %v, want %v", c.Prefix, got, want)
		}
		if &got[0] != &first[0] {
			t.Errorf("%s has a copy of the plain next hops, not the shared slice", c.Prefix)
		}
	}
}

// tableDelta is the delta from table a (nil: empty) to b.
func tableDelta(a, b *fib.Table) *fib.Delta {
	if a == nil {
		a = fib.NewTable()
	}
	d := &fib.Delta{LFIB: map[fib.Label]*fib.LFIBEntry{}, FTN: map[netip.Prefix]*fib.FTNEntry{}}
	changedKeys(a.LFIB, b.LFIB, fib.LFIBEntry.Equal, func(k fib.Label) {
		d.LFIB[k] = nil
		if e, ok := b.LFIB[k]; ok {
			d.LFIB[k] = &e
		}
	})
	changedKeys(a.FTN, b.FTN, fib.FTNEntry.Equal, func(k netip.Prefix) {
		d.FTN[k] = nil
		if e, ok := b.FTN[k]; ok {
			d.FTN[k] = &e
		}
	})
	return d
}

// normThrows is t, or an empty map for none (Apply makes one on the first
// throw and keeps it).
func normThrows(t map[netip.Prefix]struct{}) map[netip.Prefix]struct{} {
	if t == nil {
		return map[netip.Prefix]struct{}{}
	}
	return t
}

// lookup is a RIB's Best over a map of best routes.
func lookup(best map[netip.Prefix]rib.Route) func(netip.Prefix) (rib.Route, bool) {
	return func(p netip.Prefix) (rib.Route, bool) {
		r, ok := best[p]
		return r, ok
	}
}

// bestOf is the best routes the changes leave.
func bestOf(cs []rib.Change) map[netip.Prefix]rib.Route {
	m := map[netip.Prefix]rib.Route{}
	for _, c := range cs {
		if c.Deleted {
			delete(m, c.Prefix)
		} else {
			m[c.Prefix] = c.Best
		}
	}
	return m
}
