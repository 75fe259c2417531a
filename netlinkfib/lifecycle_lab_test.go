//go:build lab

package netlinkfib

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/lab/topo"
)

// Foreign routes and nexthops survive every operation; a second instance
// adopts the first one's objects without duplicates, keeps what is not
// desired until the sweep and removes it then; Flush removes everything of
// lsrd's and nothing else.
func TestOwnershipRestartFlush(t *testing.T) {
	lab := topo.New(t)
	r1, r2 := lab.Router("r1"), lab.Router("r2")
	a, _ := lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	r1.EnableMPLS(a)
	r1.Run("ip", "-f", "mpls", "route", "add", "500", "as", "600", "via", "inet", "10.0.0.2", "dev", a, "proto", "static")
	r1.Run("ip", "route", "add", "198.51.100.0/24", "via", "10.0.0.2", "proto", "static")
	r1.Run("ip", "nexthop", "add", "id", "7", "via", "10.0.0.2", "dev", a)
	foreign := func(when string) {
		t.Helper()
		if out := r1.Run("ip", "-f", "mpls", "route", "show", "500"); !strings.Contains(out, "as to 600") || !strings.Contains(out, "proto static") {
			t.Errorf("%s: foreign label 500: %q", when, out)
		}
		if out := r1.Run("ip", "route", "show", "198.51.100.0/24"); !strings.Contains(out, "proto static") {
			t.Errorf("%s: foreign route: %q", when, out)
		}
		if out := r1.Run("ip", "nexthop", "show", "id", "7"); !strings.Contains(out, "via 10.0.0.2") {
			t.Errorf("%s: foreign nexthop 7: %q", when, out)
		}
	}
	table := func(labels []fib.Label, prefixes int, pushed fib.Label) *fib.Table {
		tab := fib.NewTable()
		for _, l := range labels {
			tab.LFIB[l] = lfib(l, nh("10.0.0.2", a, l+1000))
		}
		for i := range prefixes {
			e := ftn(fmt.Sprintf("203.0.%d.0/24", i), nh("10.0.0.2", a, pushed))
			tab.FTN[e.Prefix] = e
		}
		return tab
	}

	f1 := newFIB(t, r1)
	apply(t, f1, table([]fib.Label{100, 101, 102}, 5, 300))
	foreign("first apply")

	// A desired label held by another protocol is reported, not taken.
	conflict := table([]fib.Label{100, 500}, 5, 300)
	err := f1.Apply(context.Background(), conflict)
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || es[0].Item != "label 500" || es[0].Op != "conflict" {
		t.Errorf("conflicting label 500: %v", err)
	}
	foreign("conflict")
	apply(t, f1, table([]fib.Label{100, 101, 102}, 5, 300))
	f1.Close()

	// Restart: a new instance adopts the first one's objects and keeps
	// them, stale, until the sweep: a smaller table with one change
	// replaces what it wants and deletes nothing.
	f2 := newFIB(t, r1)
	adopted, err := f2.Adopt(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if adopted != (Adopted{Labels: 3, Prefixes: 5, Nexthops: 1}) {
		t.Errorf("adopted %+v, want 3 label routes, 5 prefixes, 1 nexthop object", adopted)
	}
	smaller := table([]fib.Label{100, 102}, 3, 301)
	apply(t, f2, smaller)
	mpls := r1.Run("ip", "-f", "mpls", "route", "show", "proto", "234")
	if strings.Count(mpls, "\n") != 3 || !strings.Contains(mpls, "101 ") {
		t.Errorf("before the sweep, want label 101 kept:\n%s", mpls)
	}
	if out := r1.Run("ip", "route", "show", "proto", "234"); strings.Count(out, "\n") != 5 {
		t.Errorf("before the sweep, want all 5 routes kept:\n%s", out)
	}
	if st := f2.Status(); !st.AwaitingSweep || st.StaleRoutes != 3 {
		t.Errorf("before the sweep: %+v, want 3 stale routes (label 101, two prefixes)", st)
	}
	// The two prefixes nothing wants still use the object, so the wanted
	// stack got one of its own.
	if nhs := ldpNexthops(r1.Run("ip", "nexthop", "show")); strings.Count(strings.TrimSpace(nhs), "\n") != 1 || !strings.Contains(nhs, "encap mpls  300") {
		t.Errorf("before the sweep, want the adopted object untouched beside a new one:\n%s", nhs)
	}
	f2.SweepStale("test")
	apply(t, f2, smaller)
	mpls = r1.Run("ip", "-f", "mpls", "route", "show", "proto", "234")
	if strings.Count(mpls, "\n") != 2 || strings.Contains(mpls, "101 ") {
		t.Errorf("after restart, label routes:\n%s", mpls)
	}
	nhs := ldpNexthops(r1.Run("ip", "nexthop", "show"))
	if strings.Count(strings.TrimSpace(nhs), "\n") != 0 || !strings.Contains(nhs, "encap mpls  301") {
		t.Errorf("after the sweep, want one object, with 301:\n%s", nhs)
	}
	if out := r1.Run("ip", "route", "show", "proto", "234"); strings.Count(out, "\n") != 3 {
		t.Errorf("after restart, routes:\n%s", out)
	}
	if st := f2.Status(); st.Labels != 2 || st.Prefixes != 3 || st.Nexthops != 1 || st.AwaitingSweep || st.StaleRoutes != 0 {
		t.Errorf("after the sweep: %+v", st)
	}
	foreign("restart")

	// Flush takes a previous run's routes too, before any sweep (a clean
	// stop without keep-routes-on-shutdown soon after a restart).
	f2.Close()
	f3 := newFIB(t, r1)
	if adopted, err := f3.Adopt(context.Background()); err != nil || adopted.Routes() != 5 {
		t.Errorf("third instance adopted %+v (%v), want 5 routes", adopted, err)
	}
	if err := f3.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{
		{"ip", "-f", "mpls", "route", "show", "proto", "234"},
		{"ip", "route", "show", "proto", "234"},
	} {
		if out := r1.Run(cmd...); strings.TrimSpace(out) != "" {
			t.Errorf("after Flush, %s:\n%s", strings.Join(cmd, " "), out)
		}
	}
	if out := ldpNexthops(r1.Run("ip", "nexthop", "show")); out != "" {
		t.Errorf("after Flush, nexthops:\n%s", out)
	}
	foreign("flush")
}

// ldpNexthops keeps the lines of `ip nexthop show` of lsrd's protocol: this
// iproute2 cannot filter nexthops by protocol name.
func ldpNexthops(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, " proto 234") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// Run repairs what is deleted or changed behind its back.
func TestLiveRepair(t *testing.T) {
	lab := topo.New(t)
	r1, r2 := lab.Router("r1"), lab.Router("r2")
	a, _ := lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	r1.EnableMPLS(a)
	f := newFIB(t, r1, WithResyncInterval(0)) // only notifications may trigger repair
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v", err)
		}
	}()
	tab := fib.NewTable()
	tab.LFIB[100] = lfib(100, nh("10.0.0.2", a, 200))
	e := ftn("203.0.113.0/24", nh("10.0.0.2", a, 300))
	tab.FTN[e.Prefix] = e
	f.Set(tab)
	installed := func() error {
		if out, _ := r1.Try("ip", "-f", "mpls", "route", "show", "100"); !strings.Contains(out, "as to 200") {
			return fmt.Errorf("label 100: %q", out)
		}
		if out, _ := r1.Try("ip", "route", "show", "203.0.113.0/24"); !strings.Contains(out, "nhid") {
			return fmt.Errorf("prefix: %q", out)
		}
		if out, _ := r1.Try("ip", "nexthop", "show"); !strings.Contains(ldpNexthops(out), "encap mpls  300") {
			return fmt.Errorf("nexthop: %q", out)
		}
		return nil
	}
	topo.Eventually(t, 10*time.Second, "Set installs", installed)
	r1.Run("ip", "-f", "mpls", "route", "del", "100")
	topo.Eventually(t, 10*time.Second, "label 100 repaired", installed)
	r1.Run("ip", "-f", "mpls", "route", "replace", "100", "as", "999", "via", "inet", "10.0.0.2", "dev", a, "proto", "234")
	topo.Eventually(t, 10*time.Second, "label 100 changed back", installed)
	r1.Run("ip", "nexthop", "flush") // takes the route with it
	topo.Eventually(t, 10*time.Second, "nexthop and prefix repaired", installed)
	// A link that goes down and comes back: the kernel deletes the
	// nexthop objects on it, and the routes through them, and announces
	// neither; the desired table never changed.
	r1.Run("ip", "link", "set", a, "down")
	r1.Run("ip", "link", "set", a, "up")
	topo.Eventually(t, 10*time.Second, "nexthop and prefix back after a link flap", installed)
}
