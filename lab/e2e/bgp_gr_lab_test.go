//go:build lab

package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
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
	// returns the ping's figures, the echoes lost (unanswered, -O), and the
	// kernel's deletions of the route.
	crash := func() (pingResult, int, []deletion) {
		mon := r2.Background("ip", "-ts", "-4", "monitor", "route")
		time.Sleep(300 * time.Millisecond)
		ping := r2.Background("ping", "-D", "-O", "-i", "0.01", "-W", "1", "198.51.100.1")
		time.Sleep(2 * time.Second)
		g.Kill()
		time.Sleep(2 * time.Second)
		g = r1.StartGoBGP(gobgp)
		g.WaitEstablished(t, 60*time.Second, "10.0.0.2")
		time.Sleep(5 * time.Second) // End-of-RIB, and the stale paths' end
		end := time.Now()
		out, _ := ping.Stop()
		monOut, _ := mon.Stop()
		var dels []deletion
		for _, d := range deletions(monOut) {
			if d.key == "ip "+prefix.String() {
				dels = append(dels, d)
			}
		}
		res := parsePing(out)
		if res.sent < 500 {
			t.Fatalf("the ping sent only %d echoes:\n%s", res.sent, tail(out))
		}
		return res, res.lostBefore(end), dels
	}

	res, lost, dels := crash()
	t.Logf("graceful restart: gobgpd killed and restarted under a 10 ms ping: %d sent, %d lost; %d kernel deletions of %s", res.sent, lost, len(dels), prefix)
	if lost != 0 || len(dels) != 0 {
		t.Fatalf("with graceful restart: %d of %d echoes lost, deletions of %s: %v", lost, res.sent, prefix, dels)
	}
	waitRoute()

	// The control: without graceful restart the crash takes the route.
	if err := l2.Reload(lsrdConf(false)); err != nil {
		t.Fatal(err)
	}
	g.WaitEstablished(t, 90*time.Second, "10.0.0.2")
	waitRoute()
	res, lost, dels = crash()
	t.Logf("control, no graceful restart: %d sent, %d lost; %d kernel deletions of %s", res.sent, lost, len(dels), prefix)
	if len(dels) == 0 || lost == 0 {
		t.Fatalf("without graceful restart the crash deleted nothing (%d deletions, %d lost): the test cannot tell", len(dels), lost)
	}
	waitRoute()
}

// lsrd as the restarting BGP speaker: stopped with keep-routes and started
// again, it leaves its session without a NOTIFICATION (bgp.Speaker.Leave)
// and comes back with the Restart State bit, so gobgpd, a graceful restart
// helper, keeps the network lsrd originates: gobgpd's best-path watch (a
// stream, not a poll) sees no withdrawal of it, while a 10 ms ping from r2
// through the route lsrd learned loses nothing. The control: the same
// restart with graceful restart off in lsrd, where gobgpd withdraws it.
func TestBGPGracefulRestartRestarting(t *testing.T) {
	lab := topo.New(t)
	r1, r2 := lab.Router("r1"), lab.Router("r2")
	lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	r1.AddLoopback("198.51.100.1/24")
	learned := netip.MustParsePrefix("198.51.100.0/24")
	own := netip.MustParsePrefix("203.0.113.0/24")
	g := r1.StartGoBGP(topo.GoBGPConfig{AS: 65001, RouterID: "1.1.1.1",
		Neighbors: []topo.BGPNeighbor{{Address: "10.0.0.2", AS: 65002, GracefulRestart: true}},
		Routes:    []topo.GoBGPRoute{{Prefix: learned, NextHop: netip.MustParseAddr("10.0.0.1")}}})
	conf := func(gr bool) string {
		return fmt.Sprintf("router-id: 2.2.2.2\nlog-level: info\nbgp:\n  as: 65002\n  networks: [%s]\n  neighbors:\n    - address: 10.0.0.1\n      remote-as: 65001\n  graceful-restart:\n    enabled: %t\nkernel:\n  keep-routes-on-shutdown: true\n", own, gr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ready := func() {
		g.WaitEstablished(t, 90*time.Second, "10.0.0.2")
		topo.Eventually(t, 30*time.Second, "gobgpd has lsrd's network and r2 the route it learned", func() error {
			ps, err := g.Prefixes(ctx)
			if err != nil {
				return err
			}
			if !slices.Contains(ps, own.String()) {
				return fmt.Errorf("gobgpd's table %v", ps)
			}
			out, err := r2.Try("ip", "route", "show", learned.String())
			if err == nil && !strings.Contains(out, "via 10.0.0.1") {
				err = fmt.Errorf("r2's route %q", strings.TrimSpace(out))
			}
			return err
		})
	}
	l2 := r2.StartLSRD(conf(true))
	ready()

	// restart stops r2's lsrd (SIGTERM, keep-routes) and starts it again
	// with conf(gr), and returns what gobgpd's watch saw of lsrd's network
	// and the ping's echoes lost.
	restart := func(gr bool) (events []string, sent, lost int) {
		w, err := g.WatchBest(own)
		if err != nil {
			t.Fatal(err)
		}
		ping := r2.Background("ping", "-D", "-O", "-i", "0.01", "-W", "1", "198.51.100.1")
		time.Sleep(2 * time.Second)
		if err := l2.Stop(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		l2 = r2.StartLSRD(conf(gr))
		ready()
		time.Sleep(3 * time.Second) // End-of-RIB both ways
		end := time.Now()
		out, _ := ping.Stop()
		p := parsePing(out)
		if p.sent < 300 {
			t.Fatalf("the ping sent only %d echoes:\n%s", p.sent, tail(out))
		}
		return w.Stop(), p.sent, p.lostBefore(end)
	}
	events, sent, lost := restart(true)
	t.Logf("lsrd restarted (SIGTERM, keep-routes, graceful restart): gobgpd saw %v for %s; 10 ms ping %d sent, %d lost", events, own, sent, lost)
	if slices.Contains(events, "withdraw") || lost != 0 {
		t.Fatalf("with graceful restart: gobgpd saw %v for lsrd's network, %d of %d echoes lost", events, lost, sent)
	}

	// The control: graceful restart off in lsrd (a reload resets the
	// session), then the same restart.
	if err := l2.Reload(conf(false)); err != nil {
		t.Fatal(err)
	}
	ready()
	events, _, _ = restart(false)
	t.Logf("control, no graceful restart: gobgpd saw %v for %s", events, own)
	if !slices.Contains(events, "withdraw") {
		t.Fatalf("without graceful restart gobgpd saw %v for lsrd's network, no withdrawal: the watch cannot tell", events)
	}
}
