package rib

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/lsrd/lsrd/internal/hostonly"
)

// randomRIB draws routes from a small universe so that prefixes nest, next
// hops resolve through each other (recursion several levels deep, loops,
// more specific routes appearing under resolved ones) and sources compete.
type randomRIB struct {
	rng      *rand.Rand
	prefixes []netip.Prefix
	nexthops []netip.Addr
}

func newRandomRIB(seed uint64) *randomRIB {
	g := &randomRIB{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	for _, s := range []string{
		"0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.0.0/24", "10.1.0.2/32", "10.1.0.3/32",
		"10.2.0.0/16", "10.2.0.0/24", "10.2.0.3/32", "3.3.3.0/24", "3.3.3.3/32", "4.4.4.4/32",
		"198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24", "192.0.2.128/25",
		"2001:db8::/32", "2001:db8::3/128", "::/0",
	} {
		g.prefixes = append(g.prefixes, netip.MustParsePrefix(s))
	}
	for _, s := range []string{"10.1.0.2", "10.1.0.3", "10.2.0.3", "3.3.3.3", "4.4.4.4", "198.51.100.7",
		"192.0.2.129", "10.9.9.9", "2001:db8::3", "2001:db8::9"} {
		g.nexthops = append(g.nexthops, netip.MustParseAddr(s))
	}
	return g
}

func (g *randomRIB) source() Source { return Source(1 + g.rng.IntN(4)) }

func (g *randomRIB) prefix() netip.Prefix { return g.prefixes[g.rng.IntN(len(g.prefixes))] }

func (g *randomRIB) route(source Source) Route {
	rt := Route{Prefix: g.prefix(), Source: source}
	switch source {
	case SourceConnected:
		rt.Distance = DistanceConnected
	case SourceStatic:
		rt.Distance = DistanceStatic
	case SourceKernel:
		rt.Distance = DistanceKernel
	case SourceBGP:
		rt.Distance = []uint8{DistanceEBGP, DistanceIBGP}[g.rng.IntN(2)]
	}
	if g.rng.IntN(8) == 0 {
		rt.Distance = uint8(g.rng.IntN(3)) // ties and reversed preferences
	}
	ifname := func() string { return fmt.Sprintf("eth%d", g.rng.IntN(3)) }
	n := 1 + g.rng.IntN(2)
	for range n {
		var nh NextHop
		switch k := g.rng.IntN(10); {
		case source == SourceConnected || k == 0:
			nh = NextHop{Ifname: ifname()}
		case k < 3:
			nh = NextHop{Addr: g.nexthops[g.rng.IntN(len(g.nexthops))], Ifname: ifname()}
		default: // gateway only: resolved recursively
			nh = NextHop{Addr: g.nexthops[g.rng.IntN(len(g.nexthops))]}
		}
		rt.NextHops = append(rt.NextHops, nh)
	}
	return rt
}

func (g *randomRIB) routes(source Source, max int) []Route {
	var out []Route
	for range g.rng.IntN(max + 1) {
		out = append(out, g.route(source))
	}
	return out
}

// The incremental RIB publishes exactly what the full recompute (the
// oracle) publishes, change by change, over random sequences of every
// operation.
func TestIncrementalMatchesFullRecompute(t *testing.T) {
	hostonly.Skip(t)
	seeds := 300
	if testing.Short() {
		seeds = 50
	}
	for seed := range uint64(seeds) {
		g := newRandomRIB(seed)
		inc, ref := New(), newOracle()
		for step := range 60 {
			var got, want []Change
			var what string
			switch op := g.rng.IntN(10); {
			case op < 4:
				rt := g.route(g.source())
				what = fmt.Sprintf("Update(%v)", rt)
				got, want = inc.Update(rt), ref.Update(rt)
			case op < 6:
				p, s := g.prefix(), g.source()
				what = fmt.Sprintf("Delete(%v, %v)", p, s)
				got, want = inc.Delete(p, s), ref.Delete(p, s)
			case op < 8:
				s := g.source()
				adds := g.routes(s, 6)
				var dels []netip.Prefix
				for range g.rng.IntN(4) {
					dels = append(dels, g.prefix())
				}
				what = fmt.Sprintf("Apply(%v, %v, %v)", s, adds, dels)
				got, want = inc.Apply(s, adds, dels), ref.Apply(s, adds, dels)
			default:
				s := g.source()
				rs := g.routes(s, 8)
				what = fmt.Sprintf("ReplaceSource(%v, %v)", s, rs)
				got, want = inc.ReplaceSource(s, rs), ref.ReplaceSource(s, rs)
			}
			if g, w := fmt.Sprint(got), fmt.Sprint(want); g != w {
				t.Fatalf("seed %d step %d %s:\nchanges %s\nwant    %s", seed, step, what, g, w)
			}
			if g, w := fmt.Sprint(inc.Routes()), fmt.Sprint(ref.Routes()); g != w {
				t.Fatalf("seed %d step %d %s:\ntable %s\nwant  %s", seed, step, what, g, w)
			}
			for _, p := range g.prefixes {
				gb, gok := inc.Best(p)
				wb, wok := ref.best[p]
				if gok != wok || fmt.Sprint(gb) != fmt.Sprint(wb) {
					t.Fatalf("seed %d step %d %s: Best(%v) = %v %v, want %v %v", seed, step, what, p, gb, gok, wb, wok)
				}
			}
			if n := inc.Len(); n != len(ref.best) {
				t.Fatalf("seed %d step %d: Len %d, want %d", seed, step, n, len(ref.best))
			}
			bySource := map[Source]int{}
			for _, b := range ref.best {
				bySource[b.Source]++
			}
			if got := inc.CountBySource(); fmt.Sprint(got) != fmt.Sprint(bySource) {
				t.Fatalf("seed %d step %d: CountBySource %v, want %v", seed, step, got, bySource)
			}
		}
	}
}
