package topo

import (
	"fmt"
	"strings"
	"time"
)

// ZTChain is the seed's scenario on the real ZeroTier One: r1 - r2 - r3 over
// two networks of a private planet, A (r1, r2, 10.1.0.0/24) and B (r2, r3,
// 10.2.0.0/24), each router one zerotier-one node, lsrd naming its LDP
// interfaces by network ID and reaching the other loopbacks by static
// routes. The demo and the lab tests build it the same way.
type ZTChain struct {
	Planet *ZTPlanet
	A, B   *ZTNetwork
	R      [3]*Router
	Node   [3]*ZTNode
	LSRD   [3]*LSRD
	// The ZeroTier devices: r1 and r2 on A, r2 and r3 on B.
	A1, A2, B2, B3 string
}

// NewZTChain makes the planet, starts the nodes, creates both networks on
// the controller and has every router join and be authorised.
func (l *Lab) NewZTChain() *ZTChain {
	l.t.Helper()
	c := &ZTChain{Planet: l.ZeroTierPlanet()}
	for i := range c.R {
		c.R[i] = l.Router(fmt.Sprintf("r%d", i+1))
		c.R[i].AddLoopback(fmt.Sprintf("%s/32", c.RouterID(i)))
	}
	copy(c.Node[:], c.Planet.Nodes(c.R[:]...))
	c.A = c.Planet.Network("mpls-a", "10.1.0.0/24")
	c.B = c.Planet.Network("mpls-b", "10.2.0.0/24")
	// All four joins first, then the waits: each takes a few seconds.
	joins := []struct {
		w   *ZTNetwork
		n   int
		ip  string
		dev *string
	}{{c.A, 0, "10.1.0.1", &c.A1}, {c.A, 1, "10.1.0.2", &c.A2}, {c.B, 1, "10.2.0.2", &c.B2}, {c.B, 2, "10.2.0.3", &c.B3}}
	for _, j := range joins {
		j.w.join(c.Node[j.n], j.ip)
	}
	for _, j := range joins {
		*j.dev = j.w.wait(c.Node[j.n], j.ip)
	}
	return c
}

// RouterID is router i's LSR ID and loopback (i from 0).
func (c *ZTChain) RouterID(i int) string { return fmt.Sprintf("%[1]d.%[1]d.%[1]d.%[1]d", i+1) }

// Config is router i's lsrd configuration: LDP on its networks by ID
// (hellos every second), static routes to the other loopbacks, and the
// zerotier section for its node; extra is appended as it is.
func (c *ZTChain) Config(i int, extra string) string {
	nets := [][]*ZTNetwork{{c.A}, {c.A, c.B}, {c.B}}[i]
	statics := [][]string{
		{"2.2.2.2/32 10.1.0.2", "3.3.3.3/32 10.1.0.2", "10.2.0.0/24 10.1.0.2"},
		{"1.1.1.1/32 10.1.0.1", "3.3.3.3/32 10.2.0.3"},
		{"1.1.1.1/32 10.2.0.2", "2.2.2.2/32 10.2.0.2", "10.1.0.0/24 10.2.0.2"},
	}[i]
	var b strings.Builder
	fmt.Fprintf(&b, "router-id: %s\nldp:\n  interfaces:\n", c.RouterID(i))
	for _, n := range nets {
		fmt.Fprintf(&b, "    - name: %s   # network %s\n", n.Hex(), n.Name)
	}
	b.WriteString("  timers:\n    hello-interval: 1s\n    hello-hold: 3s\nstatic-routes:\n")
	for _, s := range statics {
		f := strings.Fields(s)
		fmt.Fprintf(&b, "  - prefix: %s\n    next-hop: %s\n", f[0], f[1])
	}
	b.WriteString(c.Node[i].LSRDConfig())
	b.WriteString(extra)
	return b.String()
}

// Start starts lsrd on every router with Config(i, extra) and waits until
// the four LDP sessions are OPERATIONAL.
func (c *ZTChain) Start(extra string) {
	t := c.Planet.lab.t
	t.Helper()
	for i := range c.R {
		c.LSRD[i] = c.R[i].StartLSRD(c.Config(i, extra))
	}
	Eventually(t, 90*time.Second, "LDP sessions over ZeroTier", func() error {
		for _, p := range [][2]int{{0, 1}, {1, 0}, {1, 2}, {2, 1}} {
			if err := c.Operational(p[0], p[1]); err != nil {
				return err
			}
		}
		return nil
	})
}

// Operational returns nil when router i's session with router j is
// OPERATIONAL.
func (c *ZTChain) Operational(i, j int) error {
	// Decoded here, not as ldp.NeighborInfo: packages that ldp imports
	// use topo in their lab tests.
	var ns []struct {
		LSRID string `json:"lsr_id"`
		State string `json:"state"`
	}
	if err := c.LSRD[i].Get("/v1/ldp/neighbors", &ns); err != nil {
		return err
	}
	for _, n := range ns {
		if n.LSRID == c.RouterID(j) && n.State == "OPERATIONAL" {
			return nil
		}
	}
	return fmt.Errorf("r%d: no OPERATIONAL session with %s: %+v", i+1, c.RouterID(j), ns)
}
