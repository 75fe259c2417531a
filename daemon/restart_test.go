package daemon

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/bgp"
	"github.com/lsrd/lsrd/config"
	"github.com/lsrd/lsrd/ldp"
	"github.com/lsrd/lsrd/ldp/wire"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// The sweep waits for every input, and for none once the timer runs out.
func TestRestartCheck(t *testing.T) {
	ldpDone, bgpDone := false, false
	r := &restart{start: t0, deadline: t0.Add(120 * time.Second), inputs: []restartInput{
		{name: "kernel", converged: func(time.Time) (bool, string) { return true, "" }},
		{name: "ldp", converged: func(time.Time) (bool, string) { return ldpDone, "End-of-LIB from 1.1.1.1" }},
		{name: "bgp", converged: func(time.Time) (bool, string) { return bgpDone, "session with 10.0.0.2 active" }},
	}}
	if why := r.check(t0.Add(time.Second)); why != "" {
		t.Fatalf("swept with LDP and BGP waiting: %q", why)
	}
	if r.waiting != "ldp: End-of-LIB from 1.1.1.1; bgp: session with 10.0.0.2 active" {
		t.Errorf("waiting %q", r.waiting)
	}
	ldpDone = true
	if why := r.check(t0.Add(2 * time.Second)); why != "" {
		t.Fatalf("swept with BGP waiting: %q", why)
	}
	bgpDone = true
	if why := r.check(t0.Add(3 * time.Second)); why != "converged: kernel, ldp, bgp" {
		t.Errorf("all done: %q", why)
	}
	bgpDone = false
	if why := r.check(t0.Add(120 * time.Second)); !strings.HasPrefix(why, "recovery timer (2m0s) expired, still waiting for bgp") {
		t.Errorf("timer: %q", why)
	}
}

func ldpConfig(t *testing.T, extra string) *config.Config {
	t.Helper()
	c, err := config.Parse("test.yaml", []byte("router-id: 2.2.2.2\nldp:\n  interfaces:\n    - name: eth0\n"+extra))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEndOfLIBRecovery(t *testing.T) {
	r1, r3 := netip.MustParseAddr("1.1.1.1"), netip.MustParseAddr("3.3.3.3")
	rule := endOfLIBRecovery(ldpConfig(t, ""))
	view := func(ns ...ldp.NeighborInfo) *ldpView { return &ldpView{Neighbors: ns} }
	op := func(id netip.Addr, since time.Time) ldp.NeighborInfo {
		return ldp.NeighborInfo{LSRID: id, Transport: id, State: "OPERATIONAL", Since: since}
	}

	// Neighbours are not expected before a hello hold time.
	if done, why := rule(view(), t0, t0.Add(14*time.Second)); done || !strings.Contains(why, "hello hold") {
		t.Errorf("at 14s: %v %q", done, why)
	}
	// Nobody came back: done after the hold time.
	if done, _ := rule(view(), t0, t0.Add(15*time.Second)); !done {
		t.Error("no neighbour after the hold time: not done")
	}
	// A session not up yet is waited for.
	v := view(op(r1, t0.Add(14*time.Second)), ldp.NeighborInfo{LSRID: r3, Transport: r3, State: "OPENSENT"})
	if done, why := rule(v, t0, t0.Add(16*time.Second)); done || why != "End-of-LIB from 1.1.1.1, session with 3.3.3.3 OPENSENT" {
		t.Errorf("r3 opening: %v %q", done, why)
	}
	// End-of-LIB from r1; r3 up but silent, until it has been up ldpSettle.
	v = view(op(r1, t0.Add(14*time.Second)), op(r3, t0.Add(15*time.Second)))
	v.Counters.Peers = []ldp.PeerCounters{{LSRID: r1, NotificationsReceived: map[wire.StatusCode]uint64{wire.StatusEndOfLIB: 1}}}
	if done, why := rule(v, t0, t0.Add(16*time.Second)); done || why != "End-of-LIB from 3.3.3.3" {
		t.Errorf("r3 without End-of-LIB: %v %q", done, why)
	}
	if done, why := rule(v, t0, t0.Add(20*time.Second)); !done {
		t.Errorf("r3 up for 5s: %v %q", done, why)
	}

	// A configured targeted neighbour is waited for until it is known.
	rule = endOfLIBRecovery(ldpConfig(t, "  targeted-neighbors:\n    - address: 4.4.4.4\n"))
	if done, why := rule(v, t0, t0.Add(20*time.Second)); done || why != "targeted neighbour 4.4.4.4" {
		t.Errorf("targeted missing: %v %q", done, why)
	}

	// Without LDP there is nothing to wait for.
	c, err := config.Parse("test.yaml", []byte("router-id: 2.2.2.2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if done, _ := endOfLIBRecovery(c)(view(), t0, t0); !done {
		t.Error("no LDP configured: not done")
	}
}

func TestBGPRecovery(t *testing.T) {
	a, b := netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.3")
	var r bgpRecovery
	applied := bgpApplied{endOfRIB: map[netip.Addr]map[string]bool{}}
	ns := []bgp.NeighborInfo{{Address: a, State: "established", EndOfRIB: true, Uptime: time.Second,
		Families: []string{bgp.FamilyIPv4Unicast, bgp.FamilyIPv4LabeledUnicast}}, {Address: b, State: "active"}}
	// GoBGP has a's End-of-RIB, the parent has not applied it yet: the
	// routes before it may still be on their way.
	if done, why := r.converged(ns, applied, t0, t0.Add(60*time.Second)); done ||
		why != "the routes before 10.0.0.2's End-of-RIB (ipv4-unicast) to reach the RIB, the routes before 10.0.0.2's End-of-RIB (ipv4-labeled-unicast) to reach the RIB" {
		t.Errorf("a's marker not applied: %v %q", done, why)
	}
	applied.endOfRIB[a] = map[string]bool{bgp.FamilyIPv4Unicast: true}
	if done, why := r.converged(ns, applied, t0, t0.Add(60*time.Second)); done ||
		why != "the routes before 10.0.0.2's End-of-RIB (ipv4-labeled-unicast) to reach the RIB" {
		t.Errorf("one family applied: %v %q", done, why)
	}
	applied.endOfRIB[a][bgp.FamilyIPv4LabeledUnicast] = true
	if done, why := r.converged(ns, applied, t0, t0.Add(10*time.Second)); done || why != "session with 10.0.0.3 active" {
		t.Errorf("b down: %v %q", done, why)
	}
	if done, why := r.converged(ns, applied, t0, t0.Add(60*time.Second)); !done {
		t.Errorf("b still down after bgpSessionWait: %v %q", done, why)
	}
	// a's session goes down: its marker is forgotten, the next session
	// must bring its own.
	ns[0].State = "active"
	r.converged(ns, applied, t0, t0.Add(61*time.Second))
	if len(applied.endOfRIB[a]) != 0 {
		t.Errorf("a went down, its markers kept: %v", applied.endOfRIB[a])
	}

	// Without End-of-RIB: up for bgpSettle, the count still, and nothing
	// applied for bgpQuiet.
	ns = []bgp.NeighborInfo{{Address: b, State: "established", Uptime: 5 * time.Second, Accepted: 10}}
	if done, why := r.converged(ns, applied, t0, t0.Add(20*time.Second)); done || why != "End-of-RIB from 10.0.0.3" {
		t.Errorf("b up 5s: %v %q", done, why)
	}
	ns[0].Uptime, ns[0].Accepted = 11*time.Second, 20
	if done, why := r.converged(ns, applied, t0, t0.Add(21*time.Second)); done || why != "routes from 10.0.0.3 to settle" {
		t.Errorf("b still receiving: %v %q", done, why)
	}
	applied.last = t0.Add(21 * time.Second)
	if done, why := r.converged(ns, applied, t0, t0.Add(22*time.Second)); done || why != "routes from 10.0.0.3 to reach the RIB" {
		t.Errorf("b's routes still being applied: %v %q", done, why)
	}
	if done, why := r.converged(ns, applied, t0, t0.Add(23*time.Second)); !done {
		t.Errorf("b settled: %v %q", done, why)
	}
}
