//go:build lab

package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
)

// 6PE (RFC 4798) over an IPv4-only LDP core: gobgpd on r3 announces
// 2001:db8:100::/48 over an IPv4 session with next hop ::ffff:3.3.3.3;
// lsrd on r1 pushes r2's LDP label for 3.3.3.3 with the IPv6 explicit null
// under it, through the mapped IPv4 gateway. An IPv6 ping crosses r1 - r2
// with both labels and r2 - r3 with the explicit null alone (r2 popped the
// LSP's label: r3 advertised implicit null), and reaches r3 as IPv6. The
// core has no IPv6 address or route.
func TestBGPSixPEOverLSP(t *testing.T) {
	c := newChain(t)
	c.r1.Run("ip", "-6", "addr", "add", "2001:db8:1::1/128", "dev", "lo")
	c.r3.Run("ip", "-6", "addr", "add", "2001:db8:100::1/128", "dev", "lo")
	r1Config := lsrdConfig("1.1.1.1", []string{c.a1}, "2.2.2.2/32 10.1.0.2", "3.3.3.3/32 10.1.0.2", "10.2.0.0/24 10.1.0.2") +
		"bgp:\n  as: 65001\n  neighbors:\n    - address: 3.3.3.3\n      remote-as: 65003\n      multihop-ttl: 4\n" +
		"      families: [ipv4-unicast, ipv6-unicast]\n"
	c.r1.StartLSRD(r1Config)
	l2 := c.r2.StartLSRD(lsrdConfig("2.2.2.2", []string{c.a2, c.b2}, "1.1.1.1/32 10.1.0.1", "3.3.3.3/32 10.2.0.3"))
	c.r3.StartLSRD(lsrdConfig("3.3.3.3", []string{c.b3}, "1.1.1.1/32 10.2.0.2", "2.2.2.2/32 10.2.0.2", "10.1.0.0/24 10.2.0.2"))
	g := c.r3.StartGoBGP(topo.GoBGPConfig{AS: 65003, RouterID: "3.3.3.3",
		Neighbors: []topo.BGPNeighbor{{Address: "1.1.1.1", AS: 65001, LocalAddress: "3.3.3.3", Multihop: 4,
			Families: []string{"ipv4-unicast", "ipv6-unicast"}}}})
	g.WaitEstablished(t, 90*time.Second, "1.1.1.1")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	prefix := netip.MustParsePrefix("2001:db8:100::/48")
	if err := g.AddRoute6(ctx, prefix, netip.MustParseAddr("::ffff:3.3.3.3")); err != nil {
		t.Fatal(err)
	}

	var label int
	topo.Eventually(t, 60*time.Second, "r1 pushes r2's label for 3.3.3.3 and the IPv6 explicit null", func() error {
		want, err := localLabel(l2, "3.3.3.3/32")
		if err != nil {
			return err
		}
		stack, err := pushedStack(c.r1, prefix.String())
		if err != nil {
			return err
		}
		if stack != fmt.Sprintf("%d/2", want) {
			return fmt.Errorf("r1 pushes %s, want %d/2", stack, want)
		}
		label = int(want)
		return nil
	})
	route := c.r1.Run("ip", "-6", "route", "show", prefix.String())
	nhs := c.r1.Run("ip", "nexthop", "show")
	t.Logf("r1: %s\n%s", route, nhs)
	if !strings.Contains(nhs, "via ::ffff:10.1.0.2 dev "+c.a1) || !strings.Contains(nhs, "onlink") {
		t.Errorf("r1: no nexthop object through the mapped gateway ::ffff:10.1.0.2, on-link:\n%s", nhs)
	}

	onA := c.r2.StartCapture(c.a2, "mpls and mpls and ip6", 2) // each "mpls" steps over one label
	onB := c.r3.StartCapture(c.b3, "mpls and ip6", 2)
	// r3 has no route back to r1's IPv6 address: the echo requests are
	// what is checked, on the wire and at r3.
	c.r1.Try("ping", "-6", "-c", "2", "-i", "0.3", "-W", "1", "-I", "2001:db8:1::1", "2001:db8:100::1")
	const echo = "2001:db8:1::1 > 2001:db8:100::1: ICMP6, echo request"
	for _, cp := range []struct {
		c     *topo.Capture
		link  string
		wants []string
	}{
		{onA, "r1 - r2", []string{fmt.Sprintf("MPLS (label %d, ", label), "(label 2, tc 0, [S]", echo}},
		{onB, "r2 - r3", []string{"MPLS (label 2, tc 0, [S]", echo}},
	} {
		pkts, err := cp.c.Wait(10 * time.Second)
		if err != nil {
			t.Fatalf("%s: %v", cp.link, err)
		}
		t.Logf("%s:\n%s", cp.link, strings.Join(pkts, "\n"))
		for _, p := range pkts {
			for _, w := range cp.wants {
				if !strings.Contains(p, w) {
					t.Errorf("on %s: %q, want %q in it", cp.link, p, w)
				}
			}
			if cp.link == "r2 - r3" && strings.Count(p, "(label ") != 1 {
				t.Errorf("on %s: %q, want the explicit null alone", cp.link, p)
			}
		}
	}
	echoes := c.r3.Run("sh", "-c", "nstat -az Icmp6InEchos | awk '/Icmp6InEchos/ {print $2}'")
	if strings.TrimSpace(echoes) == "0" || strings.TrimSpace(echoes) == "" {
		t.Errorf("r3 received no ICMPv6 echo request (Icmp6InEchos %q)", strings.TrimSpace(echoes))
	}
}
