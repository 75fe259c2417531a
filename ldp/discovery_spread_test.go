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
