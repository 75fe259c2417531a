// Command demo is the lab's demonstration, run inside the kernel lab by
// scripts/demo (and by scripts/test, so that it cannot break unseen): the
// seed's scenario on the real ZeroTier One, as an operator does it.
//
//  1. Make a private planet with lsrctl and start a root node on it, which
//     is also the self-hosted network controller.
//  2. Start a ZeroTier node in each of three routers, create two networks
//     on the controller, and have the routers join and be authorised:
//     r1 - A - r2 - B - r3.
//  3. Start lsrd on each router with its LDP interfaces given as network IDs.
//  4. Show the LDP sessions, the label bindings, the kernel's label tables,
//     `lsrctl show zerotier`, an LSP traceroute, and a ping from r1's
//     loopback to r3's that a capture on network A's device shows labelled.
//
// It exits with status 1 when any step fails.
package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/lsrd/lsrd/internal/checkout"
	"github.com/lsrd/lsrd/lab/topo"
)

func main() {
	if topo.Standalone(os.Stderr, run) {
		os.Exit(1)
	}
}

func run(d topo.T) {
	start := time.Now()
	lab := topo.New(d)

	section("1. a private planet, made by lsrctl, and its root (also the controller)")
	c := lab.NewZTChain()
	lsrctl, err := checkout.Binary("lsrctl")
	must(d, err)
	out, err := c.R[0].Try(lsrctl, "zerotier", "planet", "inspect", c.Planet.File)
	must(d, err)
	fmt.Print(out)

	section("2. networks on the controller, joined and authorised")
	for _, w := range []*topo.ZTNetwork{c.A, c.B} {
		fmt.Printf("network %s %q, managed route %s\n", w.Hex(), w.Name, w.Prefix)
	}
	for i, n := range c.Node {
		fmt.Printf("%s: ZeroTier node %s\n", c.R[i].Name, n.ID)
		var nets []struct {
			ID     string   `json:"id"`
			Status string   `json:"status"`
			Device string   `json:"portDeviceName"`
			MTU    int      `json:"mtu"`
			Addrs  []string `json:"assignedAddresses"`
		}
		must(d, n.API("GET", "/network", nil, &nets))
		for _, w := range nets {
			fmt.Printf("    network %s  %-6s device %s  MTU %d  %s\n", w.ID, w.Status, w.Device, w.MTU, strings.Join(w.Addrs, ","))
		}
	}
	fmt.Printf("ZeroTier ready %.1fs after start\n", time.Since(start).Seconds())

	section("3. lsrd, LDP interfaces given as network IDs (r2's configuration)")
	fmt.Print(c.Config(1, ""))
	lsrdStart := time.Now()
	c.Start("")
	topo.Eventually(d, 90*time.Second, "r1's labelled route to 3.3.3.3", func() error {
		out, err := c.R[0].Try("ip", "route", "show", "3.3.3.3/32")
		nh, _ := c.R[0].Try("ip", "nexthop", "show")
		if err != nil || !strings.Contains(out+nh, "encap mpls") {
			return fmt.Errorf("r1: %s", strings.TrimSpace(out))
		}
		return nil
	})
	fmt.Printf("\nLSPs up %.1fs after lsrd started\n", time.Since(lsrdStart).Seconds())

	section("4. what lsrd shows")
	for i, l := range c.LSRD {
		show(d, c.R[i].Name, l, "show", "ldp", "neighbors")
	}
	show(d, "r2", c.LSRD[1], "show", "ldp", "bindings")
	for i, r := range c.R {
		fmt.Printf("\n%s# ip -f mpls route show\n%s", c.R[i].Name, r.Run("ip", "-f", "mpls", "route", "show"))
	}
	fmt.Printf("\nr1# ip route show 3.3.3.3/32\n%s", c.R[0].Run("ip", "route", "show", "3.3.3.3/32"))
	fmt.Printf("r1# ip nexthop show\n%s", c.R[0].Run("ip", "nexthop", "show"))
	show(d, "r2", c.LSRD[1], "show", "zerotier")
	show(d, "r1", c.LSRD[0], "traceroute", "mpls", "3.3.3.3/32")

	section("5. ping 3.3.3.3 from 1.1.1.1, captured on r2's " + c.A2 + " (network A) and r3's " + c.B3 + " (network B)")
	onA := c.R[1].StartCapture(c.A2, "mpls and icmp[icmptype] == icmp-echo", 2)
	onB := c.R[2].StartCapture(c.B3, "icmp[icmptype] == icmp-echo", 2)
	fmt.Print(c.R[0].Run("ping", "-c", "3", "-i", "0.3", "-W", "2", "-I", "1.1.1.1", "3.3.3.3"))
	for _, x := range []struct {
		what string
		c    *topo.Capture
	}{{"r1 -> r2 on " + c.A2 + " (labelled)", onA}, {"r2 -> r3 on " + c.B3 + " (label popped before the egress)", onB}} {
		pkts, err := x.c.Wait(10 * time.Second)
		must(d, err)
		fmt.Printf("%s:\n%s\n", x.what, strings.Join(pkts, "\n"))
	}
	fmt.Printf("\ndemo done in %.1fs\n", time.Since(start).Seconds())
}

// show runs lsrctl on router name and prints the command and its output.
func show(d topo.T, name string, l *topo.LSRD, args ...string) {
	out, err := l.Ctl(args...)
	fmt.Printf("\n%s# lsrctl %s\n%s", name, strings.Join(args, " "), out)
	must(d, err)
}

func must(d topo.T, err error) {
	if err != nil {
		d.Fatalf("demo: %v", err)
	}
}

func section(title string) {
	fmt.Printf("\n== %s ==\n", title)
}
