// Command demo is the lab's demonstration topology, run inside the kernel lab
// by `make demo`: three lsrd routers in a chain over two ZeroTier-like
// networks, r1 - r2 - r3, with LDP on every link; then their LDP neighbours,
// label bindings and kernel label tables, and a ping from r1's loopback to
// r3's that captures on both links show travelling labelled, then popped
// before the egress.
package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
	"github.com/lsrd/lsrd/ldp"
	"github.com/lsrd/lsrd/ldp/lib"
)

func main() {
	if topo.Standalone(os.Stderr, run) {
		os.Exit(1)
	}
}

// lsrdConfig is a router's lsrd configuration: LDP on the given interfaces,
// static routes "PREFIX NEXTHOP".
func lsrdConfig(id string, ifaces []string, statics ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "router-id: %s\nldp:\n  interfaces:\n", id)
	for _, i := range ifaces {
		fmt.Fprintf(&b, "    - name: %s\n", i)
	}
	b.WriteString("static-routes:\n")
	for _, s := range statics {
		f := strings.Fields(s)
		fmt.Fprintf(&b, "  - prefix: %s\n    next-hop: %s\n", f[0], f[1])
	}
	return b.String()
}

func run(d topo.T) {
	lab := topo.New(d)
	netA, netB := lab.ZeroTier(0x8056c2e21c123456), lab.ZeroTier(0xabfd31bd47a56b31)
	r1, r2, r3 := lab.Router("r1"), lab.Router("r2"), lab.Router("r3")
	a1 := netA.Attach(r1, "10.1.0.1/24")
	a2 := netA.Attach(r2, "10.1.0.2/24")
	b2 := netB.Attach(r2, "10.2.0.2/24")
	b3 := netB.Attach(r3, "10.2.0.3/24")
	r1.AddLoopback("1.1.1.1/32")
	r2.AddLoopback("2.2.2.2/32")
	r3.AddLoopback("3.3.3.3/32")

	section("topology")
	fmt.Printf("r1 (1.1.1.1) --%s-- r2 (2.2.2.2) --%s-- r3 (3.3.3.3)\n", a1, b2)
	fmt.Printf("ZeroTier-like networks: 8056c2e21c123456 -> %s, abfd31bd47a56b31 -> %s, MTU %d\n", a1, b2, topo.ZeroTierMTU)

	start := time.Now()
	routers := []struct {
		r    *topo.Router
		lsrd *topo.LSRD
	}{
		{r1, r1.StartLSRD(lsrdConfig("1.1.1.1", []string{a1}, "2.2.2.2/32 10.1.0.2", "3.3.3.3/32 10.1.0.2", "10.2.0.0/24 10.1.0.2"))},
		{r2, r2.StartLSRD(lsrdConfig("2.2.2.2", []string{a2, b2}, "1.1.1.1/32 10.1.0.1", "3.3.3.3/32 10.2.0.3"))},
		{r3, r3.StartLSRD(lsrdConfig("3.3.3.3", []string{b3}, "1.1.1.1/32 10.2.0.2", "2.2.2.2/32 10.2.0.2", "10.1.0.0/24 10.2.0.2"))},
	}
	topo.Eventually(d, 90*time.Second, "r1's labelled route to 3.3.3.3", func() error {
		out, err := r1.Try("ip", "route", "show", "3.3.3.3/32")
		if err != nil {
			return err
		}
		nh, err := r1.Try("ip", "nexthop", "show")
		if err != nil {
			return err
		}
		if !strings.Contains(out+nh, "encap mpls") {
			return fmt.Errorf("r1: %s", strings.TrimSpace(out))
		}
		return nil
	})
	fmt.Printf("\nLSPs up %.1fs after lsrd started\n", time.Since(start).Seconds())

	for _, x := range routers {
		section(x.r.Name + ": LDP neighbours (lsrd control API /v1/ldp/neighbors)")
		var nbrs []ldp.NeighborInfo
		must(d, x.lsrd.Get("/v1/ldp/neighbors", &nbrs))
		w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "NEIGHBOR\tSTATE\tTRANSPORT\tADJACENCIES")
		for _, n := range nbrs {
			var adj []string
			for _, a := range n.Adjacencies {
				adj = append(adj, a.Interface)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", n.LSRID, n.State, n.Transport, strings.Join(adj, ","))
		}
		w.Flush()
	}
	section("r2: LDP bindings (lsrd control API /v1/ldp/bindings)")
	var bs []lib.Binding
	must(d, routers[1].lsrd.Get("/v1/ldp/bindings", &bs))
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "FEC\tLOCAL\tREMOTE (peer:label, * in use)")
	for _, b := range bs {
		local := "-"
		if b.HasLocal {
			local = b.LocalLabel.String()
		}
		var rs []string
		for _, r := range b.Remote {
			s := r.Peer.String() + ":" + r.Label.String()
			if r.InUse {
				s += "*"
			}
			rs = append(rs, s)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", b.FEC, local, strings.Join(rs, " "))
	}
	w.Flush()
	for _, x := range routers {
		section(x.r.Name + ": kernel label table (ip -f mpls route)")
		fmt.Print(x.r.Run("ip", "-f", "mpls", "route", "show"))
	}
	section("r1: kernel route to r3's loopback and its label push (ip route, ip nexthop)")
	fmt.Print(r1.Run("ip", "route", "show", "3.3.3.3/32"))
	fmt.Print(r1.Run("ip", "nexthop", "show"))

	section("ping 3.3.3.3 from 1.1.1.1; captures on r2's " + a2 + " and r3's " + b3)
	onA := r2.StartCapture(a2, "icmp[icmptype] == icmp-echo or (mpls and icmp[icmptype] == icmp-echo)", 2)
	onB := r3.StartCapture(b3, "icmp[icmptype] == icmp-echo", 2)
	fmt.Print(r1.Run("ping", "-c", "3", "-i", "0.3", "-W", "2", "-I", "1.1.1.1", "3.3.3.3"))
	for _, c := range []struct {
		name string
		c    *topo.Capture
	}{{"r1 -> r2 (labelled)", onA}, {"r2 -> r3 (label popped before the egress)", onB}} {
		pkts, err := c.c.Wait(10 * time.Second)
		must(d, err)
		fmt.Printf("%s:\n%s\n", c.name, strings.Join(pkts, "\n"))
	}
}

func must(d topo.T, err error) {
	if err != nil {
		d.Fatalf("demo: %v", err)
	}
}

func section(title string) {
	fmt.Printf("\n== %s ==\n", title)
}
