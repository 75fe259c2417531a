//go:build lab

package netlinkfib

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/lab/topo"
)

// recorder is an Observer that remembers what it was told.
type recorder struct {
	mu      sync.Mutex
	ops     map[string]int // "kind result"
	slowest time.Duration
	zero    int // operations reported without a latency
	resyncs int
	errs    map[string]int
	// passes by kind
	scoped, full int
	// rides by how they moved
	inPlace, perRoute int
}

func newRecorder() *recorder { return &recorder{ops: map[string]int{}, errs: map[string]int{}} }

func (r *recorder) Operation(kind, result string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops[kind+" "+result]++
	r.slowest = max(r.slowest, d)
	if d <= 0 {
		r.zero++
	}
}

func (r *recorder) Resync() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.resyncs++
}

func (r *recorder) Pass(scoped bool, _ int, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if scoped {
		r.scoped++
	} else {
		r.full++
	}
}

func (r *recorder) Rides(inPlace, perRoute int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inPlace += inPlace
	r.perRoute += perRoute
}

func (r *recorder) Error(kind string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs[kind]++
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops, r.errs = map[string]int{}, map[string]int{}
	r.slowest, r.zero, r.resyncs, r.scoped, r.full = 0, 0, 0, 0, 0
}

// The observer sees every kernel request with its kind, result and a real
// latency, every full re-read, and every item that failed: refused by the
// real kernel (a label beyond net.mpls.platform_labels) or unresolvable (a
// next hop on an interface that does not exist).
func TestObserver(t *testing.T) {
	lab := topo.New(t)
	r1, r2 := lab.Router("r1"), lab.Router("r2")
	a, _ := lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	r1.EnableMPLS(a)
	rec := newRecorder()
	f := newFIB(t, r1, WithObserver(rec))

	tab := fib.NewTable()
	tab.LFIB[100] = lfib(100, nh("10.0.0.2", a, 200))
	tab.LFIB[101] = lfib(101, nh("10.0.0.2", a))
	tab.FTN[ftn("192.0.2.0/24").Prefix] = ftn("192.0.2.0/24", nh("10.0.0.2", a, 300))
	apply(t, f, tab)
	if rec.ops["label_add ok"] != 2 || rec.ops["nexthop_add ok"] != 1 || rec.ops["route_add ok"] != 1 || len(rec.ops) != 3 {
		t.Errorf("first table: operations %v, want label_add ok 2, nexthop_add ok 1, route_add ok 1", rec.ops)
	}
	if rec.zero > 0 || rec.slowest <= 0 {
		t.Errorf("first table: %d operations without a latency, slowest %v", rec.zero, rec.slowest)
	}
	if rec.resyncs != 1 || len(rec.errs) != 0 {
		t.Errorf("first table: %d resyncs (want 1: the first pass reads the kernel), errors %v", rec.resyncs, rec.errs)
	}

	// The same table again: nothing to send, nothing re-read.
	rec.reset()
	apply(t, f, tab)
	if len(rec.ops) != 0 || rec.resyncs != 0 {
		t.Errorf("unchanged table: operations %v, resyncs %d; want none", rec.ops, rec.resyncs)
	}

	// Two items that cannot be programmed; the rest of the table stays.
	rec.reset()
	bad := fib.NewTable()
	bad.LFIB[100] = tab.LFIB[100]
	bad.LFIB[101] = tab.LFIB[101]
	bad.LFIB[topo.DefaultPlatformLabels+5] = lfib(topo.DefaultPlatformLabels+5, nh("10.0.0.2", a, 200))
	bad.LFIB[102] = lfib(102, nh("10.0.0.2", "nosuchif", 200))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := f.Apply(ctx, bad)
	var es Errors
	if !errors.As(err, &es) || len(es) != 2 {
		t.Fatalf("Apply of a table with two bad items: %v", err)
	}
	if rec.ops["label_add error"] != 1 || rec.errs["refused"] != 1 || rec.errs["resolve"] != 1 {
		t.Errorf("bad items: operations %v, errors %v; want label_add error 1, refused 1, resolve 1", rec.ops, rec.errs)
	}
	// The FTN went, with its nexthop object.
	if rec.ops["route_delete ok"] != 1 || rec.ops["nexthop_delete ok"] != 1 {
		t.Errorf("bad items: operations %v, want route_delete ok 1 and nexthop_delete ok 1", rec.ops)
	}

	// A failed pass leaves the cache stale: the next one re-reads.
	rec.reset()
	f.Apply(ctx, bad)
	if rec.resyncs != 1 {
		t.Errorf("pass after a failure: %d resyncs, want 1", rec.resyncs)
	}

	// An entry that cannot be resolved never reached the kernel: the
	// cache stays trusted, and the passes after it re-read nothing.
	delete(bad.LFIB, topo.DefaultPlatformLabels+5)
	f.Apply(ctx, bad) // re-reads once more, after the refusal above
	rec.reset()
	if err := f.Apply(ctx, bad); !errors.As(err, &es) || len(es) != 1 || es[0].Op != "resolve" {
		t.Fatalf("Apply of a table with one unresolvable item: %v", err)
	}
	if rec.resyncs != 0 {
		t.Errorf("pass after an unresolvable item alone: %d resyncs, want 0", rec.resyncs)
	}
}
