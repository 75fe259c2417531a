//go:build lab

package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
)

// lsrd's embedded BGP speaker peers with a real gobgpd: the routes gobgpd
// announces reach lsrd's RIB and the kernel (plain IP, as lsrd's own routes),
// a withdrawal removes them, and lsrd's loopback reaches gobgpd.
func TestLSRDLearnsRoutesFromGoBGP(t *testing.T) {
	lab := topo.New(t)
	r1, r2 := lab.Router("r1"), lab.Router("r2")
	lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	r1.AddLoopback("1.1.1.1/32")
	g := r2.StartGoBGP(topo.GoBGPConfig{AS: 65002, RouterID: "2.2.2.2",
		Neighbors: []topo.BGPNeighbor{{Address: "10.0.0.1", AS: 65001}}})
	r1.StartLSRD("router-id: 1.1.1.1\nbgp:\n  as: 65001\n  neighbors:\n    - address: 10.0.0.2\n      remote-as: 65002\n  networks: [1.1.1.1/32]\n")
	g.WaitEstablished(t, 60*time.Second, "10.0.0.1")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	prefixes := []string{"198.51.100.0/24", "203.0.113.0/24"}
	for _, p := range prefixes {
		if err := g.AddRoute(ctx, netip.MustParsePrefix(p), netip.MustParseAddr("10.0.0.2")); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range prefixes {
		topo.Eventually(t, 30*time.Second, "r1's kernel route to "+p, func() error {
			out, err := r1.Try("ip", "route", "show", p)
			if err != nil {
				return err
			}
			if !strings.Contains(out, "via 10.0.0.2") || !strings.Contains(out, "proto 234") {
				return fmt.Errorf("route %q", strings.TrimSpace(out))
			}
			return nil
		})
	}

	// gobgpd learned lsrd's loopback.
	topo.Eventually(t, 30*time.Second, "gobgpd's route to 1.1.1.1/32", func() error {
		ps, err := g.Prefixes(ctx)
		if err != nil {
			return err
		}
		if !slices.Contains(ps, "1.1.1.1/32") {
			return fmt.Errorf("gobgpd has %v", ps)
		}
		return nil
	})

	// A withdrawal in gobgpd removes the kernel route.
	if err := g.DeleteRoute(ctx, netip.MustParsePrefix("198.51.100.0/24"), netip.MustParseAddr("10.0.0.2")); err != nil {
		t.Fatal(err)
	}
	topo.Eventually(t, 30*time.Second, "r1's route to 198.51.100.0/24 withdrawn", func() error {
		out, err := r1.Try("ip", "route", "show", "198.51.100.0/24")
		if err != nil {
			return err
		}
		if strings.TrimSpace(out) != "" {
			return fmt.Errorf("still %q", strings.TrimSpace(out))
		}
		return nil
	})
}

// BGP-free core: r1 learns 198.51.100.0/24 from gobgpd on r3 (a multihop
// session between loopbacks) with next hop 3.3.3.3. r2 in the middle runs no
// BGP, only LDP. r1 pushes r2's label for 3.3.3.3 onto the BGP route, the
// ping is labelled across r2, and when the LSP goes the route falls back to
// plain IP towards the same next hop.
func TestBGPRouteOverLSP(t *testing.T) {
	c := newChain(t)
	c.r3.AddLoopback("198.51.100.1/24")
	r1Config := lsrdConfig("1.1.1.1", []string{c.a1}, "2.2.2.2/32 10.1.0.2", "3.3.3.3/32 10.1.0.2", "10.2.0.0/24 10.1.0.2") +
		"bgp:\n  as: 65001\n  neighbors:\n    - address: 3.3.3.3\n      remote-as: 65003\n      multihop-ttl: 4\n"
	l1 := c.r1.StartLSRD(r1Config)
	l2 := c.r2.StartLSRD(lsrdConfig("2.2.2.2", []string{c.a2, c.b2}, "1.1.1.1/32 10.1.0.1", "3.3.3.3/32 10.2.0.3"))
	c.r3.StartLSRD(lsrdConfig("3.3.3.3", []string{c.b3}, "1.1.1.1/32 10.2.0.2", "2.2.2.2/32 10.2.0.2", "10.1.0.0/24 10.2.0.2"))
	g := c.r3.StartGoBGP(topo.GoBGPConfig{AS: 65003, RouterID: "3.3.3.3",
		Neighbors: []topo.BGPNeighbor{{Address: "1.1.1.1", AS: 65001, LocalAddress: "3.3.3.3", Multihop: 4}}})
	g.WaitEstablished(t, 90*time.Second, "1.1.1.1")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := g.AddRoute(ctx, netip.MustParsePrefix("198.51.100.0/24"), netip.MustParseAddr("3.3.3.3")); err != nil {
		t.Fatal(err)
	}

	var label int
	topo.Eventually(t, 60*time.Second, "r1 pushes r2's label for 3.3.3.3 onto the BGP route", func() (err error) {
		label, err = pushesLabelOf(c.r1, "198.51.100.0/24", l2, "3.3.3.3/32")
		return err
	})
	// The BGP route and the loopback's own route share one nexthop object.
	bgpRoute := c.r1.Run("ip", "route", "show", "198.51.100.0/24")
	loRoute := c.r1.Run("ip", "route", "show", "3.3.3.3/32")
	if nh := strings.Fields(bgpRoute); len(nh) < 3 || !strings.Contains(loRoute, "nhid "+nh[2]) {
		t.Errorf("the BGP route %q and the LSP's route %q do not share a nexthop object", bgpRoute, loRoute)
	}
	onA := c.r2.StartCapture(c.a2, "mpls and icmp[icmptype] == icmp-echo", 2)
	if out, err := c.r1.Try("ping", "-c", "2", "-i", "0.3", "-W", "2", "-I", "1.1.1.1", "198.51.100.1"); err != nil {
		t.Fatalf("ping 198.51.100.1 over the LSP: %v\n%s", err, out)
	}
	pkts, err := onA.Wait(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		if !strings.Contains(p, fmt.Sprintf("MPLS (label %d,", label)) {
			t.Errorf("on r1-r2: %q, want label %d", p, label)
		}
	}

	// The LSP goes (r1 stops running LDP): the BGP route falls back to plain IP.
	cfg := strings.Replace(r1Config, "  interfaces:\n    - name: "+c.a1+"\n", "  interfaces: []\n", 1)
	if err := os.WriteFile(l1.Config, []byte(cfg+"control:\n  socket: "+l1.Socket+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l1.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	topo.Eventually(t, 30*time.Second, "r1's BGP route without a label", func() error {
		if l, err := pushedLabel(c.r1, "198.51.100.0/24"); err == nil {
			return fmt.Errorf("still pushes %d", l)
		}
		out, err := c.r1.Try("ip", "route", "show", "198.51.100.0/24")
		if err != nil || !strings.Contains(out, "10.1.0.2") {
			return fmt.Errorf("route %q (%v)", strings.TrimSpace(out), err)
		}
		return nil
	})
	// No ping now: r2 runs no BGP, so unlabelled packets to a BGP prefix
	// die there. Plain IP is the documented fallback for cores that carry
	// the routes; a BGP-free core needs its LSPs.
}
