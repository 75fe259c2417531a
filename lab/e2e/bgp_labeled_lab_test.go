//go:build lab

package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/bgp"
	"github.com/lsrd/lsrd/lab/topo"
)

var encapStack = regexp.MustCompile(`encap mpls\s+([0-9/]+)`)

// pushedStack returns the label stack r's kernel route to prefix pushes, as
// iproute2 prints it ("17/5000"), reading the nexthop object if it has one.
func pushedStack(r *topo.Router, prefix string) (string, error) {
	return pushedStackIn(r, "main", prefix)
}

// pushedStackIn is pushedStack for a route in a table of the router's.
func pushedStackIn(r *topo.Router, table, prefix string) (string, error) {
	family := "-4"
	if strings.Contains(prefix, ":") {
		family = "-6"
	}
	out, err := r.Try("ip", family, "route", "show", "table", table, prefix)
	if err != nil {
		return "", err
	}
	if id := regexp.MustCompile(`nhid (\d+)`).FindStringSubmatch(out); id != nil {
		if out, err = r.Try("ip", "nexthop", "show", "id", id[1]); err != nil {
			return "", err
		}
	}
	m := encapStack.FindStringSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("%s: route %s pushes no label: %q", r.Name, prefix, strings.TrimSpace(out))
	}
	return m[1], nil
}

// Labelled unicast (RFC 8277) over a BGP-free core: gobgpd on r3 announces
// 198.51.100.0/24 with label 5000 and next hop 3.3.3.3 to lsrd on r1; r1
// pushes 5000 under r2's LDP label for 3.3.3.3, and the packets cross r2
// with both labels. lsrd's own loopback reaches gobgpd as a labelled route
// with implicit null, and lsrd's API shows the label it learned.
func TestBGPLabeledUnicastOverLSP(t *testing.T) {
	c := newChain(t)
	r1Config := lsrdConfig("1.1.1.1", []string{c.a1}, "2.2.2.2/32 10.1.0.2", "3.3.3.3/32 10.1.0.2", "10.2.0.0/24 10.1.0.2") +
		"bgp:\n  as: 65001\n  neighbors:\n    - address: 3.3.3.3\n      remote-as: 65003\n      multihop-ttl: 4\n" +
		"      families: [ipv4-labeled-unicast]\n  networks: [1.1.1.1/32]\n"
	l1 := c.r1.StartLSRD(r1Config)
	l2 := c.r2.StartLSRD(lsrdConfig("2.2.2.2", []string{c.a2, c.b2}, "1.1.1.1/32 10.1.0.1", "3.3.3.3/32 10.2.0.3"))
	c.r3.StartLSRD(lsrdConfig("3.3.3.3", []string{c.b3}, "1.1.1.1/32 10.2.0.2", "2.2.2.2/32 10.2.0.2", "10.1.0.0/24 10.2.0.2"))
	g := c.r3.StartGoBGP(topo.GoBGPConfig{AS: 65003, RouterID: "3.3.3.3",
		Neighbors: []topo.BGPNeighbor{{Address: "1.1.1.1", AS: 65001, LocalAddress: "3.3.3.3", Multihop: 4,
			Families: []string{"ipv4-labelled-unicast"}}}})
	g.WaitEstablished(t, 90*time.Second, "1.1.1.1")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := g.AddLabeledRoute(ctx, netip.MustParsePrefix("198.51.100.0/24"), netip.MustParseAddr("3.3.3.3"), 5000); err != nil {
		t.Fatal(err)
	}

	var lsp uint32
	topo.Eventually(t, 60*time.Second, "r1 pushes r2's label for 3.3.3.3 over label 5000", func() error {
		var err error
		if lsp, err = localLabel(l2, "3.3.3.3/32"); err != nil {
			return err
		}
		got, err := pushedStack(c.r1, "198.51.100.0/24")
		if err != nil {
			return err
		}
		if want := fmt.Sprintf("%d/5000", lsp); got != want {
			return fmt.Errorf("r1 pushes %s, want %s", got, want)
		}
		return nil
	})

	// On the wire between r1 and r2: both labels. (r3 has no route for
	// label 5000, so the ping itself goes unanswered.)
	// Each "mpls" in the filter steps over one label.
	onA := c.r2.StartCapture(c.a2, "mpls and mpls and icmp[icmptype] == icmp-echo", 1)
	c.r1.Try("ping", "-c", "2", "-i", "0.3", "-W", "1", "-I", "1.1.1.1", "198.51.100.1")
	pkts, err := onA.Wait(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		if !strings.Contains(p, fmt.Sprintf("(label %d,", lsp)) || !strings.Contains(p, "(label 5000,") {
			t.Errorf("on r1-r2: %q, want labels %d and 5000", p, lsp)
		}
	}

	var paths []bgp.RouteInfo
	if err := l1.Get("/v1/bgp/routes?prefix=198.51.100.0/24", &paths); err != nil {
		t.Fatal(err)
	}
	if len(paths) != 1 || paths[0].Family != bgp.FamilyIPv4LabeledUnicast || !slices.Equal(paths[0].Labels, []uint32{5000}) ||
		paths[0].NextHop != netip.MustParseAddr("3.3.3.3") || !paths[0].Best {
		t.Errorf("lsrd's paths for 198.51.100.0/24: %+v", paths)
	}
	topo.Eventually(t, 30*time.Second, "gobgpd's labelled route to lsrd's loopback", func() error {
		ps, err := g.LabeledPrefixes(ctx)
		if err != nil {
			return err
		}
		if ls, ok := ps["1.1.1.1/32"]; !ok || !slices.Equal(ls, []uint32{3}) {
			return fmt.Errorf("gobgpd's labelled table %v, want 1.1.1.1/32 with implicit null", ps)
		}
		return nil
	})
}
