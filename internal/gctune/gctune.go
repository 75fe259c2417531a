// Package gctune sets the Go collector's headroom by what lsrd is doing.
//
// A router daemon works in bursts (a session's label exchange, a BGP table,
// a relabel) and rests between them. While it works, headroom saves CPU: at
// GOGC 100 the heap may grow to twice the live data between collections.
// At rest that headroom is only resident memory the operator pays for: the
// runtime returns freed pages slowly and keeps about 1.1 times the heap
// goal. So the tuner watches the allocation rate (runtime/metrics, once a
// second) and, when a burst has settled, lowers the collector's target to
// the idle percentage and returns the freed memory to the system at once
// (debug.FreeOSMemory); when a burst starts, it raises the target again.
//
// The decision is a pure function of the samples (Policy.step), so the
// rules are tested without a clock or a heap.
package gctune

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// Config is what the operator sets (config.Memory).
type Config struct {
	// BusyPercent is GOGC while lsrd works through a burst; 0 keeps what
	// the runtime started with (GOGC from the environment, else 100).
	BusyPercent int
	// IdlePercent is GOGC once the work has settled, at most BusyPercent;
	// equal to it, the tuner only returns memory after each burst.
	IdlePercent int
	// Limit is a soft limit on the Go runtime's memory in bytes
	// (debug.SetMemoryLimit); 0 keeps what the runtime started with
	// (GOMEMLIMIT from the environment, else none).
	Limit int64
}

// The runtime's settings at start, read once: GOGC and GOMEMLIMIT from the
// environment, or the runtime's defaults.
var startPercent, startLimit = func() (int, int64) {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p, debug.SetMemoryLimit(-1)
}()

// Policy decides, from one sample a second, whether lsrd is working or at
// rest. A second is busy when it allocated at least an eighth of the live
// heap (1 MiB at least); two busy seconds in a row start a burst, so a
// single scrape or control API answer does not; three quiet seconds in a
// row end it.
type Policy struct {
	idle        bool
	busy, quiet int
	last        uint64 // cumulative bytes allocated at the previous sample
	primed      bool
}

// Decision is what a sample calls for.
type Decision int

const (
	Stay     Decision = iota
	GoBusy            // raise the collector's target
	GoIdle            // lower it and return freed memory
	minBurst = 1 << 20
)

const (
	busySeconds  = 2
	quietSeconds = 3
)

// step takes the cumulative bytes allocated and the live heap (after the
// last collection), secs seconds after the previous sample, and says what
// to do. A sample of several seconds counts as that many seconds, busy
// when their average is.
func (p *Policy) step(allocs, live uint64, secs int) Decision {
	secs = max(secs, 1)
	if !p.primed {
		p.primed, p.last = true, allocs
		return Stay
	}
	delta := allocs - p.last
	p.last = allocs
	if delta >= max(live/8, minBurst)*uint64(secs) {
		p.busy, p.quiet = p.busy+secs, 0
	} else {
		p.busy, p.quiet = 0, p.quiet+secs
	}
	switch {
	case p.idle && p.busy >= busySeconds:
		p.idle = false
		return GoBusy
	case !p.idle && p.quiet >= quietSeconds:
		p.idle = true
		return GoIdle
	}
	return Stay
}

// Stats is what the tuner has done, for metrics.
type Stats struct {
	GCPercent int    // the collector's target now
	Idle      bool   // at rest
	Returns   uint64 // times freed memory was returned after a burst
	Returned  uint64 // bytes the runtime gave back at those times
}

// Tuner applies a Config and the Policy's decisions to the runtime.
type Tuner struct {
	log *slog.Logger

	mu     sync.Mutex
	cfg    Config
	policy Policy
	stats  Stats
}

// New applies cfg at once (lsrd starts busy: it reads its kernel and
// forms its sessions) and returns the tuner to Run.
func New(cfg Config, log *slog.Logger) *Tuner {
	t := &Tuner{log: log}
	t.Set(cfg)
	return t
}

// Set applies a new configuration (at start and on reload).
func (t *Tuner) Set(cfg Config) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cfg.BusyPercent <= 0 {
		cfg.BusyPercent = startPercent
	}
	cfg.IdlePercent = min(max(cfg.IdlePercent, 1), cfg.BusyPercent)
	if cfg.Limit <= 0 {
		cfg.Limit = startLimit
	}
	t.cfg = cfg
	debug.SetMemoryLimit(cfg.Limit)
	t.setPercent(t.percent())
}

func (t *Tuner) percent() int {
	if t.policy.idle {
		return t.cfg.IdlePercent
	}
	return t.cfg.BusyPercent
}

func (t *Tuner) setPercent(p int) {
	debug.SetGCPercent(p)
	t.stats.GCPercent, t.stats.Idle = p, t.policy.idle
}

// Stats reads what the tuner has done.
func (t *Tuner) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

var samples = []metrics.Sample{
	{Name: "/gc/heap/allocs:bytes"},
	{Name: "/gc/heap/live:bytes"},
	{Name: "/memory/classes/heap/released:bytes"},
}

func read() (allocs, live, released uint64) {
	s := make([]metrics.Sample, len(samples))
	copy(s, samples)
	metrics.Read(s)
	get := func(i int) uint64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s[i].Value.Uint64()
	}
	return get(0), get(1), get(2)
}

// idleEvery spaces the samples at rest: a router at rest woke each second
// for them alone. A burst still raises the target within idleEvery (one
// such sample whose average is busy counts its seconds).
const idleEvery = 4 * time.Second

// Run samples the runtime until ctx ends: once a second while working,
// every idleEvery at rest.
func (t *Tuner) Run(ctx context.Context) {
	every := time.Second
	tick := time.NewTimer(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			every = t.sample(int(every / time.Second))
			tick.Reset(every)
		}
	}
}

// sample takes one sample secs after the previous one and returns when
// the next is due.
func (t *Tuner) sample(secs int) time.Duration {
	allocs, live, _ := read()
	t.mu.Lock()
	d := t.policy.step(allocs, live, secs)
	next := time.Second
	if t.policy.idle && t.policy.busy == 0 {
		next = idleEvery
	}
	switch d {
	case GoBusy:
		t.setPercent(t.cfg.BusyPercent)
		t.log.Debug("memory: work started, collector target raised", "gc_percent", t.cfg.BusyPercent)
	case GoIdle:
		t.setPercent(t.cfg.IdlePercent)
	}
	t.mu.Unlock()
	if d != GoIdle {
		return next
	}
	// Outside the lock: a full collection and the return of every free
	// page take a moment, and Stats must not wait for them.
	_, _, before := read()
	debug.FreeOSMemory()
	_, live, after := read()
	var returned uint64
	if after > before {
		returned = after - before
	}
	t.mu.Lock()
	t.stats.Returns++
	t.stats.Returned += returned
	t.mu.Unlock()
	t.log.Debug("memory: work settled, freed memory returned", "gc_percent", t.cfg.IdlePercent,
		"live_mb", live>>20, "returned_mb", returned>>20)
	return next
}
