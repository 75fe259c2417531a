//go:build lab

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
)

// grConfig is lsrdConfig with LDP graceful restart on, the router's own
// label state file, and its kernel routes kept when it stops.
func grConfig(t *testing.T, id string, ifaces []string, statics ...string) string {
	state := filepath.Join(t.TempDir(), "ldp-labels.json")
	c := lsrdConfig(id, ifaces, statics...)
	c = strings.Replace(c, "ldp:\n", "ldp:\n  graceful-restart:\n    enabled: true\n    state-file: "+state+"\n", 1)
	return c + "kernel:\n  keep-routes-on-shutdown: true\n"
}

// LDP graceful restart (RFC 3478) end to end, with traffic. An lsrd x3
// chain with graceful restart on every router, and IP forwarding off at
// r2: r1 -> 3.3.3.3 and back crosses r2 only labelled (r1 and r3 push
// r2's labels on lsrd's own routes, r2 pops), so a label that goes
// anywhere drops the flow. A 10 ms ping runs through each case:
//
//   - r2 restarted (SIGTERM with keep-routes, then started again): r1 and
//     r3 help (they keep r2's labels, stale), r2 keeps its kernel routes
//     and, from its state file, its labels: no echo lost, no deletion of a
//     route r2 had before and after, the same labels afterwards;
//   - r2 killed with -9 and started again: no echo lost;
//   - r3 restarted while r2 helps: no echo lost.
func TestLDPGracefulRestart(t *testing.T) {
	c := newChain(t)
	c.r2.Run("sysctl", "-qw", "net.ipv4.ip_forward=0")
	l1 := c.r1.StartLSRD(grConfig(t, "1.1.1.1", []string{c.a1}, "2.2.2.2/32 10.1.0.2", "3.3.3.3/32 10.1.0.2"))
	conf3 := grConfig(t, "3.3.3.3", []string{c.b3}, "1.1.1.1/32 10.2.0.2", "2.2.2.2/32 10.2.0.2")
	l3 := c.r3.StartLSRD(conf3)
	conf2 := grConfig(t, "2.2.2.2", []string{c.a2, c.b2}, "1.1.1.1/32 10.1.0.1", "3.3.3.3/32 10.2.0.3")
	l2 := c.r2.StartLSRD(conf2)

	labels := func() (r1Pushes, r3Pushes int, err error) {
		if r1Pushes, err = pushedLabel(c.r1, "3.3.3.3/32"); err != nil {
			return
		}
		r3Pushes, err = pushedLabel(c.r3, "1.1.1.1/32")
		return
	}
	var push1, push3 int
	topo.Eventually(t, 90*time.Second, "r1 and r3 push r2's labels, graceful restart negotiated", func() error {
		var err error
		if push1, err = pushesLabelOf(c.r1, "3.3.3.3/32", l2, "3.3.3.3/32"); err != nil {
			return err
		}
		if push3, err = pushesLabelOf(c.r3, "1.1.1.1/32", l2, "1.1.1.1/32"); err != nil {
			return err
		}
		ns, err := neighbors(l2)
		if err != nil {
			return err
		}
		for _, id := range []string{"1.1.1.1", "3.3.3.3"} {
			if !ns[id].GracefulRestart {
				return fmt.Errorf("r2's session with %s did not negotiate graceful restart", id)
			}
		}
		return nil
	})
	if out, err := c.r1.Try("ping", "-c", "3", "-i", "0.2", "-W", "2", "-I", "1.1.1.1", "3.3.3.3"); err != nil {
		t.Fatalf("1.1.1.1 -> 3.3.3.3 does not pass r2 before any restart: %v\n%s", err, out)
	}
	if out, err := c.r2.Try("sysctl", "-n", "net.ipv4.ip_forward"); err != nil || strings.TrimSpace(out) != "0" {
		t.Fatalf("r2 forwards IP (%q, %v): the flow would not depend on labels", out, err)
	}

	// restart stops the LSR at r with stop, starts it again, waits for its
	// sweep, and returns the ping's figures and r's kernel deletions of
	// objects it had before and after. helper is a neighbour that must be
	// seen helping (stale labels kept) while r is down.
	restart := func(t *testing.T, r *topo.Router, l **topo.LSRD, conf string, stop func(), helper *topo.LSRD, id string) {
		before := kernelKeys(r)
		beforeLabels := ldpLabelLines(r)
		mon := []*topo.Background{r.Background("ip", "-ts", "-f", "mpls", "monitor", "route"),
			r.Background("ip", "-ts", "-4", "monitor", "route"), r.Background("ip", "-ts", "monitor", "nexthop")}
		time.Sleep(300 * time.Millisecond)
		ping := c.r1.Background("ping", "-D", "-O", "-i", "0.01", "-W", "1", "-I", "1.1.1.1", "3.3.3.3")
		time.Sleep(2 * time.Second)
		stop()
		helped := 0
		topo.Eventually(t, 10*time.Second, id+"'s neighbour helping", func() error {
			ns, err := neighbors(helper)
			if err != nil {
				return err
			}
			n := ns[id]
			if n.GRHelper == "" || n.StaleBindings == 0 {
				return fmt.Errorf("neighbour %s: helper state %q, %d stale labels", id, n.GRHelper, n.StaleBindings)
			}
			helped = n.StaleBindings
			return nil
		})
		*l = r.StartLSRD(conf)
		started := time.Now()
		topo.Eventually(t, 3*time.Minute, r.Name+" sweeps after convergence", func() error {
			if _, err := sweepLogged((*l).Log); err != nil {
				return err
			}
			return nil
		})
		swept, sweepLine := sweepTime(t, (*l).Log)
		time.Sleep(2 * time.Second)
		end := time.Now()
		out, _ := ping.Stop()
		var monOut string
		for _, m := range mon {
			o, _ := m.Stop()
			monOut += o
		}
		after := kernelKeys(r)
		var live []string
		for _, d := range deletions(monOut) {
			if before[d.key] && after[d.key] {
				live = append(live, d.line)
			}
		}
		res := parsePing(out)
		lost := res.lostBefore(end)
		t.Logf("%s restarted: neighbour helped with %d stale labels; %s after the start: %s; 10 ms ping %d sent, %d lost; %d deletions of objects %s had before and after",
			r.Name, helped, swept.Sub(started).Round(time.Millisecond), sweepLine, res.sent, lost, len(live), r.Name)
		if res.sent < 500 {
			t.Fatalf("the ping sent only %d echoes:\n%s", res.sent, tail(out))
		}
		if lost > 0 {
			t.Errorf("%d echoes lost across the restart", lost)
		}
		if len(live) > 0 {
			t.Errorf("objects %s had before and after the restart were deleted in between:\n%s", r.Name, strings.Join(live, "\n"))
		}
		if afterLabels := ldpLabelLines(r); !slices.Equal(beforeLabels, afterLabels) {
			t.Errorf("%s's label routes changed across the restart:\nbefore %q\nafter  %q", r.Name, beforeLabels, afterLabels)
		}
		p1, p3, err := labels()
		if err != nil || p1 != push1 || p3 != push3 {
			t.Errorf("after the restart r1 pushes %d and r3 %d (%v), before %d and %d", p1, p3, err, push1, push3)
		}
	}

	t.Run("r2 SIGTERM with keep-routes", func(t *testing.T) {
		restart(t, c.r2, &l2, conf2, func() {
			if err := l2.Stop(); err != nil {
				t.Fatal(err)
			}
		}, l1, "2.2.2.2")
	})
	t.Run("r2 kill -9", func(t *testing.T) {
		restart(t, c.r2, &l2, conf2, l2.Kill, l1, "2.2.2.2")
	})
	t.Run("r3 restarted, r2 helping", func(t *testing.T) {
		restart(t, c.r3, &l3, conf3, func() {
			if err := l3.Stop(); err != nil {
				t.Fatal(err)
			}
		}, l2, "3.3.3.3")
	})
}

// sweepLogged reports whether lsrd's log has the kernel layer's sweep.
func sweepLogged(log string) (bool, error) {
	b, err := os.ReadFile(log)
	if err != nil {
		return false, err
	}
	if !sweepLog.Match(b) {
		return false, fmt.Errorf("no sweep logged yet")
	}
	return true, nil
}

// FRR's ldpd has no graceful restart: lsrd with it on (r2, between FRR r1
// and FRR r3) negotiates none with them and behaves as an LSR without it.
// When FRR on r3 stops, lsrd keeps nothing of r3's, stale or not, and
// drops r3's labels at once; when lsrd restarts with its routes kept, the
// FRR neighbours form their sessions again and learn lsrd's labels as
// they were (the label state file keeps them), and lsrd sweeps.
func TestLDPGracefulRestartWithFRR(t *testing.T) {
	c := newChain(t)
	c.r1.EnableMPLS(c.a1, "lo")
	c.r2.EnableMPLS(c.a2, c.b2, "lo")
	c.r3.EnableMPLS(c.b3, "lo")
	frr1 := topo.FRRConfig{RouterID: "1.1.1.1", Static: []string{"2.2.2.2/32 10.1.0.2", "3.3.3.3/32 10.1.0.2"},
		LDP: &topo.FRRLDP{Interfaces: []string{c.a1}}}
	frr3 := topo.FRRConfig{RouterID: "3.3.3.3", Static: []string{"1.1.1.1/32 10.2.0.2", "2.2.2.2/32 10.2.0.2"},
		LDP: &topo.FRRLDP{Interfaces: []string{c.b3}}}
	f1 := c.r1.StartFRR(frr1)
	f3 := c.r3.StartFRR(frr3)
	conf2 := strings.Replace(grConfig(t, "2.2.2.2", []string{c.a2, c.b2}, "1.1.1.1/32 10.1.0.1", "3.3.3.3/32 10.2.0.3"),
		"    enabled: true\n", "    enabled: true\n    recovery-time: 20s\n", 1)
	l2 := c.r2.StartLSRD(conf2)
	f1.WaitLDPOperational(t, 90*time.Second, "2.2.2.2")
	f3.WaitLDPOperational(t, 90*time.Second, "2.2.2.2")

	// fromR3 is the label r2 holds from r3 for 3.3.3.3, or -1.
	fromR3 := func() (int, error) {
		bs, err := lsrdBindings(l2)
		if err != nil {
			return 0, err
		}
		for _, r := range bs["3.3.3.3/32"].Remote {
			if r.Peer.String() == "3.3.3.3" {
				return int(r.Label), nil
			}
		}
		return -1, nil
	}
	topo.Eventually(t, 60*time.Second, "r2 holds r3's label for 3.3.3.3, no graceful restart negotiated", func() error {
		ns, err := neighbors(l2)
		if err != nil {
			return err
		}
		for _, id := range []string{"1.1.1.1", "3.3.3.3"} {
			n, ok := ns[id]
			if !ok || n.State != "OPERATIONAL" {
				return fmt.Errorf("session with %s: %+v", id, n)
			}
			if n.GracefulRestart {
				return fmt.Errorf("graceful restart negotiated with FRR's %s", id)
			}
		}
		if l, err := fromR3(); err != nil || l < 0 {
			return fmt.Errorf("r3's label for 3.3.3.3: %d (%v)", l, err)
		}
		return nil
	})

	// FRR on r3 stops: its labels go at once, nothing is kept stale.
	f3.Stop()
	topo.Eventually(t, 30*time.Second, "r2 drops r3's labels", func() error {
		ns, err := neighbors(l2)
		if err != nil {
			return err
		}
		if n := ns["3.3.3.3"]; n.GRHelper != "" || n.StaleBindings != 0 {
			t.Fatalf("r2 helps FRR's 3.3.3.3 (%q, %d stale labels): no graceful restart was negotiated", n.GRHelper, n.StaleBindings)
		}
		if l, err := fromR3(); err != nil || l >= 0 {
			return fmt.Errorf("r2 still holds r3's label %d (%v)", l, err)
		}
		return nil
	})
	f3 = c.r3.StartFRR(frr3)
	f3.WaitLDPOperational(t, 90*time.Second, "2.2.2.2")

	// lsrd restarts with its routes kept: FRR learns the same labels again.
	before, err := lsrdBindings(l2)
	if err != nil {
		t.Fatal(err)
	}
	if err := l2.Stop(); err != nil {
		t.Fatal(err)
	}
	l2 = c.r2.StartLSRD(conf2)
	f1.WaitLDPOperational(t, 90*time.Second, "2.2.2.2")
	f3.WaitLDPOperational(t, 90*time.Second, "2.2.2.2")
	topo.Eventually(t, 90*time.Second, "r2 sweeps, with its labels as before", func() error {
		if _, err := sweepLogged(l2.Log); err != nil {
			return err
		}
		after, err := lsrdBindings(l2)
		if err != nil {
			return err
		}
		for _, fec := range []string{"1.1.1.1/32", "3.3.3.3/32"} {
			if after[fec].LocalLabel != before[fec].LocalLabel || !after[fec].HasLocal {
				return fmt.Errorf("%s: label %d after the restart, %d before", fec, after[fec].LocalLabel, before[fec].LocalLabel)
			}
		}
		return nil
	})
	_, sweep := sweepTime(t, l2.Log)
	t.Logf("lsrd restarted between FRR routers: same labels, swept (%s)", sweep)
}
