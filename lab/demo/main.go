// Command demo is the lab's demonstration topology, run inside the kernel lab
// by `make demo`: three routers in a chain over two ZeroTier-like networks,
// r1 - r2 - r3, with LDP on every link, then their LDP neighbours, bindings and
// label tables, and a ping from r1's loopback to r3's that a capture on r2's
// ZeroTier interface shows travelling as MPLS.
//
// Until lsrd's daemon is assembled, the routers run FRR (the reference the
// project interoperates with); lsrd routers replace them as they land.
package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
)

func main() {
	if topo.Standalone(os.Stderr, run) {
		os.Exit(1)
	}
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
	r1.EnableMPLS(a1, "lo")
	r2.EnableMPLS(a2, b2, "lo")
	r3.EnableMPLS(b3, "lo")

	section("topology")
	fmt.Printf("r1 (1.1.1.1) --%s-- r2 (2.2.2.2) --%s-- r3 (3.3.3.3)\n", a1, b2)
	fmt.Printf("ZeroTier-like networks: 8056c2e21c123456 -> %s, abfd31bd47a56b31 -> %s, MTU %d\n", a1, b2, topo.ZeroTierMTU)

	f1 := r1.StartFRR(topo.FRRConfig{RouterID: "1.1.1.1",
		Static: []string{"2.2.2.2/32 10.1.0.2", "3.3.3.3/32 10.1.0.2", "10.2.0.0/24 10.1.0.2"},
		LDP:    &topo.FRRLDP{Interfaces: []string{a1}}})
	f2 := r2.StartFRR(topo.FRRConfig{RouterID: "2.2.2.2",
		Static: []string{"1.1.1.1/32 10.1.0.1", "3.3.3.3/32 10.2.0.3"},
		LDP:    &topo.FRRLDP{Interfaces: []string{a2, b2}}})
	f3 := r3.StartFRR(topo.FRRConfig{RouterID: "3.3.3.3",
		Static: []string{"1.1.1.1/32 10.2.0.2", "2.2.2.2/32 10.2.0.2", "10.1.0.0/24 10.2.0.2"},
		LDP:    &topo.FRRLDP{Interfaces: []string{b3}}})

	start := time.Now()
	f1.WaitLDPOperational(d, 90*time.Second, "2.2.2.2")
	f2.WaitLDPOperational(d, 90*time.Second, "1.1.1.1", "3.3.3.3")
	f3.WaitLDPOperational(d, 90*time.Second, "2.2.2.2")
	topo.Eventually(d, 90*time.Second, "r1's labelled route to 3.3.3.3", func() error {
		out, err := r1.Try("ip", "route", "show", "3.3.3.3/32")
		if err != nil {
			return err
		}
		if !strings.Contains(out, "encap mpls") {
			return fmt.Errorf("r1: %s", strings.TrimSpace(out))
		}
		return nil
	})
	fmt.Printf("\nLDP sessions and LSPs up %.1fs after the daemons started\n", time.Since(start).Seconds())

	for _, f := range []struct {
		name string
		frr  *topo.FRR
	}{{"r1", f1}, {"r2", f2}, {"r3", f3}} {
		section(f.name + ": show mpls ldp neighbor")
		fmt.Print(vtysh(d, f.frr, "show mpls ldp neighbor"))
	}
	section("r2: show mpls ldp binding")
	fmt.Print(vtysh(d, f2, "show mpls ldp binding"))
	for _, r := range []*topo.Router{r1, r2, r3} {
		section(r.Name + ": kernel label table (ip -f mpls route)")
		fmt.Print(r.Run("ip", "-f", "mpls", "route", "show"))
	}
	section("r1: kernel route to r3's loopback (label push)")
	fmt.Print(r1.Run("ip", "route", "show", "3.3.3.3/32"))

	section("ping 3.3.3.3 from 1.1.1.1, captured on r2's " + a2)
	capture := r2.StartCapture(a2, "mpls and icmp", 2)
	fmt.Print(r1.Run("ping", "-c", "3", "-i", "0.3", "-W", "2", "-I", "1.1.1.1", "3.3.3.3"))
	pkts, err := capture.Wait(10 * time.Second)
	if err != nil {
		d.Fatalf("demo: capture on r2: %v", err)
	}
	fmt.Println(strings.Join(pkts, "\n"))
}

func vtysh(d topo.T, f *topo.FRR, cmd string) string {
	out, err := f.Vtysh(cmd)
	if err != nil {
		d.Fatalf("demo: %v", err)
	}
	return out
}

func section(title string) {
	fmt.Printf("\n== %s ==\n", title)
}
