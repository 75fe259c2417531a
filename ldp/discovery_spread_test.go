package ldp

import (
	"net/netip"
	"testing"
	"time"
)

// The early hellos a new neighbour gets on a shared segment are spread:
// no delay on a point-to-point link, and on a 40-router segment the 39
// answering LSRs' delays cover the window instead of landing together.
func TestTriggeredHelloSpread(t *testing.T) {
	newNbr := netip.MustParseAddr("172.16.0.40")
	engine := func(id string) *Engine {
		e, err := New(Config{LSRID: netip.MustParseAddr(id), Interfaces: []string{"zt0"}}, newFakeLIB())
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	if d := engine("172.16.0.1").triggeredHelloDelay(1, newNbr); d != 0 {
		t.Errorf("one adjacency: delay %s, want none", d)
	}
	buckets := map[time.Duration]bool{}
	for i := 1; i <= 39; i++ {
		e := engine(netip.AddrFrom4([4]byte{172, 16, 0, byte(i)}).String())
		d := e.triggeredHelloDelay(40, newNbr)
		if d < 0 || d >= triggeredHelloSpread {
			t.Fatalf("LSR %d: delay %s outside [0, %s)", i, d, triggeredHelloSpread)
		}
		if again := e.triggeredHelloDelay(40, newNbr); again != d {
			t.Fatalf("LSR %d: delay %s then %s: not a function of the IDs", i, d, again)
		}
		buckets[d.Truncate(100*time.Millisecond)] = true
	}
	// 39 delays over 1 s: a spread, not a clump (all ten 100 ms buckets
	// are hit with overwhelming likelihood; 7 leaves room for the hash).
	if len(buckets) < 7 {
		t.Errorf("39 delays fall in %d of the ten 100 ms buckets: %v", len(buckets), buckets)
	}
	// A small segment gets a small window: 3 adjacencies, under 50 ms.
	if d := engine("172.16.0.1").triggeredHelloDelay(3, newNbr); d >= 2*triggeredHelloStep {
		t.Errorf("3 adjacencies: delay %s, want under %s", d, 2*triggeredHelloStep)
	}
}

// The early hellos of a busy segment stay bounded: 59 neighbours on one
// interface whose adjacencies keep expiring and coming back (each falls
// silent past its hold time now and then) get no two hellos closer than
// 200 ms, and in all about one early hello per periodic one. With the
// 200 ms gap alone (triggeredGap not growing with the adjacencies), every
// returning adjacency drew one: 60 such routers put out hundreds a
// second.
func TestTriggeredHelloBound(t *testing.T) {
	s := newSegmentSim(t, 7)
	for range 59 {
		s.add(s.now.Add(time.Duration(s.rng.IntN(5000)) * time.Millisecond))
	}
	const run = 5 * time.Minute
	s.run(s.now.Add(run), len(s.nbrs), nil, func() time.Duration {
		if s.rng.IntN(4) == 0 {
			// Silent past the 15 s hold time: the adjacency expires
			// and comes back with the next hello.
			return time.Duration(16+s.rng.IntN(5)) * time.Second
		}
		return 0
	})
	if s.appeared < 300 {
		t.Fatalf("only %d adjacencies appeared in %s: not the churn this test is about", s.appeared, run)
	}
	for i := 1; i < len(s.sent); i++ {
		if gap := s.sent[i].Sub(s.sent[i-1]); gap < triggeredHelloGap {
			t.Fatalf("hellos %s apart (hello %d at %s), want at least %s", gap, i, s.sent[i].Sub(t0), triggeredHelloGap)
		}
	}
	// About one early hello per periodic one at this size, where the
	// returning adjacencies (more than one a second) drew one each before.
	if most := 2 * int(run/DefaultLinkHelloInterval) * 11 / 10; len(s.sent) > most {
		t.Fatalf("%d hellos in %s for %d returning adjacencies, want at most %d", len(s.sent), run, s.appeared, most)
	}
	t.Logf("%d hellos in %s, %d adjacencies appeared", len(s.sent), run, s.appeared)
}
