//go:build lab

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
	"github.com/lsrd/lsrd/netlinkfib"
)

// A provider edge restarts without a gap in its customers' traffic: pe1
// (lsrd) keeps its kernel routes on shutdown (the VRF tables, the VPN
// label that pops into VRF red, the LSP's push), runs LDP graceful restart
// with p (lsrd) and BGP graceful restart with pe2 (FRR, helper by
// default), and is stopped with SIGTERM and started again half a second
// later with the same configuration. A ping from ce1 to ce2 every 10 ms,
// both ways over two labels, runs throughout: measured by its lost
// replies between the stop and pe1's sweep of the previous run's routes.
func TestL3VPNRestartKeepsTraffic(t *testing.T) {
	v := newVPNLab(t)
	gr := func(cfg string) string {
		return strings.Replace(cfg, "ldp:\n", "ldp:\n  graceful-restart:\n    enabled: true\n", 1)
	}
	cfg := gr(lsrdPE("1.1.1.1", v.pe1Core, "10.0.1.2", "3.3.3.3", "1", v.pe1Red, v.pe1Blue))
	cfg = strings.Replace(cfg, "bgp:\n  as: 65000\n", "bgp:\n  as: 65000\n  graceful-restart:\n    enabled: true\n", 1)
	cfg += "kernel:\n  keep-routes-on-shutdown: true\n"
	pe1 := v.pe1.StartLSRD(cfg)
	v.p.StartLSRD(gr(lsrdConfig("2.2.2.2", []string{v.pCore1, v.pCore2}, "1.1.1.1/32 10.0.1.1", "3.3.3.3/32 10.0.2.3")))
	v.startFRRPE(t)
	topo.Eventually(t, 3*time.Minute, "ce1 reaches ce2 through both provider edges", func() error {
		_, err := v.ce1.Try("ping", "-c", "1", "-W", "1", "10.10.2.2")
		return err
	})

	ping := v.ce1.Background("ping", "-D", "-O", "-i", "0.01", "-W", "1", "10.10.2.2")
	time.Sleep(2 * time.Second)
	stopped := time.Now()
	if err := pe1.Stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	pe1 = v.pe1.StartLSRD(cfg)
	var st netlinkfib.Status
	topo.Eventually(t, 4*time.Minute, "pe1 sweeps the previous run's routes after convergence", func() error {
		if err := pe1.Get("/v1/fib/status", &st); err != nil {
			return err
		}
		if st.AwaitingSweep {
			return fmt.Errorf("awaiting the sweep: %d stale routes", st.StaleRoutes)
		}
		return nil
	})
	time.Sleep(3 * time.Second)
	out, _ := ping.Stop()
	swept, sweepLine := sweepTime(t, pe1.Log)
	ps := parsePing(out)
	t.Logf("sweep: %s, %s after the old lsrd was stopped", sweepLine, swept.Sub(stopped).Round(time.Millisecond))
	// Lost: reported unanswered (-O) and never answered; the request in
	// flight when ping was stopped is not one.
	lost := ps.lostBefore(time.Now())
	t.Logf("ce1 -> ce2 every 10 ms: %d sent, %d lost (%d of them before the sweep)", ps.sent, lost, ps.lostBefore(swept))
	if ps.sent < 200 {
		t.Fatalf("the ping sent only %d packets:\n%s", ps.sent, tail(out))
	}
	if lost > 0 {
		t.Errorf("ce1's ping to ce2 lost %d of %d across pe1's restart:\n%s", lost, ps.sent, tail(out))
	}
}
