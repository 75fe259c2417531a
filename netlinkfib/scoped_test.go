package netlinkfib

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/internal/hostonly"
)

// mixWant is prev with each label, prefix and throw taken from a fresh
// random state with probability 1/4 (present or not there), and the scope
// that names every key that changed, plus a few that did not (a producer
// may name more than changed).
func mixWant(rng *rand.Rand, gws []netip.Addr, prev desiredState) (desiredState, *scope) {
	fresh := randomWant(rng, gws)
	next := desiredState{labels: map[fib.Label]labelRoute{}, ftn: map[netip.Prefix][]hop{}, throws: map[netip.Prefix]bool{}}
	sc := &scope{labels: map[fib.Label]struct{}{}, prefixes: map[netip.Prefix]struct{}{}}
	for i := range 30 {
		in := fib.Label(100 + i)
		from := prev.labels
		if rng.IntN(4) == 0 {
			from = fresh.labels
		}
		if r, ok := from[in]; ok {
			next.labels[in] = r
		}
		o, had := prev.labels[in]
		n, has := next.labels[in]
		if had != has || had && !o.equal(n) || rng.IntN(10) == 0 {
			sc.labels[in] = struct{}{}
		}
	}
	for i := range 40 {
		p := pfx(i)
		from := prev.ftn
		if rng.IntN(4) == 0 {
			from = fresh.ftn
		}
		if hs, ok := from[p]; ok {
			next.ftn[p] = hs
		}
		o, had := prev.ftn[p]
		n, has := next.ftn[p]
		if had != has || had && !slices.EqualFunc(o, n, hop.equal) || rng.IntN(10) == 0 {
			sc.prefixes[p] = struct{}{}
		}
	}
	for i := 40; i < 50; i++ {
		p := pfx(i)
		next.throws[p] = prev.throws[p]
		if rng.IntN(4) == 0 {
			next.throws[p] = rng.IntN(2) == 0
		}
		if next.throws[p] != prev.throws[p] {
			sc.prefixes[p] = struct{}{}
		}
		if !next.throws[p] {
			delete(next.throws, p)
		}
	}
	return next, sc
}

// Over random sequences of partial changes, a scoped pass over what
// changed brings the kernel exactly where a full pass would: every label,
// prefix and throw as wanted, no object left that nothing uses, the use
// counts right, and a full diff afterwards plans nothing.
func TestScopedDiffConverges(t *testing.T) {
	hostonly.Skip(t)
	gws := []netip.Addr{netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.1.2"), netip.MustParseAddr("10.0.2.2")}
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 11))
		have := newKernelState()
		want := desiredState{labels: map[fib.Label]labelRoute{}, ftn: map[netip.Prefix][]hop{}, throws: map[netip.Prefix]bool{}}
		for step := range 40 {
			var sc *scope
			want, sc = mixWant(rng, gws, want)
			p := diffScoped(want, have, &idAllocator{used: have.usedIDs}, sc)
			if step == 0 {
				p = diff(want, have, &idAllocator{used: have.usedIDs}, nil)
			}
			if len(p.conflicts) > 0 {
				t.Fatalf("seed %d step %d: conflicts %v", seed, step, p.conflicts)
			}
			applyPlan(have, p)
			ref := walkReferenced(t, have)
			for pfx, hs := range want.ftn {
				got, err := forwarding(have, pfx)
				if err != nil {
					t.Fatalf("seed %d step %d: %v", seed, step, err)
				}
				if !slices.EqualFunc(got, hs, hop.equal) {
					t.Fatalf("seed %d step %d: %s forwards %v, want %v", seed, step, pfx, got, hs)
				}
			}
			if len(have.routes) != len(want.ftn) {
				t.Fatalf("seed %d step %d: %d routes, want %d", seed, step, len(have.routes), len(want.ftn))
			}
			for in, w := range want.labels {
				if h, ok := have.labels[in]; !ok || !h.equal(w) {
					t.Fatalf("seed %d step %d: label %d is %v, want %v", seed, step, in, h, w)
				}
			}
			if len(have.labels) != len(want.labels) || len(have.throws) != len(want.throws) {
				t.Fatalf("seed %d step %d: %d labels %d throws, want %d and %d", seed, step,
					len(have.labels), len(have.throws), len(want.labels), len(want.throws))
			}
			checkSettled(t, fmt.Sprintf("seed %d step %d", seed, step), want, have, ref)
		}
	}
}

// checkSettled fails t unless every object in have is used (ref: the
// objects routes and groups use, walked) and a full diff from have to want
// plans nothing: what a scoped pass must leave.
func checkSettled(t *testing.T, at string, want desiredState, have *kernelState, ref map[uint32]bool) {
	t.Helper()
	for id := range have.nexthops {
		if !ref[id] {
			t.Fatalf("%s: nexthop %d is left with nothing using it", at, id)
		}
	}
	for id := range have.groups {
		if !ref[id] {
			t.Fatalf("%s: group %d is left with nothing using it", at, id)
		}
	}
	if again := diff(want, have, &idAllocator{used: have.usedIDs}, nil); !again.empty() {
		t.Fatalf("%s: a full pass after the scoped one still plans %+v", at, again)
	}
}

// The LSP label of the next hop that 1,000 prefixes share changes: the
// scoped pass over those prefixes relabels their object in place, one
// request, and moves no route.
func TestScopedRelabelInPlace(t *testing.T) {
	gw := netip.MustParseAddr("10.0.0.2")
	table := func(label fib.Label) desiredState {
		w := desiredState{labels: map[fib.Label]labelRoute{}, ftn: map[netip.Prefix][]hop{}, throws: map[netip.Prefix]bool{}}
		hs := []hop{{gw: gw, ifindex: 2, labels: []fib.Label{label}}}
		for i := range 1000 {
			w.ftn[netip.PrefixFrom(netip.AddrFrom4([4]byte{20, byte(i >> 8), byte(i), 0}), 24)] = hs
		}
		return w
	}
	have := newKernelState()
	applyPlan(have, diff(table(300), have, &idAllocator{used: have.usedIDs}, nil))
	next := table(301)
	sc := &scope{prefixes: map[netip.Prefix]struct{}{}}
	for p := range next.ftn {
		sc.prefixes[p] = struct{}{}
	}
	p := diffScoped(next, have, &idAllocator{used: have.usedIDs}, sc)
	if n := len(changes(p)); n != 1 || len(p.nexthopReplace) != 1 {
		t.Fatalf("%d requests (%d object replaces), want one replace: %+v", n, len(p.nexthopReplace), p)
	}
	// Half of them only: the object is shared with routes outside the
	// scope, so it stays, and the scoped half moves to a new one.
	have = newKernelState()
	applyPlan(have, diff(table(300), have, &idAllocator{used: have.usedIDs}, nil))
	half := table(300)
	sc = &scope{prefixes: map[netip.Prefix]struct{}{}}
	i := 0
	for p, hs := range next.ftn {
		if i%2 == 0 {
			half.ftn[p] = hs
			sc.prefixes[p] = struct{}{}
		}
		i++
	}
	p = diffScoped(half, have, &idAllocator{used: have.usedIDs}, sc)
	if len(p.nexthopReplace) != 0 || len(p.nexthopAdd) != 1 || len(p.routeReplace) != 500 {
		t.Fatalf("half moved: %d replaces, %d adds, %d route replaces; want 0, 1, 500", len(p.nexthopReplace), len(p.nexthopAdd), len(p.routeReplace))
	}
}

// 6PE (RFC 4798): an IPv6 prefix through an IPv4 next hop keeps the
// gateway mapped, with its label stack; without labels it is refused; an
// IPv4 prefix's gateway is unmapped as always.
func TestResolve6PE(t *testing.T) {
	tab := fib.NewTable()
	gw := netip.MustParseAddr("10.0.0.2")
	six := fib.FTNEntry{Prefix: netip.MustParsePrefix("2001:db8::/32"), NextHops: []fib.NextHop{{Addr: gw, Ifname: "eth1", Labels: []fib.Label{300, fib.LabelIPv6ExplicitNull}}}}
	bare := fib.FTNEntry{Prefix: netip.MustParsePrefix("2001:db8:1::/48"), NextHops: []fib.NextHop{{Addr: gw, Ifname: "eth1"}}}
	four := fib.FTNEntry{Prefix: netip.MustParsePrefix("198.51.100.0/24"), NextHops: []fib.NextHop{{Addr: netip.AddrFrom16(gw.As16()), Ifname: "eth1", Labels: []fib.Label{300}}}}
	for _, e := range []fib.FTNEntry{six, bare, four} {
		tab.FTN[e.Prefix] = e
	}
	want, errs := resolve(tab, benchLinks, true)
	if hs := want.ftn[six.Prefix]; len(hs) != 1 || hs[0].gw != netip.MustParseAddr("::ffff:10.0.0.2") || !slices.Equal(hs[0].labels, []fib.Label{300, 2}) {
		t.Errorf("6PE prefix resolved to %v", hs)
	}
	if hs := want.ftn[four.Prefix]; len(hs) != 1 || hs[0].gw != gw {
		t.Errorf("IPv4 prefix resolved to %v", hs)
	}
	if _, ok := want.ftn[bare.Prefix]; ok || len(errs) != 1 || errs[0].prefix != bare.Prefix || !strings.Contains(errs[0].Error(), "6PE") {
		t.Errorf("unlabelled IPv6 prefix through IPv4: resolved %v, errors %v", ok, errs)
	}
}
