//go:build lab

package netlinkfib

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/lab/topo"
)

// chain builds r1 - r2 - r3 with r3 owning 3.3.3.3 and plain IP routes back
// to r1's loopback, MPLS input on r2 and r3.
func chain(t *testing.T) (r1, r2, r3 *topo.Router, r1r2, r2r1, r2r3, r3r2 string) {
	lab := topo.New(t)
	r1, r2, r3 = lab.Router("r1"), lab.Router("r2"), lab.Router("r3")
	r1r2, r2r1 = lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	r2r3, r3r2 = lab.Link(r2, r3, "10.0.1.1/30", "10.0.1.2/30")
	r1.AddLoopback("1.1.1.1/32")
	r3.AddLoopback("3.3.3.3/32")
	r1.EnableMPLS(r1r2)
	r2.EnableMPLS(r2r1, r2r3)
	r3.EnableMPLS(r3r2, "lo")
	r2.Run("sysctl", "-qw", "net.ipv4.ip_forward=1")
	r2.Run("ip", "route", "add", "1.1.1.1/32", "via", "10.0.0.1")
	r3.Run("ip", "route", "add", "1.1.1.1/32", "via", "10.0.1.1")
	return
}

// 100 prefixes behind one labelled next hop share one nexthop object; a
// ping to r3 travels as label 1000 to r2, which swaps to 2000; relabelling
// the LSP is one nexthop replace.
func TestFTNSharedNexthopAndTraffic(t *testing.T) {
	r1, r2, r3, r1r2, r2r1, r2r3, r3r2 := chain(t)
	f1, f2, f3 := newFIB(t, r1), newFIB(t, r2), newFIB(t, r3)

	ftnTable := func(label fib.Label) *fib.Table {
		tab := fib.NewTable()
		e := ftn("3.3.3.3/32", nh("10.0.0.2", r1r2, label))
		tab.FTN[e.Prefix] = e
		for i := range 99 {
			e := ftn(fmt.Sprintf("198.18.%d.0/24", i), nh("10.0.0.2", r1r2, label))
			tab.FTN[e.Prefix] = e
		}
		return tab
	}
	swap := fib.NewTable()
	swap.LFIB[1000] = lfib(1000, nh("10.0.1.2", r2r3, 2000))
	swap.LFIB[1001] = lfib(1001, nh("10.0.1.2", r2r3, 2000))
	apply(t, f2, swap)
	// r3 terminates 2000: pop and deliver through lo.
	term := fib.NewTable()
	term.LFIB[2000] = fib.LFIBEntry{InLabel: 2000, NextHops: []fib.NextHop{{Ifname: "lo"}}}
	apply(t, f3, term)
	apply(t, f1, ftnTable(1000))

	nhs := r1.Run("ip", "nexthop", "show")
	t.Logf("r1: ip nexthop show:\n%s", nhs)
	if n := strings.Count(strings.TrimSpace(nhs), "\n") + 1; n != 1 || !strings.Contains(nhs, "encap mpls  1000 via 10.0.0.2 dev "+r1r2) || !strings.Contains(nhs, "proto 234") {
		t.Fatalf("want one nexthop object pushing 1000, got %d:\n%s", n, nhs)
	}
	id := regexp.MustCompile(`^id (\d+) `).FindStringSubmatch(nhs)[1]
	routes := r1.Run("ip", "route", "show", "proto", "234")
	if n := strings.Count(routes, "nhid "+id+" "); n != 100 {
		t.Fatalf("want 100 routes through nhid %s, got %d:\n%s", id, n, routes)
	}

	ping := func(inLabel fib.Label) {
		t.Helper()
		in := r2.StartCapture(r2r1, fmt.Sprintf("mpls %d and icmp", inLabel), 3)
		out := r3.StartCapture(r3r2, "mpls 2000 and icmp", 3)
		if o, err := r1.Try("ping", "-c", "3", "-i", "0.2", "-W", "2", "-I", "1.1.1.1", "3.3.3.3"); err != nil {
			t.Fatalf("ping 3.3.3.3 through the LSP: %v", err)
		} else {
			t.Logf("ping:\n%s", o)
		}
		for _, c := range []*topo.Capture{in, out} {
			pkts, err := c.Wait(10 * time.Second)
			if err != nil {
				t.Fatalf("capture: %v", err)
			}
			t.Logf("captured:\n%s", strings.Join(pkts, "\n"))
		}
	}
	ping(1000)

	// Relabel: one replace of the shared object, same ID, no route touched.
	apply(t, f1, ftnTable(1001))
	if st := f1.Status(); st.LastPassRequests != 1 || st.Nexthops != 1 || st.Prefixes != 100 {
		t.Errorf("relabel: %+v, want one request, one nexthop, 100 prefixes", st)
	}
	nhs = r1.Run("ip", "nexthop", "show")
	if !regexp.MustCompile(`^id `+id+` +encap mpls +1001 `).MatchString(nhs) || strings.Count(strings.TrimSpace(nhs), "\n") != 0 {
		t.Errorf("after relabel:\n%s", nhs)
	}
	ping(1001)

	// Unchanged desired state: nothing sent.
	apply(t, f1, ftnTable(1001))
	if st := f1.Status(); st.LastPassRequests != 0 {
		t.Errorf("same table again sent %d requests", st.LastPassRequests)
	}
}

// ECMP over two labelled next hops: one group of two shared objects.
func TestFTNECMPGroup(t *testing.T) {
	lab := topo.New(t)
	r1, r2, r3 := lab.Router("r1"), lab.Router("r2"), lab.Router("r3")
	a, _ := lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	b, _ := lab.Link(r1, r3, "10.0.1.1/30", "10.0.1.2/30")
	f := newFIB(t, r1)
	tab := fib.NewTable()
	for i := range 10 {
		e := ftn(fmt.Sprintf("198.18.%d.0/24", i), nh("10.0.0.2", a, 500), nh("10.0.1.2", b, 600))
		tab.FTN[e.Prefix] = e
	}
	apply(t, f, tab)
	nhs := r1.Run("ip", "nexthop", "show")
	t.Logf("ip nexthop show:\n%s", nhs)
	if strings.Count(nhs, "encap mpls") != 2 || strings.Count(nhs, " group ") != 1 {
		t.Errorf("want two labelled objects and one group:\n%s", nhs)
	}
	// One leg relabelled: one replace; the group stays.
	for p, e := range tab.FTN {
		tab.FTN[p] = ftn(p.String(), e.NextHops[0], nh("10.0.1.2", b, 601))
	}
	apply(t, f, tab)
	if st := f.Status(); st.LastPassRequests != 1 || st.Groups != 1 || st.Nexthops != 2 {
		t.Errorf("relabel one leg: %+v", st)
	}
	// Down to one leg: routes move to the single object; group and the
	// other object are collected.
	for p, e := range tab.FTN {
		tab.FTN[p] = ftn(p.String(), e.NextHops[0])
	}
	apply(t, f, tab)
	nhs = r1.Run("ip", "nexthop", "show")
	if st := f.Status(); st.Groups != 0 || st.Nexthops != 1 || strings.Count(strings.TrimSpace(nhs), "\n") != 0 {
		t.Errorf("one leg left: %+v\n%s", st, nhs)
	}
}
