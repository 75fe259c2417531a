package netlinkfib

import (
	"context"
	"time"
)

// Run reconciles until ctx ends: after every Set, after a kernel
// notification that something of lsrd's changed behind its back (live
// repair), every resync interval, and after a failed pass with exponential
// backoff. Every pass compares the desired table with the kernel, so a
// retry is a fresh attempt, not a replay. Run owns the goroutine that
// watches the kernel and stops it before returning; it returns ctx's error.
func (f *FIB) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	defer func() { cancel(); <-stopped }()
	go func() {
		defer close(stopped)
		f.watch(ctx)
	}()
	return f.loop(ctx)
}

func (f *FIB) loop(ctx context.Context) error {
	var resync <-chan time.Time
	if f.resyncInterval > 0 {
		t := time.NewTicker(f.resyncInterval)
		defer t.Stop()
		resync = t.C
	}
	retry := time.NewTimer(0) // a first pass at once: adopt what a previous run left
	defer retry.Stop()
	delay := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-f.kick:
		case <-retry.C:
		case <-resync:
			f.mu.Lock()
			f.stale = true
			f.mu.Unlock()
		}
		f.mu.Lock()
		err := f.reconcile(ctx)
		f.mu.Unlock()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			delay = 0
			continue
		}
		delay = min(max(2*delay, f.backoffMin), f.backoffMax)
		f.log.Warn("netlinkfib: pass failed, retrying", "in", delay, "err", err)
		retry.Reset(delay)
	}
}
