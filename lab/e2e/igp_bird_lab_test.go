//go:build lab

package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
)

// BIRD 2 runs OSPF on a chain r1 - r2 - r3 with lsrd for LDP on each
// router, and no static routes: LDP labels the loopbacks BIRD installed
// (protocol bird), r1's ping to r3 is labelled on both links (r3
// advertises explicit null), and BIRD's routes and lsrd's coexist through
// a restart of either.
func TestLDPOverOSPFWithBIRD(t *testing.T) {
	lab := topo.New(t)
	names := []string{"r1", "r2", "r3"}
	r := map[string]*topo.Router{}
	for i, name := range names {
		r[name] = lab.Router(name)
		r[name].AddLoopback(fmt.Sprintf("%d.%d.%d.%d/32", i+1, i+1, i+1, i+1))
		r[name].Run("sysctl", "-qw", "net.ipv4.ip_forward=1")
	}
	a1, a2 := lab.Link(r["r1"], r["r2"], "10.1.0.1/30", "10.1.0.2/30")
	b2, b3 := lab.Link(r["r2"], r["r3"], "10.2.0.1/30", "10.2.0.2/30")
	ifs := map[string][]string{"r1": {a1}, "r2": {a2, b2}, "r3": {b3}}
	bird := map[string]*topo.BIRD{}
	cfg := func(name string) topo.BIRDConfig {
		return topo.BIRDConfig{RouterID: strings.Repeat(name[1:]+".", 3) + name[1:], Interfaces: ifs[name]}
	}
	lsrdCfg := func(name string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "router-id: %s\nldp:\n  interfaces:\n", cfg(name).RouterID)
		for _, i := range ifs[name] {
			fmt.Fprintf(&b, "    - name: %s\n", i)
		}
		if name == "r3" {
			b.WriteString("  labels:\n    explicit-null: true\n    protocols: [bird]\n")
		} else {
			b.WriteString("  labels:\n    protocols: [bird]\n")
		}
		return b.String()
	}
	ls := map[string]*topo.LSRD{}
	for _, name := range names {
		r[name].EnableMPLS(append(ifs[name], "lo")...)
		bird[name] = r[name].StartBIRD(cfg(name))
	}
	for _, name := range names {
		ls[name] = r[name].StartLSRD(lsrdCfg(name))
	}
	ping := func() {
		t.Helper()
		topo.Eventually(t, 2*time.Minute, "r1: a labelled copy of BIRD's route to 3.3.3.3", func() error {
			out, _ := r["r1"].Try("ip", "route", "show", "table", "234", "3.3.3.3")
			if !strings.Contains(out, "encap mpls") {
				return fmt.Errorf("table 234: %q; main: %q", out, r["r1"].Run("ip", "route", "show", "3.3.3.3"))
			}
			return nil
		})
		c1 := r["r1"].StartCapture(a1, "mpls and icmp[icmptype] == icmp-echo", 2)
		c2 := r["r2"].StartCapture(b2, "mpls and icmp[icmptype] == icmp-echo", 2)
		topo.Eventually(t, time.Minute, "r1 reaches 3.3.3.3", func() error {
			_, err := r["r1"].Try("ping", "-c", "1", "-W", "1", "-I", "1.1.1.1", "3.3.3.3")
			return err
		})
		if out, err := r["r1"].Try("ping", "-c", "2", "-i", "0.3", "-W", "2", "-I", "1.1.1.1", "3.3.3.3"); err != nil {
			t.Fatalf("ping 3.3.3.3: %v\n%s", err, out)
		}
		for _, c := range []*topo.Capture{c1, c2} {
			pkts, err := c.Wait(10 * time.Second)
			if err != nil {
				t.Fatalf("no labelled echo: %v", err)
			}
			t.Logf("%s", pkts[0])
		}
	}
	ping()
	if out := r["r1"].Run("ip", "route", "show", "3.3.3.3"); !strings.Contains(out, "proto bird") {
		t.Errorf("r1: BIRD's route to 3.3.3.3 is not in main: %s", out)
	}

	nhid := regexp.MustCompile(` nhid \d+`)
	birdRoutes := func() string { return nhid.ReplaceAllString(r["r1"].Run("ip", "route", "show", "proto", "bird"), "") }
	before := birdRoutes()
	// lsrd restarts: BIRD's routes are untouched.
	if err := ls["r1"].Stop(); err != nil {
		t.Fatal(err)
	}
	if got := birdRoutes(); got != before {
		t.Errorf("lsrd's stop changed BIRD's routes:\n%s\nwas:\n%s", got, before)
	}
	ls["r1"] = r["r1"].StartLSRD(lsrdCfg("r1"))
	ping()
	// BIRD restarts: its routes go and come back; lsrd follows.
	bird["r1"].Stop()
	topo.Eventually(t, 30*time.Second, "r1: the labelled copies go with BIRD's routes", func() error {
		if out, _ := r["r1"].Try("ip", "route", "show", "table", "234"); strings.Contains(out, "encap") {
			return fmt.Errorf("table 234:\n%s", out)
		}
		return nil
	})
	bird["r1"] = r["r1"].StartBIRD(cfg("r1"))
	topo.Eventually(t, time.Minute, "r1: BIRD's routes back", func() error {
		if got := birdRoutes(); got != before {
			// On a timeout, what OSPF itself says on both ends.
			n1, _ := bird["r1"].Birdc("show", "ospf", "neighbors")
			n2, _ := bird["r2"].Birdc("show", "ospf", "neighbors")
			return fmt.Errorf("have:\n%s\nwant:\n%s\nr1 ospf neighbours:\n%s\nr2 ospf neighbours:\n%s", got, before, n1, n2)
		}
		return nil
	})
	ping()
	if got := birdRoutes(); got != before {
		t.Errorf("BIRD's routes after both restarts:\n%s\nwas:\n%s", got, before)
	}
	if out, err := bird["r1"].Birdc("show", "route", "count"); err == nil {
		t.Logf("r1 birdc show route count: %s", strings.TrimSpace(out))
	}
}
