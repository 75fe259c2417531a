package gctune

import (
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestPolicy walks the policy through a start, a burst, a lone spike and a
// slow trickle: it goes idle after three quiet seconds, busy after two busy
// ones, never on a single spike, and judges "busy" against the live heap.
func TestPolicy(t *testing.T) {
	const mb = 1 << 20
	var p Policy
	var allocs uint64
	feed := func(alloc, live uint64, secs int) Decision {
		allocs += alloc
		return p.step(allocs, live, secs)
	}
	steps := []struct {
		alloc, live uint64
		want        Decision
		what        string
		secs        int // 0: 1
	}{
		{0, 100 * mb, Stay, "first sample primes", 0},
		{50 * mb, 100 * mb, Stay, "start-up work", 0},
		{mb, 100 * mb, Stay, "quiet 1", 0},
		{mb, 100 * mb, Stay, "quiet 2", 0},
		{mb, 100 * mb, GoIdle, "quiet 3: settled", 0},
		{mb, 100 * mb, Stay, "stays idle", 0},
		{40 * mb, 100 * mb, Stay, "one busy second (a scrape) is not a burst", 0},
		{mb, 100 * mb, Stay, "quiet again", 0},
		{13 * mb, 100 * mb, Stay, "busy 1: an eighth of the live heap", 0},
		{13 * mb, 100 * mb, GoBusy, "busy 2: a burst", 0},
		{200 * mb, 300 * mb, Stay, "working", 0},
		{30 * mb, 300 * mb, Stay, "below an eighth of the bigger heap: quiet 1", 0},
		{30 * mb, 300 * mb, Stay, "quiet 2", 0},
		{30 * mb, 300 * mb, GoIdle, "quiet 3", 0},
		{900 << 10, 2 * mb, Stay, "a small heap: under the 1 MiB floor is quiet", 0},
		{2 * mb, 2 * mb, Stay, "busy 1 over the floor", 0},
		{2 * mb, 2 * mb, GoBusy, "busy 2", 0},
		{mb, 100 * mb, Stay, "quiet 1", 0},
		{mb, 100 * mb, Stay, "quiet 2", 0},
		{mb, 100 * mb, GoIdle, "quiet 3", 0},
		{40 * mb, 100 * mb, Stay, "a lone spike in a 4 s sample at rest", 4},
		{60 * mb, 100 * mb, GoBusy, "4 s whose average is busy: a burst at once", 4},
	}
	for i, s := range steps {
		if got := feed(s.alloc, s.live, max(s.secs, 1)); got != s.want {
			t.Fatalf("step %d (%s): %v, want %v", i, s.what, got, s.want)
		}
	}
}

var sink [][]byte

// TestTunerReturnsMemory runs the tuner's sampling against this process's
// own runtime: a burst of garbage beside a live heap, then rest. At rest
// the collector's target must be the idle one and the freed heap returned
// to the system; a new burst must raise the target again.
func TestTunerReturnsMemory(t *testing.T) {
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	oldLimit := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(oldLimit)

	tu := New(Config{BusyPercent: 100, IdlePercent: 20, Limit: 4 << 30}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if got := debug.SetMemoryLimit(-1); got != 4<<30 {
		t.Fatalf("memory limit %d, want %d", got, 4<<30)
	}
	live := make([][]byte, 0, 64)
	for range 64 {
		live = append(live, make([]byte, 1<<20))
	}
	burst := func() {
		for range 400 {
			sink = append(sink, make([]byte, 1<<20))
			if len(sink) > 32 {
				sink = sink[:0]
			}
		}
	}
	tu.sample(1) // primes
	burst()
	tu.sample(1)
	if s := tu.Stats(); s.Idle || s.GCPercent != 100 {
		t.Fatalf("during the burst: %+v", s)
	}
	sink = nil
	var next time.Duration
	for range quietSeconds {
		next = tu.sample(1)
	}
	if next != idleEvery {
		t.Errorf("next sample at rest in %s, want %s", next, idleEvery)
	}
	s := tu.Stats()
	if !s.Idle || s.GCPercent != 20 || s.Returns != 1 {
		t.Fatalf("after three quiet samples: %+v, want idle at 20 with one return", s)
	}
	if got := debug.SetGCPercent(20); got != 20 {
		t.Fatalf("runtime's GOGC %d, want 20", got)
	}
	if s.Returned < 8<<20 {
		t.Errorf("returned %d bytes after 400 MiB of garbage, want at least 8 MiB", s.Returned)
	}
	// One sample of idleEvery's seconds whose average is busy is a burst.
	burst()
	tu.sample(int(idleEvery / time.Second))
	if s := tu.Stats(); s.Idle || s.GCPercent != 100 {
		t.Fatalf("after a new burst: %+v, want busy at 100", s)
	}
	runtime.KeepAlive(live)

	// A reload that lowers the busy target below the idle one clamps it.
	tu.Set(Config{BusyPercent: 10, IdlePercent: 25})
	if got := debug.SetGCPercent(10); got != 10 {
		t.Fatalf("after a reload to 10: GOGC %d", got)
	}
	if tu.cfg.IdlePercent != 10 {
		t.Errorf("idle percent %d, want clamped to 10", tu.cfg.IdlePercent)
	}
	if got := debug.SetMemoryLimit(-1); got != startLimit {
		t.Errorf("limit 0 left %d, want the start's %d", got, startLimit)
	}
}
