//go:build lab

package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/ctl"
	"github.com/lsrd/lsrd/lab/topo"
)

// igpNet is r1 - r2 - r3 - r4 with a second path r2 - r5 - r4, every router
// running FRR's zebra and ospfd (no ldpd) and lsrd for LDP, and no static
// route anywhere: OSPF learns the loopbacks N.N.N.N, LDP labels them.
type igpNet struct {
	r    map[string]*topo.Router
	frr  map[string]*topo.FRR
	lsrd map[string]*topo.LSRD
	cfg  map[string]topo.FRRConfig
	ifs  map[string][]string // router -> its link interfaces
	// link interface names by "rA-rB": A's side
	side map[string]string
	// debug runs lsrd at log level debug (every label message logged).
	debug bool
}

// The square of TestLDPOverOSPFWithFRR: r1 - r2 - r3 - r4 and r2 - r5 - r4.
var igpSquare = [][2]string{{"r1", "r2"}, {"r2", "r3"}, {"r3", "r4"}, {"r2", "r5"}, {"r5", "r4"}}

// newIGPNet builds routers r1..rN (N.N.N.N loopbacks) and the links, every
// router with OSPF on every link. frrLDP names routers where FRR's ldpd
// runs LDP instead of lsrd.
func newIGPNet(t *testing.T, routers int, links [][2]string, frrLDP ...string) *igpNet {
	lab := topo.New(t)
	n := &igpNet{r: map[string]*topo.Router{}, frr: map[string]*topo.FRR{}, lsrd: map[string]*topo.LSRD{},
		cfg: map[string]topo.FRRConfig{}, ifs: map[string][]string{}, side: map[string]string{}}
	for i := 1; i <= routers; i++ {
		name := fmt.Sprintf("r%d", i)
		r := lab.Router(name)
		r.AddLoopback(fmt.Sprintf("%d.%d.%d.%d/32", i, i, i, i))
		r.Run("sysctl", "-qw", "net.ipv4.ip_forward=1")
		n.r[name] = r
	}
	for i, l := range links {
		a, b := lab.Link(n.r[l[0]], n.r[l[1]], fmt.Sprintf("10.%d.0.1/30", i+1), fmt.Sprintf("10.%d.0.2/30", i+1))
		n.side[l[0]+"-"+l[1]], n.side[l[1]+"-"+l[0]] = a, b
		n.ifs[l[0]] = append(n.ifs[l[0]], a)
		n.ifs[l[1]] = append(n.ifs[l[1]], b)
	}
	for name, r := range n.r {
		r.EnableMPLS(append(n.ifs[name], "lo")...)
		id := strings.Repeat(name[1:]+".", 4)
		n.cfg[name] = topo.FRRConfig{RouterID: id[:len(id)-1], OSPF: &topo.FRROSPF{Interfaces: n.ifs[name]}}
	}
	for _, name := range frrLDP {
		c := n.cfg[name]
		c.LDP = &topo.FRRLDP{Interfaces: n.ifs[name]}
		n.cfg[name] = c
	}
	return n
}

// start runs FRR on every router, then lsrd on those without FRR's ldpd.
func (n *igpNet) start() {
	names := n.names()
	for _, name := range names {
		n.startFRR(name)
	}
	for _, name := range names {
		if n.cfg[name].LDP == nil {
			n.lsrd[name] = n.r[name].StartLSRD(n.lsrdConfig(name))
		}
	}
}

func (n *igpNet) names() []string {
	var names []string
	for i := 1; i <= len(n.r); i++ {
		names = append(names, fmt.Sprintf("r%d", i))
	}
	return names
}

// converged waits until every lsrd has a local binding for every loopback
// and a label in use for every one it is not the egress of.
func (n *igpNet) converged(t *testing.T) {
	t.Helper()
	start := time.Now()
	topo.Eventually(t, 2*time.Minute, "bindings for every OSPF loopback with a label in use", func() error {
		for name, l := range n.lsrd {
			bs, err := lsrdBindings(l)
			if err != nil {
				return err
			}
			for _, other := range n.names() {
				lo := fmt.Sprintf("%[1]s.%[1]s.%[1]s.%[1]s/32", other[1:])
				b, ok := bs[lo]
				if !ok || !b.HasLocal {
					return fmt.Errorf("%s: no local binding for %s", name, lo)
				}
				if other == name {
					continue
				}
				inUse := false
				for _, rb := range b.Remote {
					inUse = inUse || rb.InUse
				}
				if !inUse {
					return fmt.Errorf("%s: no label in use for %s", name, lo)
				}
			}
		}
		return nil
	})
	t.Logf("every binding in place %.1f s after lsrd started", time.Since(start).Seconds())
}

func (n *igpNet) lsrdConfig(name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "router-id: %s\n", n.cfg[name].RouterID)
	if n.debug {
		b.WriteString("log-level: debug\n")
	}
	b.WriteString("ldp:\n  interfaces:\n")
	for _, i := range n.ifs[name] {
		fmt.Fprintf(&b, "    - name: %s\n", i)
	}
	if name == "r4" {
		b.WriteString("  labels:\n    explicit-null: true\n") // labelled on the last link too
	}
	return b.String()
}

// dump logs what every router's kernel holds, for a failure.
func (n *igpNet) dump(t *testing.T) {
	for _, name := range n.names() {
		r := n.r[name]
		out, _ := r.Try("ip", "-4", "route", "show", "table", "all")
		out2, _ := r.Try("ip", "-f", "mpls", "route")
		out3, _ := r.Try("ip", "nexthop")
		out4, _ := r.Try("ip", "rule")
		t.Logf("%s routes:\n%s\nmpls:\n%s\nnexthops:\n%s\nrules:\n%s", name, out, out2, out3, out4)
		if l := n.lsrd[name]; l != nil {
			// Where a move stopped: the kernel's route (above), lsrd's
			// RIB, its labels, or the FTN it wants and whether the
			// kernel holds it.
			bs, err := lsrdBindings(l)
			var rib json.RawMessage
			ribErr := l.Get("/v1/rib", &rib)
			var v api.TableView
			lfibErr := l.Get("/v1/lfib", &v)
			for _, fec := range []string{"1.1.1.1/32", "4.4.4.4/32"} {
				var routes []string
				if rs, err := ctl.DecodeRoutes(rib); err == nil {
					for _, r := range rs {
						if r.Prefix.String() == fec {
							routes = append(routes, fmt.Sprint(r))
						}
					}
				}
				var ftn []string
				for _, e := range v.FTN {
					if e.Prefix.String() == fec {
						ftn = append(ftn, fmt.Sprintf("%+v", e))
					}
				}
				t.Logf("%s %s: bindings %+v (%v); rib %v (%v); ftn %v (%v)", name, fec, bs[fec], err, routes, ribErr, ftn, lfibErr)
			}
		}
		if l := n.lsrd[name]; l != nil && n.debug {
			if log, err := readFile(l.Log); err == nil {
				var keep []string
				for _, line := range strings.Split(log, "\n") {
					if strings.Contains(line, "4.4.4.4/32") || strings.Contains(line, "session") || strings.Contains(line, "WARN") {
						keep = append(keep, line)
					}
				}
				if len(keep) > 80 {
					keep = keep[len(keep)-80:]
				}
				t.Logf("%s lsrd log, 4.4.4.4/32 and sessions (last 80):\n%s", name, strings.Join(keep, "\n"))
			}
		}
		if f := n.frr[name]; f != nil {
			out, _ := f.Vtysh("show ip route 4.4.4.4/32")
			out2, _ := f.Vtysh("show ip ospf neighbor")
			t.Logf("%s zebra 4.4.4.4/32:\n%s\nospf neighbours:\n%s", name, out, out2)
		}
	}
}

// preferR3 makes r2 reach r4 over r3 (cost 20) rather than r5 (30): cost 15
// on both ends of r2-r5 and r5-r4. Every router still reaches each
// neighbour's loopback over the link between them, both ways, as GTSM
// needs: an LDP session whose segments take a longer path arrive with a
// TTL below 255 and are dropped (a cost of 100 on r2's side of r2-r5 alone
// made r2 answer r5's SYN over r3 and r4, and that session never formed).
func (n *igpNet) preferR3() {
	for _, side := range []string{"r2-r5", "r5-r2", "r5-r4", "r4-r5"} {
		r := side[:2]
		if n.cfg[r].OSPF.Cost == nil {
			n.cfg[r].OSPF.Cost = map[string]int{}
		}
		n.cfg[r].OSPF.Cost[n.side[side]] = 15
	}
}

func (n *igpNet) startFRR(name string) { n.frr[name] = n.r[name].StartFRR(n.cfg[name]) }

// labelled checks that r1's echoes to 4.4.4.4 carry a label on each link of
// the path, capturing on the sending side of each.
func (n *igpNet) labelled(t *testing.T, path ...string) {
	n.labelledTo(t, "4.4.4.4", path...)
}

// labelledTo checks r1's echoes to dst the same way.
func (n *igpNet) labelledTo(t *testing.T, dst string, path ...string) {
	t.Helper()
	// The network may still be converging (an OSPF restart): the path
	// must work first, then its echoes are captured.
	for deadline := time.Now().Add(time.Minute); ; {
		_, err := n.r["r1"].Try("ping", "-c", "1", "-W", "1", "-I", "1.1.1.1", dst)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			n.dump(t)
			t.Fatalf("r1 does not reach %s within a minute: %v", dst, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	var caps []*topo.Capture
	for i := 0; i+1 < len(path); i++ {
		caps = append(caps, n.r[path[i]].StartCapture(n.side[path[i]+"-"+path[i+1]], "mpls and icmp[icmptype] == icmp-echo", 2))
	}
	if out, err := n.r["r1"].Try("ping", "-c", "2", "-i", "0.3", "-W", "2", "-I", "1.1.1.1", dst); err != nil {
		n.dump(t)
		t.Fatalf("ping %s: %v\n%s", dst, err, out)
	}
	for i, c := range caps {
		pkts, err := c.Wait(10 * time.Second)
		if err != nil {
			t.Errorf("%s-%s: no labelled echo: %v", path[i], path[i+1], err)
			continue
		}
		t.Logf("%s -> %s: %s", path[i], path[i+1], pkts[0])
	}
}

// Every router runs FRR's zebra+ospfd and lsrd; no static routes. LDP labels
// the OSPF loopbacks, r1's ping to r4 is labelled on every link of the
// path, r2 has a labelled multipath route to r4 over both equal paths, and
// zebra's routes and lsrd's coexist through restarts of either, in either
// order. Taking the r2-r3 link down moves the LSP to r2-r5-r4.
func TestLDPOverOSPFWithFRR(t *testing.T) {
	n := newIGPNet(t, 5, igpSquare)
	// r2 prefers r3 at first: one path, captured on each of its links.
	n.preferR3()
	n.start()
	n.converged(t)

	// What an operator sees: a binding for every OSPF loopback.
	out := lsrctlIn(t, lsrctlBinary(t), n.r["r1"], n.lsrd["r1"], "show", "ldp", "bindings").ok(t, "show ldp bindings")
	for _, other := range n.names() {
		if tableRow(out, fmt.Sprintf("%[1]s.%[1]s.%[1]s.%[1]s/32", other[1:])) == nil {
			t.Errorf("r1: lsrctl show ldp bindings has no row for r%s's loopback:\n%s", other[1:], out)
		}
	}
	t.Logf("r1: lsrctl show ldp bindings:\n%s", out)

	// r1's route to r4: zebra's OSPF route in main, untouched; lsrd's
	// labelled copy in table 234.
	r1 := n.r["r1"]
	if out := r1.Run("ip", "route", "show", "4.4.4.4"); !strings.Contains(out, "proto ospf") {
		t.Errorf("r1: zebra's route to 4.4.4.4 is not in main: %s", out)
	}
	if out := r1.Run("ip", "route", "show", "table", "234", "4.4.4.4"); !strings.Contains(out, "encap mpls") || !strings.Contains(out, "proto 234") {
		t.Errorf("r1: no labelled copy for 4.4.4.4 in table 234: %s", out)
	}
	// Every link of r1 - r2 - r3 - r4 (r4 advertises explicit null).
	n.labelled(t, "r1", "r2", "r3", "r4")
	// ECMP: at equal cost r2 reaches r4 over r3 and r5; the copy has both,
	// each pushing its own neighbour's label.
	if out, err := n.frr["r2"].Vtysh("", "-c", "configure terminal", "-c", "interface "+n.side["r2-r5"], "-c", "ip ospf cost 5"); err != nil {
		t.Fatalf("r2: OSPF cost 5 towards r5 (equal paths to r4): %v\n%s", err, out)
	}
	topo.Eventually(t, time.Minute, "r2: labelled multipath to 4.4.4.4 over r3 and r5", func() error {
		out := n.r["r2"].Run("ip", "route", "show", "table", "234", "4.4.4.4")
		if strings.Count(out, "encap mpls") != 2 || !strings.Contains(out, n.side["r2-r3"]) || !strings.Contains(out, n.side["r2-r5"]) {
			return fmt.Errorf("%s", out)
		}
		return nil
	})
	t.Logf("r2: table 234 route to 4.4.4.4:\n%s", n.r["r2"].Run("ip", "route", "show", "table", "234", "4.4.4.4"))

	// zebra restarts: lsrd's routes stay, zebra's come back, both coexist.
	// zebra's routes, less the nexthop IDs it allocates afresh at each start
	nhid := regexp.MustCompile(` nhid \d+`)
	ospfRoutes := func(r *topo.Router) string {
		return nhid.ReplaceAllString(r.Run("ip", "route", "show", "proto", "ospf"), "")
	}
	before := ospfRoutes(r1)
	n.frr["r1"].Stop()
	n.startFRR("r1")
	topo.Eventually(t, time.Minute, "r1: zebra's OSPF routes back", func() error {
		if got := ospfRoutes(r1); got != before {
			return fmt.Errorf("have:\n%s\nwant:\n%s", got, before)
		}
		return nil
	})
	if out := r1.Run("ip", "route", "show", "table", "234", "4.4.4.4"); !strings.Contains(out, "encap mpls") {
		t.Errorf("r1: after zebra's restart, no labelled copy for 4.4.4.4: %s", out)
	}
	n.labelled(t, "r1", "r2")
	// lsrd restarts: zebra's routes are untouched throughout.
	if err := n.lsrd["r1"].Stop(); err != nil {
		t.Fatal(err)
	}
	if got := ospfRoutes(r1); got != before {
		t.Errorf("r1: lsrd's stop changed zebra's routes:\n%s\nwas:\n%s", got, before)
	}
	n.lsrd["r1"] = r1.StartLSRD(n.lsrdConfig("r1"))
	topo.Eventually(t, time.Minute, "r1: labelled copy back after lsrd's restart", func() error {
		if out := r1.Run("ip", "route", "show", "table", "234", "4.4.4.4"); !strings.Contains(out, "encap mpls") {
			return fmt.Errorf("%s", out)
		}
		return nil
	})
	n.labelled(t, "r1", "r2")
	if got := ospfRoutes(r1); got != before {
		t.Errorf("r1: lsrd's restart changed zebra's routes:\n%s\nwas:\n%s", got, before)
	}

	// Both daemons of transit r3 stop (lsrd first, while it has routes to
	// say goodbye over); lsrd starts first, FRR after, with no routes yet.
	if err := n.lsrd["r3"].Stop(); err != nil {
		t.Fatal(err)
	}
	n.frr["r3"].Stop()
	n.lsrd["r3"] = n.r["r3"].StartLSRD(n.lsrdConfig("r3"))
	time.Sleep(2 * time.Second)
	n.startFRR("r3")
	n.converged(t)
	n.labelled(t, "r1", "r2")

	// Failover: r2-r3 goes down; OSPF moves r2's route to r5 alone, and the
	// LSP follows. A 20 ms ping measures the loss.
	ping := r1.Background("ping", "-D", "-O", "-i", "0.02", "-W", "1", "-I", "1.1.1.1", "4.4.4.4")
	time.Sleep(2 * time.Second)
	down := time.Now()
	n.r["r2"].Run("ip", "link", "set", n.side["r2-r3"], "down")
	topo.Eventually(t, time.Minute, "r2: route to 4.4.4.4 over r5 alone, labelled", func() error {
		out := n.r["r2"].Run("ip", "route", "show", "table", "234", "4.4.4.4")
		if strings.Contains(out, n.side["r2-r3"]) || !strings.Contains(out, "encap mpls") {
			return fmt.Errorf("%s", out)
		}
		return nil
	})
	moved := time.Since(down)
	time.Sleep(2 * time.Second)
	pingOut, _ := ping.Stop()
	pr := parsePing(pingOut)
	sent, lost := pr.sent, pr.sent-pr.received
	// The figures are for the bench to compare with FRR's; the test
	// asserts that the LSP follows and carries traffic again.
	t.Logf("failover r2-r3 down: labelled path over r5 in %.2f s; 20 ms ping: %d sent, %d lost", moved.Seconds(), sent, lost)
	n.labelled(t, "r1", "r2", "r5")
}

// lsrd routers and FRR ldpd routers in one OSPF domain: lsrd r1 - FRR r2 -
// lsrd r3. The labels each side holds from the other agree, and r1's ping
// to r3's loopback is labelled on both links, through FRR's swap.
func TestLDPOverOSPFMixedWithFRR(t *testing.T) {
	n := newIGPNet(t, 3, [][2]string{{"r1", "r2"}, {"r2", "r3"}}, "r2")
	n.start()
	n.converged(t)
	for _, c := range []struct{ lsrd, id string }{{"r1", "1.1.1.1"}, {"r3", "3.3.3.3"}} {
		topo.Eventually(t, time.Minute, c.lsrd+" and FRR r2 agree on labels", func() error {
			fecs, err := agree(n.frr["r2"], n.lsrd[c.lsrd], "2.2.2.2", c.id)
			if err == nil && len(fecs) < 3 {
				err = fmt.Errorf("only %v compared", fecs)
			}
			return err
		})
	}
	n.labelledTo(t, "3.3.3.3", "r1", "r2")
	// FRR's swap on r2: the echo leaves r2 towards r3 with r3's label
	// popped (implicit null) or swapped; what arrives at r3 is r1's
	// traffic, and r1's route in table 234 pushes r2's label.
	if out := n.r["r1"].Run("ip", "route", "show", "table", "234", "3.3.3.3"); !strings.Contains(out, "encap mpls") {
		t.Errorf("r1: no labelled copy for 3.3.3.3: %s", out)
	}
}
