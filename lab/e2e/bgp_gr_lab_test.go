//go:build lab

package e2e

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
)

// BGP graceful restart, lsrd the helper: gobgpd on r1 originates
// 198.51.100.0/24 to lsrd on r2. While r2 pings into that prefix every
// 10 ms, gobgpd is killed (no NOTIFICATION) and started again: with
// graceful restart lsrd keeps the route, stale, until gobgpd is back and
// has sent End-of-RIB, so not one echo is lost and r2's kernel never
// deletes the route. The control, on the same routers with graceful
// restart turned off in lsrd: the same crash deletes the route.
func TestBGPGracefulRestartHelper(t *testing.T) {
	lab := topo.New(t)
	r1, r2 := lab.Router("r1"), lab.Router("r2")
	lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	r1.AddLoopback("198.51.100.1/24")
	prefix := netip.MustParsePrefix("198.51.100.0/24")
	gobgp := topo.GoBGPConfig{AS: 65001, RouterID: "1.1.1.1",
		Neighbors: []topo.BGPNeighbor{{Address: "10.0.0.2", AS: 65002, GracefulRestart: true}},
		Routes:    []topo.GoBGPRoute{{Prefix: prefix, NextHop: netip.MustParseAddr("10.0.0.1")}}}
	lsrdConf := func(gr bool) string {
		return fmt.Sprintf("router-id: 2.2.2.2\nbgp:\n  as: 65002\n  neighbors:\n    - address: 10.0.0.1\n      remote-as: 65001\n  graceful-restart:\n    enabled: %t\n", gr)
	}
	l2 := r2.StartLSRD(lsrdConf(true))
	g := r1.StartGoBGP(gobgp)
	g.WaitEstablished(t, 60*time.Second, "10.0.0.2")
	waitRoute := func() {
		topo.Eventually(t, 30*time.Second, "r2's kernel route to "+prefix.String(), func() error {
			out, err := r2.Try("ip", "route", "show", prefix.String())
			if err != nil {
				return err
			}
			if !strings.Contains(out, "via 10.0.0.1") {
				return fmt.Errorf("route %q", strings.TrimSpace(out))
			}
			return nil
		})
	}
	waitRoute()

	// crash kills gobgpd under a 10 ms ping and starts it again, and
	// returns the ping's figures and the kernel's deletions of the route.
	crash := func() (topo.PingResult, []string) {
		mon := r2.StartMonitor()
		ping := r2.StartPing("198.51.100.1", 10*time.Millisecond, 3000)
		time.Sleep(2 * time.Second)
		g.Kill()
		time.Sleep(2 * time.Second)
		g = r1.StartGoBGP(gobgp)
		g.WaitEstablished(t, 60*time.Second, "10.0.0.2")
		res, err := ping.Wait(60 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return res, mon.Stop()
	}

	res, lines := crash()
	deleted := 0
	for _, l := range lines {
		if strings.Contains(l, "Deleted") && strings.Contains(l, prefix.String()) {
			deleted++
		}
	}
	t.Logf("graceful restart: gobgpd killed and restarted under a 10 ms ping: %d sent, %d lost; %d kernel deletions of %s", res.Sent, res.Lost(), deleted, prefix)
	if res.Lost() != 0 || deleted != 0 {
		t.Fatalf("with graceful restart: %d of %d echoes lost, %d deletions of %s; ip monitor:\n%s", res.Lost(), res.Sent, deleted, prefix, strings.Join(lines, "\n"))
	}
	waitRoute()

	// The control: without graceful restart the crash takes the route.
	if err := l2.Reload(lsrdConf(false)); err != nil {
		t.Fatal(err)
	}
	g.WaitEstablished(t, 90*time.Second, "10.0.0.2")
	waitRoute()
	res, lines = crash()
	deleted = 0
	for _, l := range lines {
		if strings.Contains(l, "Deleted") && strings.Contains(l, prefix.String()) {
			deleted++
		}
	}
	t.Logf("control, no graceful restart: %d sent, %d lost; %d kernel deletions of %s", res.Sent, res.Lost(), deleted, prefix)
	if deleted == 0 {
		t.Fatalf("without graceful restart the crash deleted nothing: the test cannot tell; ip monitor:\n%s", strings.Join(lines, "\n"))
	}
	waitRoute()
}
