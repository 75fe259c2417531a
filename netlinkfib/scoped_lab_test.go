//go:build lab

package netlinkfib

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/lab/topo"
)

// update hands f what changed (a whole table when d is nil), as the daemon
// does, and runs the pass Run would.
func update(t *testing.T, f *FIB, tab *fib.Table, d *fib.Delta) Status {
	t.Helper()
	if d == nil {
		f.Set(tab)
	} else {
		f.Change(d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	f.mu.Lock()
	err := f.reconcile(ctx)
	f.mu.Unlock()
	if err != nil {
		t.Fatalf("pass: %v", err)
	}
	return f.Status()
}

// verify re-reads the kernel in a full pass: it must find nothing to do.
func verify(t *testing.T, f *FIB, what string) {
	t.Helper()
	if err := f.Resync(context.Background()); err != nil {
		t.Fatalf("%s: resync: %v", what, err)
	}
	if st := f.Status(); st.LastPassRequests != 0 || st.LastPassScoped {
		t.Fatalf("%s: the full pass over a re-read kernel still sent %d requests (scoped %v): the scoped pass left it wrong",
			what, st.LastPassRequests, st.LastPassScoped)
	}
}

// Scoped passes on the real kernel: after a full first pass, a producer
// that names what changed gets passes that look at that alone, and leave
// the kernel exactly where a full pass over a fresh read finds nothing to
// do. Relabelling the LSP of 1,000 prefixes is one request; a change
// behind lsrd's back makes the next pass a full one, which repairs it.
func TestScopedPassesOnKernel(t *testing.T) {
	lab := topo.New(t)
	r1, r2, r3 := lab.Router("r1"), lab.Router("r2"), lab.Router("r3")
	a, b := lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	c, _ := lab.Link(r1, r3, "10.0.1.1/30", "10.0.1.2/30")
	r1.EnableMPLS(a, c)
	r2.EnableMPLS(b)
	f := newFIB(t, r1)

	tab := fib.NewTable()
	for i := range 1000 {
		e := ftn(fmt.Sprintf("198.18.%d.%d/32", i/256, i%256), nh("10.0.0.2", a, 1000))
		tab.FTN[e.Prefix] = e
	}
	for l := range fib.Label(20) {
		tab.LFIB[100+l] = lfib(100+l, nh("10.0.0.2", a, 2000+l))
	}
	if st := update(t, f, &fib.Table{FTN: maps.Clone(tab.FTN), LFIB: maps.Clone(tab.LFIB)}, nil); st.LastPassScoped || st.Prefixes != 1000 || st.Labels != 20 {
		t.Fatalf("first pass: %+v, want a full one with 1000 prefixes and 20 labels", st)
	}

	// A mixed change: ten prefixes to another LSP, five gone, five new,
	// two to ECMP, one label swapped elsewhere, one gone, one new.
	ch := &fib.Delta{LFIB: map[fib.Label]*fib.LFIBEntry{}, FTN: map[netip.Prefix]*fib.FTNEntry{}}
	set := func(p string, hops ...fib.NextHop) {
		e := ftn(p, hops...)
		ch.FTN[e.Prefix] = &e
	}
	for i := range 10 {
		set(fmt.Sprintf("198.18.0.%d/32", i), nh("10.0.1.2", c, 3000))
	}
	for i := range 5 {
		ch.FTN[netip.MustParsePrefix(fmt.Sprintf("198.18.1.%d/32", i))] = nil
		set(fmt.Sprintf("198.19.0.%d/32", i), nh("10.0.0.2", a, 1000))
	}
	set("198.18.2.0/32", nh("10.0.0.2", a, 1000), nh("10.0.1.2", c, 3000))
	set("198.18.2.1/32", nh("10.0.0.2", a, 1000), nh("10.0.1.2", c, 3000))
	l100, l200 := lfib(100, nh("10.0.1.2", c, 4000)), lfib(200, nh("10.0.0.2", a, 4001))
	ch.LFIB[100], ch.LFIB[101], ch.LFIB[200] = &l100, nil, &l200
	tab.Apply(ch)
	st := update(t, f, nil, ch)
	t.Logf("mixed change: %+v", st)
	if !st.LastPassScoped || st.Prefixes != 1000 || st.Labels != 20 {
		t.Errorf("mixed change: %+v, want a scoped pass leaving 1000 prefixes and 20 labels", st)
	}
	if st.LastPassRequests > 30 {
		t.Errorf("mixed change: %d requests for 25 changed entries", st.LastPassRequests)
	}
	if out := r1.Run("ip", "nexthop", "show"); !strings.Contains(out, " group ") {
		t.Errorf("no group for the ECMP prefixes:\n%s", out)
	}
	verify(t, f, "mixed change")

	// The LSP most prefixes share is relabelled: one request.
	ch = &fib.Delta{FTN: map[netip.Prefix]*fib.FTNEntry{}}
	// Every use of 1000, the ECMP legs too (its object is a member of
	// their group): the object is relabelled, the group stays.
	for p, e := range tab.FTN {
		hops := slices.Clone(e.NextHops)
		moved := false
		for i, h := range hops {
			if h.Labels[0] == 1000 {
				hops[i] = nh("10.0.0.2", a, 1001)
				moved = true
			}
		}
		if moved {
			set(p.String(), hops...)
		}
	}
	tab.Apply(ch)
	st = update(t, f, nil, ch)
	t.Logf("relabel: %+v", st)
	if !st.LastPassScoped || st.LastPassRequests != 1 {
		t.Errorf("relabel of %d prefixes: %+v, want one request in a scoped pass", ch.Len(), st)
	}
	if out := r1.Run("ip", "nexthop", "show"); !strings.Contains(out, "encap mpls  1001 ") || strings.Contains(out, "encap mpls  1000 ") {
		t.Errorf("after the relabel:\n%s", out)
	}
	verify(t, f, "relabel")

	// Behind lsrd's back: a route deleted by hand. The watcher marks the
	// cache stale, so the next pass is a full one and puts it back.
	go f.watch(t.Context())
	time.Sleep(500 * time.Millisecond) // the watcher subscribes
	r1.Run("ip", "route", "del", "198.18.3.0/32")
	topo.Eventually(t, 10*time.Second, "the watcher sees the deletion", func() error {
		if !f.dirty.Load() {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	st = update(t, f, nil, &fib.Delta{})
	if st.LastPassScoped || st.LastPassRequests != 1 {
		t.Errorf("after a change behind lsrd's back: %+v, want a full pass that re-adds one route", st)
	}
	if out := r1.Run("ip", "route", "show", "198.18.3.0/32"); !strings.Contains(out, "proto 234") {
		t.Errorf("the deleted route is not back: %q", out)
	}
}
