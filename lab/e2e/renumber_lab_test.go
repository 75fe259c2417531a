//go:build lab

package e2e

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
)

// A reload that moves a transit LSR's label range renumbers its labels
// with no withdraw and no session reset: r1 - r2 - r3, r2 forwarding only
// labelled traffic (ip_forward off), a 10 ms ping from r1's loopback to
// r3's through r2's labels both ways. r2 reloads with labels from 5000:
// its neighbours get new mappings without a withdraw (RFC 5036 A.1.2,
// LMp.10a), push the new labels, and release the old ones, which r2's
// kernel keeps switching until then. A neighbour that releases before its
// own kernel has moved (lsrd and FRR's ldpd both may) loses packets for
// that moment: the ping may lose a few echoes, never half a second's.
// Upstream is lsrd, or FRR's ldpd.
func TestLabelRangeRenumber(t *testing.T) {
	for _, upstream := range []string{"lsrd", "frr"} {
		t.Run(upstream, func(t *testing.T) { testRenumber(t, upstream) })
	}
}

func testRenumber(t *testing.T, upstream string) {
	c := newChain(t)
	c.r2.Run("sysctl", "-qw", "net.ipv4.ip_forward=0")
	const metricsAt = "127.0.0.1:9642"
	withMetrics := "metrics:\n  listen: " + metricsAt + "\n"
	if upstream == "frr" {
		c.r1.StartFRR(topo.FRRConfig{RouterID: "1.1.1.1", Static: []string{"2.2.2.2/32 10.1.0.2", "3.3.3.3/32 10.1.0.2"},
			LDP: &topo.FRRLDP{Interfaces: []string{c.a1}}})
	} else {
		c.r1.StartLSRD(lsrdConfig("1.1.1.1", []string{c.a1}, "2.2.2.2/32 10.1.0.2", "3.3.3.3/32 10.1.0.2"))
	}
	c.r3.StartLSRD(lsrdConfig("3.3.3.3", []string{c.b3}, "1.1.1.1/32 10.2.0.2", "2.2.2.2/32 10.2.0.2"))
	conf2 := lsrdConfig("2.2.2.2", []string{c.a2, c.b2}, "1.1.1.1/32 10.1.0.1", "3.3.3.3/32 10.2.0.3") + withMetrics
	l2 := c.r2.StartLSRD(conf2)

	// r1 pushes r2's label for 3.3.3.3, r3 r2's label for 1.1.1.1, each
	// at least min.
	pushing := func(min int) (up, down int, err error) {
		if up, err = pushesLabelOf(c.r1, "3.3.3.3/32", l2, "3.3.3.3/32"); err != nil {
			return
		}
		if down, err = pushesLabelOf(c.r3, "1.1.1.1/32", l2, "1.1.1.1/32"); err != nil {
			return
		}
		if up < min || down < min {
			err = fmt.Errorf("r1 pushes %d, r3 pushes %d: want labels from %d", up, down, min)
		}
		return
	}
	var up, down int
	topo.Eventually(t, 90*time.Second, "r1 and r3 push r2's labels", func() (err error) {
		up, down, err = pushing(16)
		return err
	})
	if out, err := c.r1.Try("ping", "-c", "3", "-i", "0.2", "-W", "2", "-I", "1.1.1.1", "3.3.3.3"); err != nil {
		t.Fatalf("1.1.1.1 -> 3.3.3.3 does not pass r2 before the reload: %v\n%s", err, out)
	}
	flaps, err := lsrdFlaps(c.r2, metricsAt)
	if err != nil {
		t.Fatal(err)
	}
	withdraws := func() int {
		m, err := scrape(c.r2, metricsAt)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for series, v := range m {
			if strings.HasPrefix(series, "lsrd_ldp_messages_total{") && strings.Contains(series, `direction="sent"`) &&
				strings.Contains(series, `type="label_withdraw"`) {
				n += int(v)
			}
		}
		return n
	}
	withdrawn := withdraws()
	mon := c.r2.Background("ip", "-ts", "-f", "mpls", "monitor", "route")
	ping := c.r1.Background("ping", "-D", "-O", "-i", "0.01", "-W", "1", "-I", "1.1.1.1", "3.3.3.3")
	time.Sleep(2 * time.Second)

	start := time.Now()
	renumbered := strings.Replace(conf2, "static-routes:\n", "  labels:\n    min: 5000\nstatic-routes:\n", 1)
	if err := l2.Reload(renumbered); err != nil {
		t.Fatalf("reload with labels from 5000: %v", err)
	}
	var up2, down2 int
	topo.Eventually(t, 30*time.Second, "r1 and r3 push r2's new labels", func() (err error) {
		up2, down2, err = pushing(5000)
		return err
	})
	moved := time.Since(start)
	// Each old label goes from r2's kernel once its holder released it.
	topo.Eventually(t, 30*time.Second, "r2's labels below 5000 released and gone", func() error {
		for _, l := range ldpLabelLines(c.r2) {
			if n, err := strconv.Atoi(strings.Fields(l)[0]); err == nil && n < 5000 {
				return fmt.Errorf("r2 still switches %q", l)
			}
		}
		return nil
	})
	released := time.Since(start)
	time.Sleep(2 * time.Second)
	end := time.Now()
	out, _ := ping.Stop()
	monOut, _ := mon.Stop()
	res := parsePing(out)
	lost := res.lostBefore(end)
	t.Logf("r2 renumbered: r1 %d -> %d, r3 %d -> %d in %s, old labels gone after %s; 10 ms ping %d sent, %d lost; r2's label routes meanwhile:\n%s",
		up, up2, down, down2, moved.Round(time.Millisecond), released.Round(time.Millisecond), res.sent, lost, strings.TrimSpace(monOut))
	if res.sent < 300 {
		t.Fatalf("the ping sent only %d echoes:\n%s", res.sent, tail(out))
	}
	// A withdraw-first renumbering would take each LSP down for a
	// withdraw, release and mapping round trip; this one withdraws
	// nothing. What may be lost is the moment between a neighbour's
	// release and its kernel taking the new label.
	if n := withdraws() - withdrawn; n != 0 {
		t.Errorf("r2 sent %d Label Withdraw messages while renumbering, want none", n)
	}
	if lost > 50 {
		t.Errorf("%d echoes lost across the renumbering: more than half a second", lost)
	}
	if f, err := lsrdFlaps(c.r2, metricsAt); err != nil || f != flaps {
		t.Errorf("r2's LDP session flaps went from %d to %d (%v): the renumbering reset a session", flaps, f, err)
	}
	if b, _ := os.ReadFile(l2.Log); !strings.Contains(string(b), "ldp: label range changed") {
		t.Errorf("r2's log has no \"ldp: label range changed\" line")
	}
}
