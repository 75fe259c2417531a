//go:build lab

package e2e

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
)

// chain is r1 - netA - r2 - netB - r3 with loopbacks 1.1.1.1, 2.2.2.2 and
// 3.3.3.3; a1, a2, b2, b3 are the ZeroTier-like interface names.
type chain struct {
	lab            *topo.Lab
	r1, r2, r3     *topo.Router
	netA, netB     *topo.Segment
	a1, a2, b2, b3 string
}

func newChain(t *testing.T) *chain {
	c := &chain{lab: topo.New(t)}
	c.netA, c.netB = c.lab.ZeroTier(0x8056c2e21c123456), c.lab.ZeroTier(0xabfd31bd47a56b31)
	c.r1, c.r2, c.r3 = c.lab.Router("r1"), c.lab.Router("r2"), c.lab.Router("r3")
	c.a1 = c.netA.Attach(c.r1, "10.1.0.1/24")
	c.a2 = c.netA.Attach(c.r2, "10.1.0.2/24")
	c.b2 = c.netB.Attach(c.r2, "10.2.0.2/24")
	c.b3 = c.netB.Attach(c.r3, "10.2.0.3/24")
	c.r1.AddLoopback("1.1.1.1/32")
	c.r2.AddLoopback("2.2.2.2/32")
	c.r3.AddLoopback("3.3.3.3/32")
	return c
}

// pair is r1 and r2 on one ZeroTier-like network (addresses <subnet>.1 and
// <subnet>.2, /24) with loopbacks 1.1.1.1 and 2.2.2.2.
type pair struct {
	lab      *topo.Lab
	r1, r2   *topo.Router
	if1, if2 string
}

func newPair(t *testing.T, nwid uint64, subnet string) *pair {
	p := &pair{lab: topo.New(t)}
	zt := p.lab.ZeroTier(nwid)
	p.r1, p.r2 = p.lab.Router("r1"), p.lab.Router("r2")
	p.if1 = zt.Attach(p.r1, subnet+".1/24")
	p.if2 = zt.Attach(p.r2, subnet+".2/24")
	p.r1.AddLoopback("1.1.1.1/32")
	p.r2.AddLoopback("2.2.2.2/32")
	return p
}

// lsrdConfig is an lsrd configuration with LDP on the given interfaces and
// static routes written "PREFIX NEXTHOP".
func lsrdConfig(id string, ifaces []string, statics ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "router-id: %s\nldp:\n  interfaces:\n", id)
	for _, i := range ifaces {
		fmt.Fprintf(&b, "    - name: %s\n", i)
	}
	if len(statics) > 0 {
		b.WriteString("static-routes:\n")
		for _, s := range statics {
			f := strings.Fields(s)
			fmt.Fprintf(&b, "  - prefix: %s\n    next-hop: %s\n", f[0], f[1])
		}
	}
	return b.String()
}

// pushesLabelOf returns the label r's kernel route to prefix pushes, or an
// error unless it is l's local label for fec.
func pushesLabelOf(r *topo.Router, prefix string, l *topo.LSRD, fec string) (int, error) {
	want, err := localLabel(l, fec)
	if err != nil {
		return 0, err
	}
	got, err := pushedLabel(r, prefix)
	if err != nil {
		return 0, err
	}
	if got != int(want) {
		return 0, fmt.Errorf("%s pushes %d for %s, the label for %s is %d", r.Name, got, prefix, fec, want)
	}
	return got, nil
}

// pushedLabel returns the (outermost) label the router's kernel route to
// prefix pushes.
func pushedLabel(r *topo.Router, prefix string) (int, error) {
	stack, err := pushedStack(r, prefix)
	if err != nil {
		return 0, err
	}
	outer, _, _ := strings.Cut(stack, "/")
	return strconv.Atoi(outer)
}

func localLabel(l *topo.LSRD, fec string) (uint32, error) {
	bs, err := lsrdBindings(l)
	if err != nil {
		return 0, err
	}
	b, ok := bs[fec]
	if !ok || !b.HasLocal {
		return 0, fmt.Errorf("no local label for %s", fec)
	}
	return uint32(b.LocalLabel), nil
}

// mplsLines returns the router's kernel label routes, one line each.
func mplsLines(r *topo.Router) []string {
	out, _ := r.Try("ip", "-f", "mpls", "route", "show")
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l != "" {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	return lines
}

// waitLabelRoute waits until the router's kernel label table has the route
// written as iproute2 prints it.
func waitLabelRoute(t *testing.T, r *topo.Router, want string) {
	t.Helper()
	topo.Eventually(t, 30*time.Second, r.Name+": label route "+want, func() error {
		if !slices.Contains(mplsLines(r), want) {
			return fmt.Errorf("label table %q", mplsLines(r))
		}
		return nil
	})
}

// Three lsrd routers in a chain over ZeroTier-like networks: r1 pushes r2's
// label for 3.3.3.3, r2 pops it (r3 is the egress: penultimate hop popping),
// and the echo requests are seen labelled on the first link and unlabelled
// on the second. Then the restart, withdraw and interface-loss cases.
func TestLSRDChain(t *testing.T) {
	c := newChain(t)
	r2Config := lsrdConfig("2.2.2.2", []string{c.a2, c.b2}, "1.1.1.1/32 10.1.0.1", "3.3.3.3/32 10.2.0.3", "3.3.3.30/32 10.2.0.3")
	c.r1.StartLSRD(lsrdConfig("1.1.1.1", []string{c.a1}, "2.2.2.2/32 10.1.0.2", "3.3.3.3/32 10.1.0.2", "3.3.3.30/32 10.1.0.2", "10.2.0.0/24 10.1.0.2"))
	l2 := c.r2.StartLSRD(r2Config)
	c.r3.StartLSRD(lsrdConfig("3.3.3.3", []string{c.b3}, "1.1.1.1/32 10.2.0.2", "2.2.2.2/32 10.2.0.2", "10.1.0.0/24 10.2.0.2"))

	var label int
	topo.Eventually(t, 60*time.Second, "r1 pushes r2's label for 3.3.3.3", func() (err error) {
		label, err = pushesLabelOf(c.r1, "3.3.3.3/32", l2, "3.3.3.3/32")
		return err
	})
	waitLabelRoute(t, c.r2, fmt.Sprintf("%d via inet 10.2.0.3 dev %s proto 234", label, c.b2))
	onA := c.r2.StartCapture(c.a2, "icmp or mpls", 2)
	onB := c.r3.StartCapture(c.b3, "icmp[icmptype] == icmp-echo", 2)
	out, err := c.r1.Try("ping", "-c", "2", "-i", "0.3", "-W", "2", "-I", "1.1.1.1", "3.3.3.3")
	if err != nil {
		t.Fatalf("ping 3.3.3.3 from 1.1.1.1: %v", err)
	}
	t.Logf("ping through the LSP:\n%s", out)
	pktsA, err := onA.Wait(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pktsA {
		if strings.Contains(p, "echo request") && !strings.Contains(p, fmt.Sprintf("MPLS (label %d,", label)) {
			t.Errorf("on r1-r2 the echo request is %q, want it under label %d", p, label)
		}
	}
	pktsB, err := onB.Wait(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pktsB {
		if strings.Contains(p, "MPLS") {
			t.Errorf("on r2-r3 the echo request is %q, want it unlabelled (r2 pops)", p)
		}
	}
	t.Logf("r1-r2:\n%s\nr2-r3:\n%s", strings.Join(pktsA, "\n"), strings.Join(pktsB, "\n"))

	t.Run("kill -9 and restart leave no stale or duplicate route", func(t *testing.T) {
		before := mplsLines(c.r2)
		l2.Kill()
		l2 = c.r2.StartLSRD(r2Config)
		topo.Eventually(t, 60*time.Second, "r2's label table after the restart", func() error {
			var lfib struct {
				LFIB []struct {
					InLabel int `json:"in_label"`
				} `json:"lfib"`
			}
			if err := l2.Get("/v1/lfib", &lfib); err != nil {
				return err
			}
			lines := mplsLines(c.r2)
			labels := map[string]int{}
			for _, l := range lines {
				labels[strings.Fields(l)[0]]++
			}
			for k, n := range labels {
				if n > 1 {
					return fmt.Errorf("label %s installed %d times: %q", k, n, lines)
				}
			}
			if len(lines) != len(lfib.LFIB) || len(lines) == 0 {
				return fmt.Errorf("kernel has %d label routes %q, lsrd wants %d", len(lines), lines, len(lfib.LFIB))
			}
			for _, e := range lfib.LFIB {
				if labels[strconv.Itoa(e.InLabel)] != 1 {
					return fmt.Errorf("desired label %d not in the kernel %q", e.InLabel, lines)
				}
			}
			return nil
		})
		t.Logf("before: %q\nafter: %q", before, mplsLines(c.r2))
		if _, err := c.r1.Try("ping", "-c", "1", "-W", "2", "-I", "1.1.1.1", "3.3.3.3"); err != nil {
			// The LSP re-forms once r1 has the new session's labels.
			topo.Eventually(t, 60*time.Second, "ping through the re-formed LSP", func() error {
				_, err := c.r1.Try("ping", "-c", "1", "-W", "2", "-I", "1.1.1.1", "3.3.3.3")
				return err
			})
		}
	})

	t.Run("a withdrawn FEC's routes go within the hold time", func(t *testing.T) {
		// r3 loses its second loopback 3.3.3.30 (not its transport address,
		// which carries the session): its mapping is withdrawn, and r1 stops
		// pushing a label for it within the hold time.
		c.r3.AddLoopback("3.3.3.30/32")
		topo.Eventually(t, 30*time.Second, "r1 pushes a label for 3.3.3.30", func() error {
			_, err := pushedLabel(c.r1, "3.3.3.30/32")
			return err
		})
		c.r3.Run("ip", "addr", "del", "3.3.3.30/32", "dev", "lo")
		topo.Eventually(t, 15*time.Second, "r1's route to 3.3.3.30 without a label", func() error {
			if l, err := pushedLabel(c.r1, "3.3.3.30/32"); err == nil {
				return fmt.Errorf("r1 still pushes %d", l)
			}
			return nil
		})
	})

	t.Run("an interface deleted under lsrd is recovered from", func(t *testing.T) {
		c.r2.Run("ip", "link", "del", c.b2)
		topo.Eventually(t, 30*time.Second, "r1 stops pushing towards the lost link", func() error {
			if l, err := pushedLabel(c.r1, "3.3.3.3/32"); err == nil {
				return fmt.Errorf("r1 still pushes %d", l)
			}
			return nil
		})
		c.netB.Attach(c.r2, "10.2.0.2/24")
		topo.Eventually(t, 90*time.Second, "ping through the LSP once the link is back", func() error {
			if _, err := pushedLabel(c.r1, "3.3.3.3/32"); err != nil {
				return err
			}
			_, err := c.r1.Try("ping", "-c", "1", "-W", "2", "-I", "1.1.1.1", "3.3.3.3")
			return err
		})
	})
}

// FRR - lsrd - FRR: lsrd in the middle swaps the label FRR's r1 pushes for
// the one FRR's r3 advertised (explicit-null, so the swap is visible on the
// wire), and ping between the FRR routers' loopbacks goes through.
func TestMixedChainLSRDSwaps(t *testing.T) {
	c := newChain(t)
	c.r1.EnableMPLS(c.a1, "lo")
	c.r3.EnableMPLS(c.b3, "lo")
	c.r1.StartFRR(topo.FRRConfig{RouterID: "1.1.1.1",
		Static: []string{"2.2.2.2/32 10.1.0.2", "3.3.3.3/32 10.1.0.2", "10.2.0.0/24 10.1.0.2"},
		LDP:    &topo.FRRLDP{Interfaces: []string{c.a1}}})
	l2 := c.r2.StartLSRD(lsrdConfig("2.2.2.2", []string{c.a2, c.b2}, "1.1.1.1/32 10.1.0.1", "3.3.3.3/32 10.2.0.3"))
	c.r3.StartFRR(topo.FRRConfig{RouterID: "3.3.3.3",
		Static: []string{"1.1.1.1/32 10.2.0.2", "2.2.2.2/32 10.2.0.2", "10.1.0.0/24 10.2.0.2"},
		LDP:    &topo.FRRLDP{Interfaces: []string{c.b3}, ExplicitNull: true}})

	var in uint32
	topo.Eventually(t, 90*time.Second, "r1 (FRR) pushes lsrd's label for 3.3.3.3", func() error {
		var err error
		if in, err = localLabel(l2, "3.3.3.3/32"); err != nil {
			return err
		}
		got, err := pushedLabel(c.r1, "3.3.3.3/32")
		if err != nil {
			return err
		}
		if got != int(in) {
			return fmt.Errorf("r1 pushes %d, lsrd's label is %d", got, in)
		}
		return nil
	})
	// lsrd swaps its label to explicit-null towards r3.
	waitLabelRoute(t, c.r2, fmt.Sprintf("%d as to 0 via inet 10.2.0.3 dev %s proto 234", in, c.b2))
	onA := c.r2.StartCapture(c.a2, "mpls and icmp[icmptype] == icmp-echo", 2)
	onB := c.r3.StartCapture(c.b3, "mpls and icmp[icmptype] == icmp-echo", 2)
	if out, err := c.r1.Try("ping", "-c", "2", "-i", "0.3", "-W", "2", "-I", "1.1.1.1", "3.3.3.3"); err != nil {
		t.Fatalf("ping 3.3.3.3 from 1.1.1.1 through lsrd: %v\n%s", err, out)
	}
	for _, w := range []struct {
		c     *topo.Capture
		label uint32
		link  string
	}{{onA, in, "r1-r2"}, {onB, 0, "r2-r3"}} {
		pkts, err := w.c.Wait(10 * time.Second)
		if err != nil {
			t.Fatalf("%s: %v", w.link, err)
		}
		for _, p := range pkts {
			if !strings.Contains(p, fmt.Sprintf("MPLS (label %d,", w.label)) {
				t.Errorf("on %s: %q, want label %d", w.link, p, w.label)
			}
		}
		t.Logf("%s:\n%s", w.link, strings.Join(pkts, "\n"))
	}
}

// Four lsrd routers, r1 - r2 - r3 - r4, over three ZeroTier-like networks:
// r1 pushes r2's label, r2 swaps it for r3's, r3 pops (penultimate hop) and
// the echo requests reach r4 unlabelled. Captures on the three links show
// each step.
func TestLSRDChainSwapThenPHP(t *testing.T) {
	lab := topo.New(t)
	nets := []*topo.Segment{lab.ZeroTier(0x8056c2e21c123456), lab.ZeroTier(0xabfd31bd47a56b31), lab.ZeroTier(0x0123456789abcdef)}
	var rs []*topo.Router
	for i := 1; i <= 4; i++ {
		rs = append(rs, lab.Router(fmt.Sprintf("r%d", i)))
		rs[i-1].AddLoopback(fmt.Sprintf("%d.%d.%d.%d/32", i, i, i, i))
	}
	// Router i (0-based) has address 10.<n>.0.<i+1> on network n.
	ifs := make([][]string, 4) // per router: its interfaces, left to right
	for n, seg := range nets {
		ifs[n] = append(ifs[n], seg.Attach(rs[n], fmt.Sprintf("10.%d.0.%d/24", n+1, n+1)))
		ifs[n+1] = append(ifs[n+1], seg.Attach(rs[n+1], fmt.Sprintf("10.%d.0.%d/24", n+1, n+2)))
	}
	// Static routes: every loopback via the neighbour in its direction.
	var ls []*topo.LSRD
	for i := range rs {
		var statics []string
		for j := range rs {
			if j == i {
				continue
			}
			lo := fmt.Sprintf("%d.%d.%d.%d/32", j+1, j+1, j+1, j+1)
			if j > i {
				statics = append(statics, fmt.Sprintf("%s 10.%d.0.%d", lo, i+1, i+2))
			} else {
				statics = append(statics, fmt.Sprintf("%s 10.%d.0.%d", lo, i, i))
			}
		}
		// Label ranges of their own (r2 from 200, r3 from 300) make the swap
		// visible on the wire.
		cfg := lsrdConfig(fmt.Sprintf("%d.%d.%d.%d", i+1, i+1, i+1, i+1), ifs[i], statics...)
		cfg = strings.Replace(cfg, "ldp:\n", fmt.Sprintf("ldp:\n  labels:\n    min: %d\n", 100*(i+1)), 1)
		ls = append(ls, rs[i].StartLSRD(cfg))
	}
	var l2, l3 uint32
	topo.Eventually(t, 90*time.Second, "the LSP to 4.4.4.4", func() error {
		var err error
		if l2, err = localLabel(ls[1], "4.4.4.4/32"); err != nil {
			return err
		}
		if l3, err = localLabel(ls[2], "4.4.4.4/32"); err != nil {
			return err
		}
		got, err := pushedLabel(rs[0], "4.4.4.4/32")
		if err != nil {
			return err
		}
		if got != int(l2) {
			return fmt.Errorf("r1 pushes %d, r2's label is %d", got, l2)
		}
		swap := fmt.Sprintf("%d as to %d via inet 10.2.0.3 dev %s proto 234", l2, l3, ifs[1][1])
		if !slices.Contains(mplsLines(rs[1]), swap) {
			return fmt.Errorf("r2's label table %q lacks %q", mplsLines(rs[1]), swap)
		}
		php := fmt.Sprintf("%d via inet 10.3.0.4 dev %s proto 234", l3, ifs[2][1])
		if !slices.Contains(mplsLines(rs[2]), php) {
			return fmt.Errorf("r3's label table %q lacks %q", mplsLines(rs[2]), php)
		}
		return nil
	})
	caps := []*topo.Capture{
		rs[1].StartCapture(ifs[1][0], "mpls and icmp[icmptype] == icmp-echo", 2),
		rs[2].StartCapture(ifs[2][0], "mpls and icmp[icmptype] == icmp-echo", 2),
		rs[3].StartCapture(ifs[3][0], "icmp[icmptype] == icmp-echo", 2),
	}
	if out, err := rs[0].Try("ping", "-c", "2", "-i", "0.3", "-W", "2", "-I", "1.1.1.1", "4.4.4.4"); err != nil {
		t.Fatalf("ping 4.4.4.4 from 1.1.1.1: %v\n%s", err, out)
	}
	want := []string{fmt.Sprintf("MPLS (label %d,", l2), fmt.Sprintf("MPLS (label %d,", l3), ""}
	for i, c := range caps {
		pkts, err := c.Wait(10 * time.Second)
		if err != nil {
			t.Fatalf("link %d: %v", i+1, err)
		}
		for _, p := range pkts {
			if (want[i] == "" && strings.Contains(p, "MPLS")) || (want[i] != "" && !strings.Contains(p, want[i])) {
				t.Errorf("link %d: %q, want %q", i+1, p, cmpOr(want[i], "unlabelled"))
			}
		}
		t.Logf("link %d:\n%s", i+1, strings.Join(pkts, "\n"))
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
