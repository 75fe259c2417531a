//go:build lab

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
	"github.com/lsrd/lsrd/ldp"
	"github.com/lsrd/lsrd/ldp/lib"
)

// v6chain is lsrd r1 - FRR r2 - lsrd r3 over two ZeroTier-like segments.
// Every router has IPv6 loopback 2001:db8:ff::N and IPv6 addresses
// 2001:db8:12::/64 and 2001:db8:23::/64 on the links; dual adds IPv4
// (loopbacks N.N.N.N, links 10.1.0.0/24 and 10.2.0.0/24).
type v6chain struct {
	r1, r2, r3     *topo.Router
	a1, a2, b2, b3 string
}

// explain logs, when the test failed, what the routers hold: lsrd's
// bindings and routes, FRR's bindings and the kernels' tables.
func (c *v6chain) explain(t *testing.T, ls map[string]*topo.LSRD, f *topo.FRR) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for name, l := range ls {
			bs, err := lsrdBindings(l)
			t.Logf("%s bindings: %+v %v", name, bs, err)
			var rib any
			err = l.Get("/v1/rib", &rib)
			t.Logf("%s rib: %v %v", name, rib, err)
		}
		out, _ := f.Vtysh("show mpls ldp binding")
		t.Logf("r2 FRR bindings:\n%s", out)
		out, _ = f.Vtysh("show mpls ldp discovery detail")
		t.Logf("r2 FRR discovery:\n%s", out)
		for _, r := range []*topo.Router{c.r1, c.r2, c.r3} {
			out, _ := r.Try("ip", "-6", "route")
			out2, _ := r.Try("ip", "-f", "mpls", "route")
			out3, _ := r.Try("ip", "nexthop")
			t.Logf("%s ip -6 route:\n%s\nmpls:\n%s\nnexthops:\n%s", r.Name, out, out2, out3)
		}
	})
}

func newV6Chain(t *testing.T, dual bool) *v6chain {
	lab := topo.New(t)
	netA, netB := lab.ZeroTier(0x8056c2e21c123456), lab.ZeroTier(0xabfd31bd47a56b31)
	c := &v6chain{r1: lab.Router("r1"), r2: lab.Router("r2"), r3: lab.Router("r3")}
	for _, r := range []*topo.Router{c.r1, c.r2, c.r3} {
		// Addresses usable at once (no duplicate address detection),
		// and IPv6 routed at the ends of the LSPs.
		r.Run("sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.forwarding=1")
	}
	c.a1 = netA.Attach(c.r1, "2001:db8:12::1/64")
	c.a2 = netA.Attach(c.r2, "2001:db8:12::2/64")
	c.b2 = netB.Attach(c.r2, "2001:db8:23::2/64")
	c.b3 = netB.Attach(c.r3, "2001:db8:23::3/64")
	for i, r := range []*topo.Router{c.r1, c.r2, c.r3} {
		r.AddLoopback(fmt.Sprintf("2001:db8:ff::%d/128", i+1))
		if dual {
			r.AddLoopback(fmt.Sprintf("%d.%d.%d.%d/32", i+1, i+1, i+1, i+1))
		}
	}
	if dual {
		c.r1.Run("ip", "addr", "add", "10.1.0.1/24", "dev", c.a1)
		c.r2.Run("ip", "addr", "add", "10.1.0.2/24", "dev", c.a2)
		c.r2.Run("ip", "addr", "add", "10.2.0.2/24", "dev", c.b2)
		c.r3.Run("ip", "addr", "add", "10.2.0.3/24", "dev", c.b3)
	}
	c.r2.EnableMPLS(c.a2, c.b2, "lo")
	return c
}

// lsrdV6Config is an lsrd router's configuration for the chain.
func lsrdV6Config(id, ifname, transport6, families, pref string, statics ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "router-id: %s\nldp:\n  address-families: [%s]\n  transport-address-ipv6: %s\n", id, families, transport6)
	if pref != "" {
		fmt.Fprintf(&b, "  transport-preference: %s\n", pref)
	}
	fmt.Fprintf(&b, "  interfaces:\n    - name: %s\nstatic-routes:\n", ifname)
	for _, s := range statics {
		f := strings.Fields(s)
		fmt.Fprintf(&b, "  - prefix: %s\n    next-hop: %s\n", f[0], f[1])
	}
	return b.String()
}

// labelledPing pings dst from src in r and checks on the capture that the
// echo requests left labelled (0x8847).
func labelledPing(t *testing.T, r *topo.Router, ifname, src, dst string) {
	t.Helper()
	cap := r.StartCapture(ifname, "mpls", 2)
	args := []string{"ping", "-c", "2", "-i", "0.3", "-W", "2", "-I", src, dst}
	if out, err := r.Try(args...); err != nil {
		t.Fatalf("%s: ping %s from %s: %v\n%s", r.Name, dst, src, err, out)
	}
	pkts, err := cap.Wait(10 * time.Second)
	if err != nil {
		t.Fatalf("%s: no labelled packet on %s: %v", r.Name, ifname, err)
	}
	for _, p := range pkts {
		if !strings.Contains(p, "ethertype MPLS unicast (0x8847)") || !strings.Contains(p, dst) {
			t.Errorf("%s on %s: %q, want an MPLS frame carrying the echo to %s", r.Name, ifname, p, dst)
		}
	}
	t.Logf("%s -> %s, on %s:\n%s", src, dst, ifname, strings.Join(pkts, "\n"))
}

// LDPv6 only (RFC 7552) between lsrd and FRR's ldpd, configured as FRR's
// docs say ("address-family ipv6", "discovery transport-address"), over
// ZeroTier-like links with IPv6 addresses only: sessions over IPv6, and an
// IPv6 ping from r1's loopback to r3's is labelled on the wire both ways.
func TestLDPv6OnlyWithFRR(t *testing.T) {
	c := newV6Chain(t, false)
	l1 := c.r1.StartLSRD(lsrdV6Config("1.1.1.1", c.a1, "2001:db8:ff::1", "ipv6", "",
		"2001:db8:ff::2/128 2001:db8:12::2", "2001:db8:ff::3/128 2001:db8:12::2", "2001:db8:23::/64 2001:db8:12::2"))
	f2 := c.r2.StartFRR(topo.FRRConfig{RouterID: "2.2.2.2",
		Static: []string{"2001:db8:ff::1/128 2001:db8:12::1", "2001:db8:ff::3/128 2001:db8:23::3"},
		LDP:    &topo.FRRLDP{NoIPv4: true, IPv6: &topo.FRRLDPIPv6{TransportAddress: "2001:db8:ff::2", Interfaces: []string{c.a2, c.b2}}}})
	l3 := c.r3.StartLSRD(lsrdV6Config("3.3.3.3", c.b3, "2001:db8:ff::3", "ipv6", "",
		"2001:db8:ff::1/128 2001:db8:23::2", "2001:db8:ff::2/128 2001:db8:23::2", "2001:db8:12::/64 2001:db8:23::2"))
	c.explain(t, map[string]*topo.LSRD{"r1": l1, "r3": l3}, f2)
	f2.WaitLDPOperational(t, 90*time.Second, "1.1.1.1", "3.3.3.3")
	for _, x := range []struct {
		l         *topo.LSRD
		transport string
	}{{l1, "2001:db8:ff::2"}, {l3, "2001:db8:ff::2"}} {
		var ns []ldp.NeighborInfo
		if err := x.l.Get("/v1/ldp/neighbors", &ns); err != nil {
			t.Fatal(err)
		}
		if len(ns) != 1 || ns[0].State != "OPERATIONAL" || ns[0].Transport.String() != x.transport || ns[0].Adjacencies[0].Interface == "" {
			t.Fatalf("lsrd's neighbours %+v, want FRR OPERATIONAL over %s", ns, x.transport)
		}
	}
	topo.Eventually(t, 60*time.Second, "r1 and r3 push labels for each other's IPv6 loopback", func() error {
		for _, x := range []struct {
			r      *topo.Router
			prefix string
		}{{c.r1, "2001:db8:ff::3/128"}, {c.r3, "2001:db8:ff::1/128"}} {
			if _, err := pushedLabel(x.r, x.prefix); err != nil {
				return err
			}
		}
		return nil
	})
	labelledPing(t, c.r1, c.a1, "2001:db8:ff::1", "2001:db8:ff::3")
	labelledPing(t, c.r3, c.b3, "2001:db8:ff::3", "2001:db8:ff::1")
}

// A dual-stack chain lsrd - FRR - lsrd preferring IPv4 transport ("dual-stack
// transport-connection prefer ipv4" on FRR, transport-preference: ipv4 on
// lsrd): the sessions run over IPv4 as RFC 7552 section 6.1.1 has both
// sides agree, and IPv4 and IPv6 FECs are both labelled end to end.
func TestLDPDualStackWithFRR(t *testing.T) {
	c := newV6Chain(t, true)
	l1 := c.r1.StartLSRD(lsrdV6Config("1.1.1.1", c.a1, "2001:db8:ff::1", "ipv4, ipv6", "ipv4",
		"2001:db8:ff::2/128 2001:db8:12::2", "2001:db8:ff::3/128 2001:db8:12::2", "2001:db8:23::/64 2001:db8:12::2",
		"2.2.2.2/32 10.1.0.2", "3.3.3.3/32 10.1.0.2", "10.2.0.0/24 10.1.0.2"))
	f2 := c.r2.StartFRR(topo.FRRConfig{RouterID: "2.2.2.2",
		Static: []string{"2001:db8:ff::1/128 2001:db8:12::1", "2001:db8:ff::3/128 2001:db8:23::3", "1.1.1.1/32 10.1.0.1", "3.3.3.3/32 10.2.0.3"},
		LDP: &topo.FRRLDP{Interfaces: []string{c.a2, c.b2}, Global: []string{"dual-stack transport-connection prefer ipv4"},
			IPv6: &topo.FRRLDPIPv6{TransportAddress: "2001:db8:ff::2", Interfaces: []string{c.a2, c.b2}}}})
	l3 := c.r3.StartLSRD(lsrdV6Config("3.3.3.3", c.b3, "2001:db8:ff::3", "ipv4, ipv6", "ipv4",
		"2001:db8:ff::1/128 2001:db8:23::2", "2001:db8:ff::2/128 2001:db8:23::2", "2001:db8:12::/64 2001:db8:23::2",
		"1.1.1.1/32 10.2.0.2", "2.2.2.2/32 10.2.0.2", "10.1.0.0/24 10.2.0.2"))
	c.explain(t, map[string]*topo.LSRD{"r1": l1, "r3": l3}, f2)
	f2.WaitLDPOperational(t, 90*time.Second, "1.1.1.1", "3.3.3.3")
	for _, l := range []*topo.LSRD{l1, l3} {
		var ns []ldp.NeighborInfo
		if err := l.Get("/v1/ldp/neighbors", &ns); err != nil {
			t.Fatal(err)
		}
		if len(ns) != 1 || ns[0].State != "OPERATIONAL" || ns[0].Transport.String() != "2.2.2.2" || len(ns[0].Adjacencies) != 2 {
			t.Fatalf("lsrd's neighbours %+v, want FRR OPERATIONAL over IPv4 (2.2.2.2) with an IPv4 and an IPv6 adjacency", ns)
		}
	}
	topo.Eventually(t, 60*time.Second, "r1 and r3 push labels for each other's loopbacks, both families", func() error {
		for _, x := range []struct {
			r      *topo.Router
			prefix string
		}{{c.r1, "2001:db8:ff::3/128"}, {c.r3, "2001:db8:ff::1/128"}, {c.r1, "3.3.3.3/32"}, {c.r3, "1.1.1.1/32"}} {
			if _, err := pushedLabel(x.r, x.prefix); err != nil {
				return err
			}
		}
		return nil
	})
	labelledPing(t, c.r1, c.a1, "2001:db8:ff::1", "2001:db8:ff::3")
	labelledPing(t, c.r1, c.a1, "1.1.1.1", "3.3.3.3")
}

// One segment, three kinds of LSR: lsrd dual-stack (r1), FRR IPv4-only (r2)
// and FRR IPv6-only (r3). r1 forms a session with each over the family its
// hellos use (a single-stack neighbour sends no Dual-Stack TLV), serving
// that family only: IPv4 labels with r2, IPv6 labels with r3, and r1 uses
// each FRR's label (implicit null: they are next hops) for its loopback.
func TestLDPMixedFamiliesWithFRR(t *testing.T) {
	lab := topo.New(t)
	seg := lab.ZeroTier(0x8056c2e21c123456)
	r1, r2, r3 := lab.Router("r1"), lab.Router("r2"), lab.Router("r3")
	for _, r := range []*topo.Router{r1, r2, r3} {
		r.Run("sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.forwarding=1")
	}
	if1 := seg.Attach(r1, "10.1.0.1/24")
	r1.Run("ip", "addr", "add", "2001:db8:1::1/64", "dev", if1)
	if2 := seg.Attach(r2, "10.1.0.2/24")
	if3 := seg.Attach(r3, "2001:db8:1::3/64")
	r1.AddLoopback("1.1.1.1/32")
	r1.AddLoopback("2001:db8:ff::1/128")
	r2.AddLoopback("2.2.2.2/32")
	r3.AddLoopback("2001:db8:ff::3/128")
	r2.EnableMPLS(if2, "lo")
	r3.EnableMPLS(if3, "lo")
	l1 := r1.StartLSRD(lsrdV6Config("1.1.1.1", if1, "2001:db8:ff::1", "ipv4, ipv6", "",
		"2.2.2.2/32 10.1.0.2", "2001:db8:ff::3/128 2001:db8:1::3"))
	f2 := r2.StartFRR(topo.FRRConfig{RouterID: "2.2.2.2", Static: []string{"1.1.1.1/32 10.1.0.1"},
		LDP: &topo.FRRLDP{Interfaces: []string{if2}}})
	f3 := r3.StartFRR(topo.FRRConfig{RouterID: "3.3.3.3", Static: []string{"2001:db8:ff::1/128 2001:db8:1::1"},
		LDP: &topo.FRRLDP{NoIPv4: true, IPv6: &topo.FRRLDPIPv6{TransportAddress: "2001:db8:ff::3", Interfaces: []string{if3}}}})
	f2.WaitLDPOperational(t, 90*time.Second, "1.1.1.1")
	f3.WaitLDPOperational(t, 90*time.Second, "1.1.1.1")
	var ns []ldp.NeighborInfo
	if err := l1.Get("/v1/ldp/neighbors", &ns); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"2.2.2.2": "2.2.2.2", "3.3.3.3": "2001:db8:ff::3"}
	for _, n := range ns {
		if n.State != "OPERATIONAL" || n.Transport.String() != want[n.LSRID.String()] {
			t.Errorf("lsrd's neighbour %s: %s over %v, want OPERATIONAL over %s", n.LSRID, n.State, n.Transport, want[n.LSRID.String()])
		}
	}
	if len(ns) != 2 {
		t.Fatalf("lsrd's neighbours %+v, want 2.2.2.2 and 3.3.3.3", ns)
	}
	var bs map[string]lib.Binding
	topo.Eventually(t, 60*time.Second, "r1 uses r2's label for 2.2.2.2/32 and r3's for 2001:db8:ff::3/128", func() error {
		var err error
		if bs, err = lsrdBindings(l1); err != nil {
			return err
		}
		for fec, peer := range map[string]string{"2.2.2.2/32": "2.2.2.2", "2001:db8:ff::3/128": "3.3.3.3"} {
			used := false
			for _, r := range bs[fec].Remote {
				used = used || (r.Peer.String() == peer && r.InUse)
			}
			if !used {
				return fmt.Errorf("%s: no label in use from %s: %+v", fec, peer, bs[fec])
			}
		}
		return nil
	})
	for fec, b := range bs {
		for _, r := range b.Remote {
			if v6 := strings.Contains(fec, ":"); v6 != (r.Peer.String() == "3.3.3.3") {
				t.Errorf("%s: label %d from %s, a peer of the other family", fec, r.Label, r.Peer)
			}
		}
	}
}
