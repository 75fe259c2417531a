//go:build lab

package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/hostile"
	"github.com/lsrd/lsrd/lab/topo"
	"github.com/lsrd/lsrd/ldp"
)

// GTSM hello checks (RFC 6720, ldp.gtsm.check-hellos) on a ZeroTier-like
// segment shared by lsrd (r1), FRR's ldpd (r2) and a hostile host (x). FRR
// sends its IPv4 link hellos with TTL 1, so it is exempt (ldp.neighbors
// gtsm: false) and its session comes up. A hello from x that arrives with
// TTL 254 (a capture on r1 shows it) makes no adjacency and is counted; the
// same hello with TTL 255 makes one. FRR's session is never touched.
func TestLDPGTSMHelloCheck(t *testing.T) {
	lab := topo.New(t)
	seg := lab.ZeroTier(0x8056c2e21c123456)
	r1, r2, x := lab.Router("r1"), lab.Router("r2"), lab.Router("x")
	if1 := seg.Attach(r1, "10.1.0.1/24")
	if2 := seg.Attach(r2, "10.1.0.2/24")
	ifx := seg.Attach(x, "10.1.0.9/24")
	r1.AddLoopback("1.1.1.1/32")
	r2.AddLoopback("2.2.2.2/32")
	r1.EnableMPLS(if1, "lo")
	r2.EnableMPLS(if2, "lo")
	const metricsAt = "127.0.0.1:9642"
	l1 := r1.StartLSRD(fmt.Sprintf(`router-id: 1.1.1.1
ldp:
  interfaces:
    - name: %s
  gtsm:
    check-hellos: true
  neighbors:
    - lsr-id: 2.2.2.2
      gtsm: false
static-routes:
  - prefix: 2.2.2.2/32
    next-hop: 10.1.0.2
metrics:
  listen: %s
`, if1, metricsAt))
	f2 := r2.StartFRR(topo.FRRConfig{RouterID: "2.2.2.2", Static: []string{"1.1.1.1/32 10.1.0.1"},
		LDP: &topo.FRRLDP{Interfaces: []string{if2}}})
	f2.WaitLDPOperational(t, 90*time.Second, "1.1.1.1")
	neighbors := func() map[string]ldp.NeighborInfo {
		t.Helper()
		var ns []ldp.NeighborInfo
		if err := l1.Get("/v1/ldp/neighbors", &ns); err != nil {
			t.Fatal(err)
		}
		m := map[string]ldp.NeighborInfo{}
		for _, n := range ns {
			m[n.LSRID.String()] = n
		}
		return m
	}
	var frr ldp.NeighborInfo
	topo.Eventually(t, 30*time.Second, "lsrd's session with FRR up", func() error {
		if frr = neighbors()["2.2.2.2"]; frr.State != "OPERATIONAL" {
			return fmt.Errorf("FRR: %s", frr.State)
		}
		return nil
	})
	if frr.GTSM {
		t.Errorf("the session with FRR uses GTSM although FRR is exempt: %+v", frr)
	}

	send := func(ttl int, id string) {
		t.Helper()
		_, err := hostile.FloodLinkHellos(context.Background(), hostile.Netns(x.Do), hostile.Flood{
			Ifname: ifx, Src: netip.MustParseAddr("10.1.0.9"), FirstLSRID: netip.MustParseAddr(id),
			Count: 1, Rate: 1, TTL: ttl, GTSM: true})
		if err != nil {
			t.Fatalf("hello with TTL %d: %v", ttl, err)
		}
	}
	// The TTL is the IPv4 header's ninth byte.
	onR1 := r1.StartCapture(if1, "udp port 646 and ip[8] == 254", 1)
	send(254, "9.9.9.9")
	pkts, err := onR1.Wait(10 * time.Second)
	if err != nil {
		t.Fatalf("the TTL 254 hello did not reach r1: %v", err)
	}
	t.Logf("on r1: %s", strings.Join(pkts, "\n"))
	topo.Eventually(t, 10*time.Second, "lsrd counts the TTL 254 hello", func() error {
		m, err := scrape(r1, metricsAt)
		if err != nil {
			return err
		}
		if v, _ := find(m, "lsrd_ldp_security_events_total", `event="gtsm-hello-ttl"`); v < 1 {
			return fmt.Errorf("gtsm-hello-ttl = %v", v)
		}
		return nil
	})
	if n, ok := neighbors()["9.9.9.9"]; ok {
		t.Fatalf("the TTL 254 hello made a neighbour: %+v", n)
	}

	send(255, "9.9.9.10")
	topo.Eventually(t, 10*time.Second, "the TTL 255 hello makes an adjacency", func() error {
		if _, ok := neighbors()["9.9.9.10"]; !ok {
			return fmt.Errorf("no neighbour 9.9.9.10")
		}
		return nil
	})
	if n := neighbors()["2.2.2.2"]; n.State != "OPERATIONAL" || !n.Since.Equal(frr.Since) {
		t.Errorf("FRR's session was touched: %s since %v, up since %v", n.State, n.Since, frr.Since)
	}
}
