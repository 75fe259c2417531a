//go:build lab

package e2e

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
	"github.com/lsrd/lsrd/netlinkfib"
)

// The restart contract of the kernel layer (docs/DESIGN.md, "Restart"),
// with traffic: r2, the middle of an lsrd x3 chain, restarts while r1 sends
// 100 pings a second through it.
//
// Two flows. The pinned flow can only cross r2 labelled: r1 sends to r3's
// 3.3.3.99 with a kernel route of its own (not lsrd's) pushing the label
// r2's LDP gave 3.3.3.3, so it does not depend on r1's LDP; the packet
// reaches r2 labelled and passes it only through that label route (a pop
// to r3): the kernel never looks a labelled packet up by IP, and drops it
// when its label has no route. Replies come back on plain kernel routes lsrd never
// touches. That flow measures what the kernel layer guarantees: r2's kept
// label route forwards from the moment the old lsrd stops until after the
// new one swept. The LDP flow (1.1.1.1 to 3.3.3.3 on lsrd's own routes at
// r1 and r3) is the end-to-end figure: r1's and r3's sessions with r2 drop
// during the restart, and without LDP graceful restart they drop r2's
// labels; it is reported, not asserted.
//
// r2's kernel is watched with `ip monitor`: no route or nexthop object that
// r2 had before the restart and has after it may be deleted in between, and
// nothing of lsrd's may be deleted before the sweep.
func TestRestartKeepsForwarding(t *testing.T) {
	c := newChain(t)
	c.r1.AddLoopback("1.1.1.99/32")
	c.r3.AddLoopback("3.3.3.99/32")
	// Replies to the pinned flow: plain kernel routes of another protocol.
	c.r3.Run("ip", "route", "add", "1.1.1.99/32", "via", "10.2.0.2", "proto", "static")
	c.r2.Run("ip", "route", "add", "1.1.1.99/32", "via", "10.1.0.1", "proto", "static")
	// r2 needs a route back to 3.3.3.99 for its reverse-path filter to pass
	// the replies; the requests reach r2 labelled, and a labelled packet
	// whose label r2 has no route for is dropped whatever its IP routes.
	c.r2.Run("ip", "route", "add", "3.3.3.99/32", "via", "10.2.0.3", "proto", "static")
	c.r2.Run("sysctl", "-qw", "net.ipv4.ip_forward=1") // the replies are routed by IP at r2

	c.r1.StartLSRD(lsrdConfig("1.1.1.1", []string{c.a1}, "2.2.2.2/32 10.1.0.2", "3.3.3.3/32 10.1.0.2"))
	c.r3.StartLSRD(lsrdConfig("3.3.3.3", []string{c.b3}, "1.1.1.1/32 10.2.0.2", "2.2.2.2/32 10.2.0.2"))
	base := lsrdConfig("2.2.2.2", []string{c.a2, c.b2}, "1.1.1.1/32 10.1.0.1", "3.3.3.3/32 10.2.0.3")
	keep := base + "kernel:\n  keep-routes-on-shutdown: true\n"
	l2 := c.r2.StartLSRD(keep)

	var label int
	topo.Eventually(t, 60*time.Second, "r1 pushes r2's label for 3.3.3.3 and r3 r2's for 1.1.1.1", func() (err error) {
		if label, err = pushesLabelOf(c.r1, "3.3.3.3/32", l2, "3.3.3.3/32"); err != nil {
			return err
		}
		if _, err := pushedLabel(c.r3, "1.1.1.1/32"); err != nil {
			return err
		}
		return nil
	})
	c.r1.Run("ip", "route", "add", "3.3.3.99/32", "encap", "mpls", strconv.Itoa(label), "via", "10.1.0.2", "dev", c.a1)
	if out, err := c.r1.Try("ping", "-c", "3", "-i", "0.2", "-W", "2", "-I", "1.1.1.99", "3.3.3.99"); err != nil {
		var diag strings.Builder
		capA := c.r2.StartCapture(c.a2, "", 4)
		capB := c.r3.StartCapture(c.b3, "", 4)
		c.r1.Try("ping", "-c", "2", "-i", "0.2", "-W", "1", "-I", "1.1.1.99", "3.3.3.99")
		pa, _ := capA.Wait(3 * time.Second)
		pb, _ := capB.Wait(3 * time.Second)
		fmt.Fprintf(&diag, "r2 on %s:\n%s\nr3 on %s:\n%s\n", c.a2, strings.Join(pa, "\n"), c.b3, strings.Join(pb, "\n"))
		for _, r := range []*topo.Router{c.r1, c.r2, c.r3} {
			for _, cmd := range [][]string{{"ip", "route"}, {"ip", "-f", "mpls", "route"}, {"sysctl", "net.ipv4.conf.all.rp_filter", "net.ipv4.conf.default.rp_filter"}} {
				o, _ := r.Try(cmd...)
				fmt.Fprintf(&diag, "%s %s:\n%s\n", r.Name, strings.Join(cmd, " "), o)
			}
		}
		t.Fatalf("the pinned flow does not pass before any restart: %v\n%s\n%s", err, out, diag.String())
	}
	t.Logf("r2's label for 3.3.3.3 is %d; r1 pins the flow to 3.3.3.99 on it", label)

	// restartCase stops r2's lsrd with stop, starts it again with cfg, waits
	// for the sweep, and checks and reports what happened meanwhile.
	restartCase := func(t *testing.T, stop func(), cfg string) {
		before := kernelKeys(c.r2)
		beforeLabels := ldpLabelLines(c.r2)
		if len(before) == 0 || len(beforeLabels) == 0 {
			t.Fatalf("r2 has nothing of lsrd's in its kernel before the restart")
		}
		monMPLS := c.r2.Background("ip", "-ts", "-f", "mpls", "monitor", "route")
		monIP := c.r2.Background("ip", "-ts", "-4", "monitor", "route")
		monNH := c.r2.Background("ip", "-ts", "monitor", "nexthop")
		time.Sleep(300 * time.Millisecond)
		// A route of lsrd's protocol added and deleted behind its back: the
		// monitors and their parsing must see these deletions, or a count
		// of 0 below would mean nothing.
		c.r2.Try("ip", "-f", "mpls", "route", "add", "999", "via", "inet", "10.2.0.3", "dev", c.b2, "proto", "234")
		c.r2.Try("ip", "route", "add", "198.51.100.1/32", "via", "10.2.0.3", "proto", "234")
		time.Sleep(100 * time.Millisecond)
		c.r2.Try("ip", "-f", "mpls", "route", "del", "999")
		c.r2.Try("ip", "route", "del", "198.51.100.1/32")
		pinned := c.r1.Background("ping", "-D", "-O", "-i", "0.01", "-W", "1", "-I", "1.1.1.99", "3.3.3.99")
		e2e := c.r1.Background("ping", "-D", "-O", "-i", "0.01", "-W", "1", "-I", "1.1.1.1", "3.3.3.3")
		time.Sleep(2 * time.Second)

		stopped := time.Now()
		stop()
		time.Sleep(500 * time.Millisecond) // the time an upgrade takes to swap the binary
		l2 = c.r2.StartLSRD(cfg)
		started := time.Now()
		var st netlinkfib.Status
		if err := l2.Get("/v1/fib/status", &st); err != nil {
			t.Fatal(err)
		}
		if !st.AwaitingSweep {
			t.Errorf("right after the start, the kernel layer is not keeping the previous run's routes: %+v", st)
		}
		// Until the sweep, every label route r2 had is there as it was.
		var missing []string
		topo.Eventually(t, 3*time.Minute, "r2 sweeps after convergence", func() error {
			now := ldpLabelLines(c.r2)
			for _, l := range beforeLabels {
				if !slices.Contains(now, l) && !slices.Contains(missing, l) {
					missing = append(missing, l)
				}
			}
			if err := l2.Get("/v1/fib/status", &st); err != nil {
				return err
			}
			if st.AwaitingSweep {
				return fmt.Errorf("awaiting the sweep: %d stale routes", st.StaleRoutes)
			}
			return nil
		})
		time.Sleep(3 * time.Second)
		pinnedOut, _ := pinned.Stop()
		e2eOut, _ := e2e.Stop()
		time.Sleep(200 * time.Millisecond)
		mplsOut, _ := monMPLS.Stop()
		ipOut, _ := monIP.Stop()
		nhOut, _ := monNH.Stop()
		after := kernelKeys(c.r2)
		afterLabels := ldpLabelLines(c.r2)

		swept, sweepLine := sweepTime(t, l2.Log)
		t.Logf("sweep: %s, %s after the start (%s after the old lsrd stopped)", sweepLine,
			swept.Sub(started).Round(time.Millisecond), swept.Sub(stopped).Round(time.Millisecond))
		if len(missing) > 0 {
			t.Errorf("label routes r2 had were missing before the sweep: %q", missing)
		}

		var dels []deletion
		probes := 0
		for _, d := range deletions(mplsOut + ipOut + nhOut) {
			if d.key == "mpls 999" || d.key == "ip 198.51.100.1" {
				probes++
				continue
			}
			dels = append(dels, d)
		}
		if probes < 2 {
			t.Errorf("the monitors did not report the probe routes' deletions (%d of 2 seen): their output cannot be trusted:\n%s\n%s", probes, tail(mplsOut), tail(ipOut))
		}
		var live, early []string
		for _, d := range dels {
			if before[d.key] && after[d.key] {
				live = append(live, d.key)
			}
			if d.at.Before(swept) {
				early = append(early, d.line)
			}
		}
		t.Logf("r2's kernel: %d deletions of lsrd's objects in all, %d of objects present before and after, %d before the sweep", len(dels), len(live), len(early))
		for _, d := range dels {
			t.Logf("  deleted: %s", d.line)
		}
		if len(live) > 0 {
			t.Errorf("objects r2 had before and after the restart were deleted in between: %q", live)
		}
		if len(early) > 0 {
			t.Errorf("lsrd's objects were deleted before the sweep:\n%s", strings.Join(early, "\n"))
		}
		if !slices.Equal(beforeLabels, afterLabels) {
			t.Logf("r2's label routes changed across the restart (the LIB allocated other labels):\nbefore %q\nafter  %q", beforeLabels, afterLabels)
		}

		ps := parsePing(pinnedOut)
		lostBefore := ps.lostBefore(swept)
		t.Logf("pinned flow (labelled into r2 with %d, independent of LDP): %d sent, %d lost, %d of them before the sweep", label, ps.sent, ps.sent-ps.received, lostBefore)
		if ps.sent < 100 {
			t.Errorf("the pinned ping sent only %d packets:\n%s", ps.sent, tail(pinnedOut))
		}
		if lostBefore > 0 {
			t.Errorf("the pinned flow lost %d packets between the stop and the sweep: r2's kept label route did not forward", lostBefore)
		}
		es := parsePing(e2eOut)
		t.Logf("end-to-end LDP flow (1.1.1.1 -> 3.3.3.3 on lsrd's routes at r1 and r3): %d sent, %d lost (%d before the sweep)", es.sent, es.sent-es.received, es.lostBefore(swept))
	}

	t.Run("SIGTERM with keep-routes-on-shutdown", func(t *testing.T) {
		restartCase(t, func() {
			if err := l2.Stop(); err != nil {
				t.Fatal(err)
			}
		}, keep)
	})
	t.Run("kill -9", func(t *testing.T) {
		restartCase(t, l2.Kill, keep)
	})
	t.Run("SIGTERM without keep-routes removes everything", func(t *testing.T) {
		// The running lsrd is told to remove its routes on stop.
		if err := l2.Reload(base); err != nil {
			t.Fatal(err)
		}
		if err := l2.Stop(); err != nil {
			t.Fatal(err)
		}
		if own := ownRoutes(c.r2); own != "" {
			t.Errorf("after SIGTERM without keep-routes, lsrd's routes are still in the kernel:\n%s", own)
		}
		if out, err := c.r1.Try("ping", "-c", "3", "-i", "0.2", "-W", "1", "-I", "1.1.1.99", "3.3.3.99"); err == nil {
			t.Errorf("the pinned flow still passes r2 with its label route removed:\n%s", out)
		}
		// And a stop soon after a crash, before the sweep, removes the
		// previous run's routes too.
		l2 = c.r2.StartLSRD(base)
		topo.Eventually(t, 60*time.Second, "r2's routes back", func() error {
			if len(ldpLabelLines(c.r2)) == 0 {
				return fmt.Errorf("no label routes yet")
			}
			return nil
		})
		l2.Kill()
		l2 = c.r2.StartLSRD(base)
		var st netlinkfib.Status
		if err := l2.Get("/v1/fib/status", &st); err != nil {
			t.Fatal(err)
		}
		if !st.AwaitingSweep {
			t.Fatalf("after kill -9 and a start, nothing adopted: %+v", st)
		}
		if err := l2.Stop(); err != nil {
			t.Fatal(err)
		}
		if own := ownRoutes(c.r2); own != "" {
			t.Errorf("after SIGTERM before the sweep, lsrd's routes are still in the kernel:\n%s", own)
		}
	})
}

// kernelKeys names every route and nexthop object of lsrd's in the router:
// "mpls LABEL", "ip PREFIX", "nh ID".
func kernelKeys(r *topo.Router) map[string]bool {
	keys := map[string]bool{}
	for _, l := range ldpLabelLines(r) {
		keys["mpls "+strings.Fields(l)[0]] = true
	}
	out, _ := r.Try("ip", "route", "show", "proto", "234")
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			keys["ip "+f[0]] = true
		}
	}
	out, _ = r.Try("ip", "nexthop", "show")
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "id" && strings.Contains(l, "proto 234") {
			keys["nh "+f[1]] = true
		}
	}
	return keys
}

// ldpLabelLines lists the router's label routes of lsrd's, sorted.
func ldpLabelLines(r *topo.Router) []string {
	out, _ := r.Try("ip", "-f", "mpls", "route", "show", "proto", "234")
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	slices.Sort(lines)
	return lines
}

type deletion struct {
	at   time.Time
	key  string
	line string
}

var monitorLine = regexp.MustCompile(`^\[([0-9T:.-]+)\]\s*Deleted\s+(.*)$`)

// deletions parses `ip -ts monitor` output for deletions of lsrd's routes
// and nexthop objects.
func deletions(out string) []deletion {
	var ds []deletion
	for _, l := range strings.Split(out, "\n") {
		m := monitorLine.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil || !strings.Contains(l, "proto 234") {
			continue
		}
		at, err := time.ParseInLocation("2006-01-02T15:04:05.000000", m[1], time.Local)
		if err != nil {
			continue
		}
		f := strings.Fields(m[2])
		var key string
		switch {
		case f[0] == "id" && len(f) > 1:
			key = "nh " + f[1]
		case strings.ContainsAny(f[0], "./"):
			key = "ip " + f[0]
		default:
			key = "mpls " + f[0]
		}
		ds = append(ds, deletion{at: at, key: key, line: strings.TrimSpace(l)})
	}
	return ds
}

var sweepLog = regexp.MustCompile(`time=(\S+) .*msg="netlinkfib: sweeping stale kernel routes after convergence"(.*)`)

// sweepTime finds the kernel layer's sweep in lsrd's log.
func sweepTime(t *testing.T, log string) (time.Time, string) {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	m := sweepLog.FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("no sweep in lsrd's log:\n%s", b)
	}
	at, err := time.Parse(time.RFC3339Nano, m[1])
	if err != nil {
		t.Fatal(err)
	}
	return at, strings.TrimSpace(m[2])
}

type pingResult struct {
	sent, received int
	// unanswered are the times ping reported a request unanswered when it
	// sent the next one (-O); the lost ones are among them.
	unanswered map[int]time.Time
	answered   map[int]bool
}

var (
	pingSummary = regexp.MustCompile(`(\d+) packets transmitted, (\d+) received`)
	pingReply   = regexp.MustCompile(`^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=(\d+)`)
	pingNoReply = regexp.MustCompile(`^\[(\d+\.\d+)\] no answer yet for icmp_seq=(\d+)`)
)

func parsePing(out string) pingResult {
	r := pingResult{unanswered: map[int]time.Time{}, answered: map[int]bool{}}
	if m := pingSummary.FindStringSubmatch(out); m != nil {
		r.sent, _ = strconv.Atoi(m[1])
		r.received, _ = strconv.Atoi(m[2])
	}
	for _, l := range strings.Split(out, "\n") {
		if m := pingReply.FindStringSubmatch(l); m != nil {
			seq, _ := strconv.Atoi(m[2])
			r.answered[seq] = true
		} else if m := pingNoReply.FindStringSubmatch(l); m != nil {
			seq, _ := strconv.Atoi(m[2])
			sec, _ := strconv.ParseFloat(m[1], 64)
			r.unanswered[seq] = time.Unix(0, int64(sec*1e9))
		}
	}
	return r
}

// lostBefore counts requests never answered that were reported before t.
func (r pingResult) lostBefore(t time.Time) int {
	n := 0
	for seq, at := range r.unanswered {
		if !r.answered[seq] && at.Before(t) {
			n++
		}
	}
	return n
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], "\n")
}
