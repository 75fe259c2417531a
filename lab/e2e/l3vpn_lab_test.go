//go:build lab

package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/lab/topo"
	gobgpapi "github.com/osrg/gobgp/v3/api"
)

// vpnLab is two provider edges over a one-router LDP core on ZeroTier-like
// links, each with two customers whose prefixes overlap: in VRF red, ce1
// (10.10.1.0/24, behind pe1) and ce2 (10.10.2.0/24, behind pe2); in VRF
// blue, ce3 and ce4 with the same two prefixes.
//
//	ce1 ─┐                                  ┌─ ce2
//	     pe1 (1.1.1.1) ── p (2.2.2.2) ── pe2 (3.3.3.3)
//	ce3 ─┘                                  └─ ce4
type vpnLab struct {
	lab                              *topo.Lab
	ce1, ce2, ce3, ce4               *topo.Router
	pe1, p, pe2                      *topo.Router
	pe1Core, pCore1, pCore2, pe2Core string
	// the provider edges' customer-facing interfaces
	pe1Red, pe1Blue, pe2Red, pe2Blue string
}

func newVPNLab(t *testing.T) *vpnLab { return newVPNLabOf(t, false) }

// newVPNLabOf is newVPNLab, or with adjacent the two provider edges on one
// ZeroTier-like network (pe1 10.0.1.1, pe2 10.0.1.3) and no p: sites of
// one ZeroTier network are each other's neighbours.
func newVPNLabOf(t *testing.T, adjacent bool) *vpnLab {
	v := &vpnLab{lab: topo.New(t)}
	l := v.lab
	v.pe1, v.pe2 = l.Router("pe1"), l.Router("pe2")
	v.ce1, v.ce2, v.ce3, v.ce4 = l.Router("ce1"), l.Router("ce2"), l.Router("ce3"), l.Router("ce4")
	a := l.ZeroTier(0x8056c2e21c000001)
	v.pe1Core = a.Attach(v.pe1, "10.0.1.1/24")
	if adjacent {
		v.pe2Core = a.Attach(v.pe2, "10.0.1.3/24")
	} else {
		b := l.ZeroTier(0x8056c2e21c000002)
		v.p = l.Router("p")
		v.pCore1 = a.Attach(v.p, "10.0.1.2/24")
		v.pCore2 = b.Attach(v.p, "10.0.2.2/24")
		v.pe2Core = b.Attach(v.pe2, "10.0.2.3/24")
		v.p.AddLoopback("2.2.2.2/32")
	}
	v.pe1.AddLoopback("1.1.1.1/32")
	v.pe2.AddLoopback("3.3.3.3/32")
	for _, c := range []struct {
		ce, pe        *topo.Router
		ceAddr, pAddr string
		into          *string
	}{
		{v.ce1, v.pe1, "10.10.1.2/24", "10.10.1.1/24", &v.pe1Red},
		{v.ce3, v.pe1, "10.10.1.2/24", "10.10.1.1/24", &v.pe1Blue},
		{v.ce2, v.pe2, "10.10.2.2/24", "10.10.2.1/24", &v.pe2Red},
		{v.ce4, v.pe2, "10.10.2.2/24", "10.10.2.1/24", &v.pe2Blue},
	} {
		_, *c.into = l.Link(c.ce, c.pe, c.ceAddr, c.pAddr)
		c.ce.Run("ip", "route", "add", "default", "via", strings.Split(c.pAddr, "/")[0])
	}
	// Forwarding between the customer and the LSPs is the operator's to
	// switch on, as for any router.
	for _, pe := range []*topo.Router{v.pe1, v.pe2} {
		pe.Run("sysctl", "-qw", "net.ipv4.ip_forward=1")
		pe.Run("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
	}
	return v
}

// lsrdPE is a provider edge's lsrd configuration: LDP on its core link,
// static routes to the other loopbacks, iBGP between loopbacks for VPNv4,
// and the two VRFs.
func lsrdPE(id, core, gw, peer, rdBase, red, blue string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "router-id: %s\nldp:\n  interfaces:\n    - name: %s\nstatic-routes:\n", id, core)
	for _, lo := range []string{"1.1.1.1", "2.2.2.2", "3.3.3.3"} {
		if lo != id {
			fmt.Fprintf(&b, "  - {prefix: %s/32, next-hop: %s}\n", lo, gw)
		}
	}
	fmt.Fprintf(&b, `bgp:
  as: 65000
  neighbors:
    - {address: %s, remote-as: 65000, local-address: %s, families: [ipv4-vpn, ipv6-vpn]}
vrfs:
  - {name: red, table: 10, rd: "65000:%s1", rt: ["65000:100"], interfaces: [%s]}
  - {name: blue, table: 20, rd: "65000:%s2", rt: ["65000:200"], interfaces: [%s]}
metrics:
  listen: 127.0.0.1:9642
`, peer, id, rdBase, red, rdBase, blue)
	return b.String()
}

// frrPE is pe2 as FRR runs it: ldpd, and bgpd with a VRF per customer
// ("rd vpn export", "rt vpn both", "label vpn export auto", "export vpn",
// "import vpn"), the VRF devices made beforehand.
func (v *vpnLab) startFRRPE(t *testing.T) *topo.FRR {
	return v.startFRRPEVia(t, "10.0.2.2")
}

// startFRRPEVia is startFRRPE with pe2's static routes to the other
// loopbacks through gw.
func (v *vpnLab) startFRRPEVia(t *testing.T, gw string) *topo.FRR {
	for _, c := range []struct {
		vrf, table, ifname string
	}{{"red", "10", v.pe2Red}, {"blue", "20", v.pe2Blue}} {
		v.pe2.Run("ip", "link", "add", c.vrf, "type", "vrf", "table", c.table)
		v.pe2.Run("ip", "link", "set", c.vrf, "up")
		v.pe2.Run("ip", "link", "set", c.ifname, "master", c.vrf)
	}
	v.pe2.EnableMPLS(v.pe2Core, "lo")
	var bgp strings.Builder
	frrVPNSession(&bgp, "3.3.3.3", "1.1.1.1", "ipv4", "ipv6")
	frrVRF(&bgp, "red", "3.3.3.3", "65000:21", "65000:100", true, "ipv4", "ipv6")
	frrVRF(&bgp, "blue", "3.3.3.3", "65000:22", "65000:200", true, "ipv4", "ipv6")
	return v.pe2.StartFRR(topo.FRRConfig{RouterID: "3.3.3.3",
		Static: []string{"1.1.1.1/32 " + gw, "2.2.2.2/32 " + gw},
		LDP:    &topo.FRRLDP{Interfaces: []string{v.pe2Core}},
		Extra:  bgp.String(), Daemons: []string{"bgpd"}})
}

// frrVPNSession writes FRR's iBGP session between loopbacks (AS 65000) for
// the VPN families.
func frrVPNSession(b *strings.Builder, routerID, peer string, families ...string) {
	fmt.Fprintf(b, "router bgp 65000\n bgp router-id %s\n no bgp default ipv4-unicast\n", routerID)
	fmt.Fprintf(b, " neighbor %s remote-as 65000\n neighbor %s update-source %s\n neighbor %s timers connect 5\n", peer, peer, routerID, peer)
	for _, f := range families {
		fmt.Fprintf(b, " address-family %s vpn\n  neighbor %s activate\n exit-address-family\n", f, peer)
	}
	b.WriteString("exit\n")
}

// frrVRF writes FRR's "router bgp 65000 vrf NAME": per address family
// (ipv4, ipv6), export to and import from VPN with rd and one route
// target both ways, FRR's label, and the connected routes when
// redistribute.
func frrVRF(b *strings.Builder, vrf, routerID, rd, rt string, redistribute bool, families ...string) {
	fmt.Fprintf(b, "router bgp 65000 vrf %s\n bgp router-id %s\n", vrf, routerID)
	for _, f := range families {
		fmt.Fprintf(b, " address-family %s unicast\n", f)
		if redistribute {
			b.WriteString("  redistribute connected\n")
		}
		fmt.Fprintf(b, "  label vpn export auto\n  rd vpn export %s\n  rt vpn both %s\n  export vpn\n  import vpn\n exit-address-family\n", rd, rt)
	}
	b.WriteString("exit\n")
}

// echoes is how many ICMP echo requests a router has received.
func echoes(r *topo.Router) int { return icmpIn(r, "IcmpInEchos") }

// icmpIn reads one of the router's nstat counters.
func icmpIn(r *topo.Router, counter string) int {
	out := strings.TrimSpace(r.Run("sh", "-c", "nstat -az "+counter+" | awk '/"+counter+"/ {print $2}'"))
	var n int
	fmt.Sscan(out, &n)
	return n
}

// vpnRoute finds lsrd's view of a received VPN route.
func vpnRoute(l *topo.LSRD, rd, prefix string) (api.VPNRoute, error) {
	var rs []api.VPNRoute
	if err := l.Get("/v1/bgp/vpn", &rs); err != nil {
		return api.VPNRoute{}, err
	}
	for _, r := range rs {
		if r.RD == rd && r.Prefix.String() == prefix && !r.Exported {
			return r, nil
		}
	}
	return api.VPNRoute{}, fmt.Errorf("no VPN route %s:%s from a neighbour in %v", rd, prefix, rs)
}

// L3VPN (RFC 4364) with lsrd as a provider edge, against FRR as the other
// one (how operators run it) and against lsrd. Checked: a ping from ce1 to
// ce2 crosses the core with two labels (p's LDP label for pe2's loopback
// over pe2's VPN label); the same prefixes in VRF blue reach ce4, not ce2;
// a customer prefix withdrawn on either side leaves the other provider
// edge's VRF table and comes back; lsrctl and the metrics show the VRFs.
func TestL3VPN(t *testing.T) {
	t.Run("frr-pe", func(t *testing.T) { testL3VPN(t, false, false) })
	t.Run("lsrd-pe", func(t *testing.T) { testL3VPN(t, true, false) })
	t.Run("lsrd-pe-frr-p", func(t *testing.T) { testL3VPN(t, true, true) })
}

// testL3VPN runs the checks with lsrd or FRR as pe2 and as p.
func testL3VPN(t *testing.T, lsrdPeer, frrP bool) {
	v := newVPNLab(t)
	pe1 := v.pe1.StartLSRD(lsrdPE("1.1.1.1", v.pe1Core, "10.0.1.2", "3.3.3.3", "1", v.pe1Red, v.pe1Blue))
	// p's label for pe2's loopback, and how p stops.
	var pLabel func() (uint32, error)
	var stopP func() error
	if frrP {
		v.p.EnableMPLS(v.pCore1, v.pCore2, "lo")
		f := v.p.StartFRR(topo.FRRConfig{RouterID: "2.2.2.2", Static: []string{"1.1.1.1/32 10.0.1.1", "3.3.3.3/32 10.0.2.3"},
			LDP: &topo.FRRLDP{Interfaces: []string{v.pCore1, v.pCore2}}})
		pLabel = func() (uint32, error) {
			bs, err := f.LDPBindings()
			if err != nil {
				return 0, err
			}
			for _, b := range bs {
				if l, ok := topo.FRRLabel(b.LocalLabel); ok && b.Prefix == "3.3.3.3/32" {
					return l, nil
				}
			}
			return 0, fmt.Errorf("FRR p has no local label for 3.3.3.3/32")
		}
		stopP = func() error { f.Stop(); return nil }
	} else {
		pl := v.p.StartLSRD(lsrdConfig("2.2.2.2", []string{v.pCore1, v.pCore2}, "1.1.1.1/32 10.0.1.1", "3.3.3.3/32 10.0.2.3"))
		pLabel = func() (uint32, error) { return localLabel(pl, "3.3.3.3/32") }
		stopP = pl.Stop
	}
	var frr *topo.FRR
	rdRed := "65000:21"
	if lsrdPeer {
		v.pe2.StartLSRD(lsrdPE("3.3.3.3", v.pe2Core, "10.0.2.2", "1.1.1.1", "2", v.pe2Red, v.pe2Blue))
	} else {
		frr = v.startFRRPE(t)
	}

	// pe1 learns pe2's red route and pushes p's label for 3.3.3.3 over
	// pe2's VPN label in table 10.
	var vpnLabel, lspLabel uint32
	topo.Eventually(t, 90*time.Second, "pe1 routes 10.10.2.0/24 in VRF red over the LSP to pe2", func() error {
		r, err := vpnRoute(pe1, rdRed, "10.10.2.0/24")
		if err != nil {
			return err
		}
		if !slices.Equal(r.VRFs, []string{"red"}) || !r.LSP {
			return fmt.Errorf("route %+v: want imported by red alone, with an LSP", r)
		}
		lsp, err := pLabel()
		if err != nil {
			return err
		}
		stack, err := pushedStackIn(v.pe1, "10", "10.10.2.0/24")
		if err != nil {
			return err
		}
		if want := fmt.Sprintf("%d/%d", lsp, r.Label); stack != want {
			return fmt.Errorf("pe1 pushes %s in table 10, want %s", stack, want)
		}
		vpnLabel, lspLabel = r.Label, lsp
		return nil
	})
	t.Logf("pe1: %s", v.pe1.Run("ip", "-d", "route", "show", "vrf", "red"))
	t.Logf("pe1: %s", v.pe1.Run("ip", "-f", "mpls", "route", "show"))

	// Both customers of each VPN reach each other; the echoes cross the
	// core with both labels.
	capture := v.p.StartCapture(v.pCore1, "mpls and mpls and icmp", 2)
	// IPv6 customers over the IPv4 core (RFC 4659, next hop the provider
	// edge's IPv4-mapped address): addresses given once the provider
	// edges have put the interfaces in their VRFs (enslaving flushes a
	// device's IPv6 addresses).
	v.addIPv6(t)
	topo.Eventually(t, 60*time.Second, "ce1 pings ce2 across the VPN", func() error {
		_, err := v.ce1.Try("ping", "-c", "2", "-i", "0.2", "-W", "1", "10.10.2.2")
		return err
	})
	pkts, err := capture.Wait(10 * time.Second)
	if err != nil {
		t.Fatalf("no doubly labelled echo on pe1 - p: %v", err)
	}
	t.Logf("pe1 - p:\n%s", strings.Join(pkts, "\n"))
	for _, p := range pkts {
		for _, w := range []string{fmt.Sprintf("(label %d, ", lspLabel), fmt.Sprintf("(label %d, tc 0, [S]", vpnLabel),
			"10.10.1.2 > 10.10.2.2: ICMP echo request"} {
			if !strings.Contains(p, w) {
				t.Errorf("on pe1 - p: %q, want %q in it", p, w)
			}
		}
	}

	// With lsrd as the other provider edge the ping comes back. FRR 8.4
	// takes lsrd's VPNv6 route (label and next hop ::ffff:1.1.1.1) but its
	// zebra fails to install it ("B>r", rejected: the kernel takes an
	// IPv4-mapped gateway only on-link), so there the echo requests are
	// counted at ce2 instead: lsrd's push and FRR's pop.
	six := func() error {
		_, err := v.ce1.Try("ping", "-6", "-c", "1", "-W", "1", "2001:db8:2::2")
		return err
	}
	if !lsrdPeer {
		six = func() error {
			before := icmpIn(v.ce2, "Icmp6InEchos")
			v.ce1.Try("ping", "-6", "-c", "1", "-W", "1", "2001:db8:2::2")
			if icmpIn(v.ce2, "Icmp6InEchos") == before {
				return fmt.Errorf("no IPv6 echo request reached ce2")
			}
			return nil
		}
	}
	if err := within(60*time.Second, six); err != nil {
		for _, r := range []*topo.Router{v.pe1, v.pe2} {
			out, _ := r.Try("ip", "-6", "-d", "route", "show", "vrf", "red")
			t.Logf("%s: %s", r.Name, out)
		}
		t.Fatalf("IPv6 across the VPN: %v", err)
	}
	if frr != nil {
		out, _ := frr.Vtysh("show ipv6 route vrf red")
		t.Logf("FRR pe2 show ipv6 route vrf red:\n%s", out)
	}
	stack6, err := pushedStackIn(v.pe1, "10", "2001:db8:2::/64")
	if err != nil || !strings.HasPrefix(stack6, fmt.Sprintf("%d/", lspLabel)) {
		t.Errorf("pe1's IPv6 route in VRF red pushes %q (%v), want p's label %d over a VPN label", stack6, err, lspLabel)
	}
	t.Logf("pe1: %s", v.pe1.Run("ip", "-6", "-d", "route", "show", "vrf", "red"))

	// The same prefixes in VRF blue stay apart: ce3's echoes reach ce4,
	// never ce2, and ce1's reach ce2, never ce4.
	topo.Eventually(t, 60*time.Second, "ce3 pings ce4 across VRF blue", func() error {
		_, err := v.ce3.Try("ping", "-c", "1", "-W", "1", "10.10.2.2")
		return err
	})
	in2, in4 := echoes(v.ce2), echoes(v.ce4)
	v.ce3.Run("ping", "-c", "5", "-i", "0.2", "-W", "1", "10.10.2.2")
	if d2, d4 := echoes(v.ce2)-in2, echoes(v.ce4)-in4; d4 < 5 || d2 != 0 {
		t.Errorf("5 echoes from ce3 (blue): ce4 got %d, ce2 (red) got %d; want 5 and 0", d4, d2)
	}
	in2, in4 = echoes(v.ce2), echoes(v.ce4)
	v.ce1.Run("ping", "-c", "5", "-i", "0.2", "-W", "1", "10.10.2.2")
	if d2, d4 := echoes(v.ce2)-in2, echoes(v.ce4)-in4; d2 < 5 || d4 != 0 {
		t.Errorf("5 echoes from ce1 (red): ce2 got %d, ce4 (blue) got %d; want 5 and 0", d2, d4)
	}

	// What operators see on pe1.
	var vrfs []api.VRF
	if err := pe1.Get("/v1/vrfs", &vrfs); err != nil {
		t.Fatal(err)
	}
	if len(vrfs) != 2 || vrfs[0].Name != "blue" || vrfs[1].Name != "red" {
		t.Fatalf("VRFs %+v, want blue and red", vrfs)
	}
	for _, vr := range vrfs {
		if vr.Exported != 2 || vr.Installed != 2 || vr.Label == 0 {
			t.Errorf("VRF %+v: want 2 routes exported (the connected ones, IPv4 and IPv6) and 2 installed, and a label", vr)
		}
	}
	out, err := pe1.Ctl("show", "vrf")
	if err != nil || !strings.Contains(out, "red") || !strings.Contains(out, "65000:11") {
		t.Errorf("lsrctl show vrf: %v\n%s", err, out)
	}
	t.Logf("lsrctl show vrf:\n%s", out)
	out, err = pe1.Ctl("show", "bgp", "vpn")
	if err != nil || !strings.Contains(out, "10.10.2.0/24") || !strings.Contains(out, "exported") {
		t.Errorf("lsrctl show bgp vpn: %v\n%s", err, out)
	}
	t.Logf("lsrctl show bgp vpn:\n%s", out)
	topo.Eventually(t, 10*time.Second, "pe1's metrics count VRF red's routes", func() error {
		m, err := scrapeIn(v.pe1, "127.0.0.1:9642")
		if err != nil {
			return err
		}
		if !strings.Contains(m, `lsrd_vrf_routes{kind="installed",vrf="red"} 2`) {
			return fmt.Errorf("no lsrd_vrf_routes installed 2 for red")
		}
		return nil
	})

	// A static route in VRF red (a customer LAN behind ce1) is exported
	// as well as the connected subnets, and carries traffic.
	v.ce1.Run("ip", "addr", "add", "192.0.2.1/32", "dev", "lo")
	v.pe1.Run("ip", "route", "add", "192.0.2.0/24", "via", "10.10.1.2", "vrf", "red")
	topo.Eventually(t, 30*time.Second, "pe2 learns the static route of pe1's VRF red, and ce2 reaches the LAN behind ce1", func() error {
		if out, _ := v.pe2.Try("ip", "route", "show", "table", "10", "192.0.2.0/24"); strings.TrimSpace(out) == "" {
			return fmt.Errorf("192.0.2.0/24 not in pe2's table 10")
		}
		_, err := v.ce2.Try("ping", "-c", "1", "-W", "1", "192.0.2.1")
		return err
	})
	if out, _ := v.pe2.Try("ip", "route", "show", "table", "20", "192.0.2.0/24"); strings.TrimSpace(out) != "" {
		t.Errorf("VRF blue at pe2 has red's static route: %s", out)
	}

	// A withdrawal on the far side: ce2's link goes down at pe2, its
	// subnet leaves pe2's VRF, and pe1 removes the route from table 10.
	routeIn := func(r *topo.Router, table, prefix string) bool {
		out, _ := r.Try("ip", "route", "show", "table", table, prefix)
		return strings.TrimSpace(out) != ""
	}
	v.pe2.Run("ip", "link", "set", v.pe2Red, "down")
	topo.Eventually(t, 30*time.Second, "pe1 removes 10.10.2.0/24 from VRF red", func() error {
		if routeIn(v.pe1, "10", "10.10.2.0/24") {
			return fmt.Errorf("still in table 10")
		}
		return nil
	})
	if !routeIn(v.pe1, "20", "10.10.2.0/24") {
		t.Error("VRF blue lost 10.10.2.0/24 with red's")
	}
	v.pe2.Run("ip", "link", "set", v.pe2Red, "up")
	topo.Eventually(t, 30*time.Second, "pe1 routes 10.10.2.0/24 in VRF red again", func() error {
		if !routeIn(v.pe1, "10", "10.10.2.0/24") {
			return fmt.Errorf("not in table 10")
		}
		return nil
	})

	// And on lsrd's side: ce1's link goes down at pe1, lsrd withdraws
	// 10.10.1.0/24, and pe2 removes it from its VRF.
	v.pe1.Run("ip", "link", "set", v.pe1Red, "down")
	topo.Eventually(t, 30*time.Second, "pe2 removes 10.10.1.0/24 from VRF red", func() error {
		if routeIn(v.pe2, "10", "10.10.1.0/24") {
			return fmt.Errorf("still in pe2's table 10")
		}
		return nil
	})
	v.pe1.Run("ip", "link", "set", v.pe1Red, "up")
	topo.Eventually(t, 30*time.Second, "pe2 routes 10.10.1.0/24 in VRF red again, and ce1 reaches ce2", func() error {
		if !routeIn(v.pe2, "10", "10.10.1.0/24") {
			return fmt.Errorf("not in pe2's table 10")
		}
		_, err := v.ce1.Try("ping", "-c", "1", "-W", "1", "10.10.2.2")
		return err
	})
	if frr != nil {
		if out, err := frr.Vtysh("show bgp vrf red ipv4 unicast"); err == nil {
			t.Logf("FRR pe2:\n%s", out)
		}
	}

	// A reload without VRF blue takes its routes out of pe1's table 20 and
	// its export out of pe2's, and leaves red alone; with blue back, both
	// return.
	pe1Config := lsrdPE("1.1.1.1", v.pe1Core, "10.0.1.2", "3.3.3.3", "1", v.pe1Red, v.pe1Blue)
	var noBlue []string
	for _, l := range strings.Split(pe1Config, "\n") {
		if !strings.Contains(l, "name: blue") {
			noBlue = append(noBlue, l)
		}
	}
	if err := pe1.Reload(strings.Join(noBlue, "\n")); err != nil {
		t.Fatal(err)
	}
	topo.Eventually(t, 30*time.Second, "VRF blue gone from both provider edges' tables after the reload", func() error {
		if routeIn(v.pe1, "20", "10.10.2.0/24") || routeIn(v.pe2, "20", "10.10.1.0/24") {
			return fmt.Errorf("pe1 table 20: %s\npe2 table 20: %s", v.pe1.Run("ip", "route", "show", "table", "20"),
				v.pe2.Run("ip", "route", "show", "table", "20"))
		}
		return nil
	})
	if !routeIn(v.pe1, "10", "10.10.2.0/24") || !routeIn(v.pe2, "10", "10.10.1.0/24") {
		t.Error("VRF red lost its routes when blue was removed")
	}
	if err := pe1.Reload(pe1Config); err != nil {
		t.Fatal(err)
	}
	topo.Eventually(t, 30*time.Second, "VRF blue back on both provider edges after the second reload", func() error {
		if !routeIn(v.pe1, "20", "10.10.2.0/24") || !routeIn(v.pe2, "20", "10.10.1.0/24") {
			out, _ := pe1.Ctl("show", "bgp", "vpn")
			return fmt.Errorf("pe1 table 20: %s\npe2 table 20: %s\npe1's VPN routes:\n%s", v.pe1.Run("ip", "route", "show", "table", "20"),
				v.pe2.Run("ip", "route", "show", "table", "20"), out)
		}
		_, err := v.ce3.Try("ping", "-c", "1", "-W", "1", "10.10.2.2")
		return err
	})

	// Without the LSP to pe2 (p stops: its sessions end), the route has
	// nothing to ride and leaves the table, though BGP still has it.
	if err := stopP(); err != nil {
		t.Fatal(err)
	}
	topo.Eventually(t, 30*time.Second, "pe1 removes 10.10.2.0/24 from VRF red once the LSP to pe2 is gone", func() error {
		if routeIn(v.pe1, "10", "10.10.2.0/24") {
			return fmt.Errorf("still in table 10")
		}
		r, err := vpnRoute(pe1, rdRed, "10.10.2.0/24")
		if err != nil {
			return err
		}
		if r.LSP {
			return fmt.Errorf("lsrd still sees an LSP to %s", r.NextHop)
		}
		return nil
	})
}

// addIPv6 gives the customers' links IPv6 addresses once the provider
// edges' interfaces are in their VRFs, and the customers default routes.
func (v *vpnLab) addIPv6(t *testing.T) {
	t.Helper()
	for _, c := range []struct {
		pe     *topo.Router
		ifname string
	}{{v.pe1, v.pe1Red}, {v.pe1, v.pe1Blue}, {v.pe2, v.pe2Red}, {v.pe2, v.pe2Blue}} {
		topo.Eventually(t, 30*time.Second, c.pe.Name+": "+c.ifname+" in its VRF", func() error {
			if out := c.pe.Run("ip", "-o", "link", "show", c.ifname); !strings.Contains(out, " master ") {
				return fmt.Errorf("%s", out)
			}
			return nil
		})
	}
	for _, c := range []struct {
		ce, pe         *topo.Router
		ceIf, peIf     string
		ceAddr, peAddr string
	}{
		{v.ce1, v.pe1, "ce1-pe1", v.pe1Red, "2001:db8:1::2/64", "2001:db8:1::1/64"},
		{v.ce3, v.pe1, "ce3-pe1", v.pe1Blue, "2001:db8:1::2/64", "2001:db8:1::1/64"},
		{v.ce2, v.pe2, "ce2-pe2", v.pe2Red, "2001:db8:2::2/64", "2001:db8:2::1/64"},
		{v.ce4, v.pe2, "ce4-pe2", v.pe2Blue, "2001:db8:2::2/64", "2001:db8:2::1/64"},
	} {
		c.ce.Run("ip", "addr", "add", c.ceAddr, "dev", c.ceIf, "nodad")
		c.pe.Run("ip", "addr", "add", c.peAddr, "dev", c.peIf, "nodad")
		c.ce.Run("ip", "-6", "route", "add", "default", "via", strings.Split(c.peAddr, "/")[0])
	}
}

// within calls f until it returns nil or timeout passes, and returns its
// last error: Eventually for a caller that explains a failure itself.
func within(timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// Bad VPN routes from a real peer (gobgpd as pe2, lsrd only for LDP there):
// an unknown route target, the RD of one of pe1's own VRFs, and reserved
// labels (label 0 is what a VPN route without a label carries). Each gets
// a clear log line and is ignored; the good route beside them is installed,
// and neither the LDP nor the BGP session flaps.
func TestL3VPNBadRoutes(t *testing.T) {
	v := newVPNLab(t)
	pe1 := v.pe1.StartLSRD(lsrdPE("1.1.1.1", v.pe1Core, "10.0.1.2", "3.3.3.3", "1", v.pe1Red, v.pe1Blue))
	pl := v.p.StartLSRD(lsrdConfig("2.2.2.2", []string{v.pCore1, v.pCore2}, "1.1.1.1/32 10.0.1.1", "3.3.3.3/32 10.0.2.3"))
	v.pe2.StartLSRD(lsrdConfig("3.3.3.3", []string{v.pe2Core}, "1.1.1.1/32 10.0.2.2", "2.2.2.2/32 10.0.2.2"))
	g := v.pe2.StartGoBGP(topo.GoBGPConfig{AS: 65000, RouterID: "3.3.3.3",
		Neighbors: []topo.BGPNeighbor{{Address: "1.1.1.1", AS: 65000, LocalAddress: "3.3.3.3",
			Families: []string{"l3vpn-ipv4-unicast"}}}})
	g.WaitEstablished(t, 90*time.Second, "1.1.1.1")
	pe3 := netip.MustParseAddr("3.3.3.3")
	good := topo.VPNRoute{RD: "65000:21", Prefix: netip.MustParsePrefix("10.10.2.0/24"), Label: 5000, NextHop: pe3, RTs: []string{"65000:100"}}
	bad := []topo.VPNRoute{
		{RD: "65000:22", Prefix: netip.MustParsePrefix("10.10.3.0/24"), Label: 5001, NextHop: pe3, RTs: []string{"65000:999"}},
		{RD: "65000:11", Prefix: netip.MustParsePrefix("10.10.4.0/24"), Label: 5002, NextHop: pe3, RTs: []string{"65000:100"}},
		{RD: "65000:23", Prefix: netip.MustParsePrefix("10.10.5.0/24"), Label: 3, NextHop: pe3, RTs: []string{"65000:100"}},
		{RD: "65000:24", Prefix: netip.MustParsePrefix("10.10.6.0/24"), Label: 0, NextHop: pe3, RTs: []string{"65000:100"}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := g.AddVPNRoutes(ctx, append(bad, good)); err != nil {
		t.Fatal(err)
	}
	var lspLabel uint32
	topo.Eventually(t, 60*time.Second, "pe1 installs the good route in VRF red", func() error {
		lsp, err := localLabel(pl, "3.3.3.3/32")
		if err != nil {
			return err
		}
		stack, err := pushedStackIn(v.pe1, "10", "10.10.2.0/24")
		if err != nil {
			return err
		}
		if want := fmt.Sprintf("%d/5000", lsp); stack != want {
			return fmt.Errorf("pe1 pushes %s, want %s", stack, want)
		}
		lspLabel = lsp
		return nil
	})
	t.Logf("pe1 pushes %d/5000 for the good route", lspLabel)
	for _, table := range []string{"10", "20"} {
		out := v.pe1.Run("ip", "route", "show", "table", table)
		for _, r := range bad {
			if strings.Contains(out, r.Prefix.String()) {
				t.Errorf("table %s has %s (RD %s, label %d, RTs %v):\n%s", table, r.Prefix, r.RD, r.Label, r.RTs, out)
			}
		}
	}
	b, err := os.ReadFile(pe1.Log)
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	for _, want := range []string{
		"no VRF imports", "65000:999", // the unknown route target
		"route distinguisher of a local VRF", // the RD clash
		"label 3 is reserved", "label 0 is reserved",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("pe1's log lacks %q", want)
		}
	}
	// Nothing else disturbed: the sessions stayed up throughout.
	if f, err := lsrdFlaps(v.pe1, "127.0.0.1:9642"); err != nil || f != 0 {
		t.Errorf("LDP session flaps on pe1: %d (%v), want 0", f, err)
	}
	if st, err := g.PeerState(ctx, "1.1.1.1"); err != nil || st != gobgpapi.PeerState_ESTABLISHED {
		t.Errorf("gobgpd's session with pe1: %v %v", st, err)
	}
	var vrfs []api.VRF
	if err := pe1.Get("/v1/vrfs", &vrfs); err != nil {
		t.Fatal(err)
	}
	for _, vr := range vrfs {
		want := 0
		if vr.Name == "red" {
			want = 1
		}
		if vr.Imported != want || vr.Installed != want {
			t.Errorf("VRF %+v: want %d imported and installed", vr, want)
		}
	}
}

// Provider edges next door, as two sites on one ZeroTier network are: FRR's
// pe2 advertises implicit null for its loopback, so there is no LSP label
// to push, and lsrd sends the VPN label alone over the link to pe2 (found
// missing by a review: such routes were never installed).
func TestL3VPNAdjacent(t *testing.T) {
	v := newVPNLabOf(t, true)
	pe1 := v.pe1.StartLSRD(lsrdPE("1.1.1.1", v.pe1Core, "10.0.1.3", "3.3.3.3", "1", v.pe1Red, v.pe1Blue))
	v.startFRRPEVia(t, "10.0.1.1")
	var vpnLabel uint32
	topo.Eventually(t, 90*time.Second, "pe1 routes 10.10.2.0/24 in VRF red with pe2's VPN label alone", func() error {
		r, err := vpnRoute(pe1, "65000:21", "10.10.2.0/24")
		if err != nil {
			return err
		}
		stack, err := pushedStackIn(v.pe1, "10", "10.10.2.0/24")
		if err != nil {
			return err
		}
		if want := fmt.Sprint(r.Label); stack != want {
			return fmt.Errorf("pe1 pushes %s, want %s alone", stack, want)
		}
		vpnLabel = r.Label
		return nil
	})
	capture := v.pe2.StartCapture(v.pe2Core, "mpls and icmp", 4)
	topo.Eventually(t, 60*time.Second, "ce1 pings ce2 across the VPN", func() error {
		_, err := v.ce1.Try("ping", "-c", "2", "-i", "0.2", "-W", "1", "10.10.2.2")
		return err
	})
	pkts, err := capture.Wait(10 * time.Second)
	if err != nil {
		t.Fatalf("no labelled echo on pe1 - pe2: %v", err)
	}
	t.Logf("pe1 - pe2:\n%s", strings.Join(pkts, "\n"))
	requests := 0
	for _, p := range pkts {
		if !strings.Contains(p, "echo request") {
			continue // pe2's replies carry pe1's label
		}
		requests++
		if !strings.Contains(p, fmt.Sprintf("(label %d, tc 0, [S]", vpnLabel)) || strings.Count(p, "(label ") != 1 {
			t.Errorf("on pe1 - pe2: %q, want the VPN label %d alone", p, vpnLabel)
		}
	}
	if requests == 0 {
		t.Errorf("no echo request among the labelled packets on pe1 - pe2")
	}
}

// TestL3VPNPerPrefixToCE: with per-prefix labels, pe1's label for a route
// through a customer router pops and forwards to that router (no second
// lookup), while a connected prefix's label pops into the VRF; ce2 reaches
// ce1's network behind the route either way. Both provider edges are lsrd
// on one ZeroTier-like network.
func TestL3VPNPerPrefixToCE(t *testing.T) {
	v := newVPNLabOf(t, true)
	v.ce1.AddLoopback("192.168.1.1/32")
	cfg := lsrdPE("1.1.1.1", v.pe1Core, "10.0.1.3", "3.3.3.3", "1", v.pe1Red, v.pe1Blue)
	cfg = strings.Replace(cfg, "{name: red, table: 10,", "{name: red, table: 10, label: per-prefix,", 1)
	v.pe1.StartLSRD(cfg)
	v.pe1.Run("ip", "route", "add", "192.168.1.0/24", "via", "10.10.1.2", "table", "10")
	pe2 := v.pe2.StartLSRD(lsrdPE("3.3.3.3", v.pe2Core, "10.0.1.1", "1.1.1.1", "2", v.pe2Red, v.pe2Blue))
	labels := map[string]uint32{}
	topo.Eventually(t, 90*time.Second, "pe2 imports ce1's prefixes with a label each", func() error {
		for _, p := range []string{"192.168.1.0/24", "10.10.1.0/24"} {
			r, err := vpnRoute(pe2, "65000:11", p)
			if err != nil {
				return err
			}
			labels[p] = r.Label
		}
		if labels["192.168.1.0/24"] == labels["10.10.1.0/24"] {
			return fmt.Errorf("one label %d for both prefixes", labels["10.10.1.0/24"])
		}
		return nil
	})
	topo.Eventually(t, 30*time.Second, "pe1's label routes pop to ce1 and into red", func() error {
		out := v.pe1.Run("ip", "-f", "mpls", "route", "show")
		for p, want := range map[string]string{
			"192.168.1.0/24": fmt.Sprintf("%d via inet 10.10.1.2 dev %s", labels["192.168.1.0/24"], v.pe1Red),
			"10.10.1.0/24":   fmt.Sprintf("%d dev red", labels["10.10.1.0/24"]),
		} {
			if !strings.Contains(out, want) {
				return fmt.Errorf("%s: no %q in pe1's label table:\n%s", p, want, out)
			}
		}
		return nil
	})
	for _, dst := range []string{"192.168.1.1", "10.10.1.2"} {
		topo.Eventually(t, 60*time.Second, "ce2 pings "+dst+" across the VPN", func() error {
			_, err := v.ce2.Try("ping", "-c", "2", "-i", "0.2", "-W", "1", dst)
			return err
		})
	}
}

// One customer prefix under two RDs, against FRR: pe2 (FRR) exports
// 10.10.2.0/24 from VRF red (RD 65000:21, ce2's link) and from VRF green
// (RD 65000:23, a dummy device with the same prefix), both with red's
// route target, as a site multihomed to two provider edges would be seen.
// pe1 (lsrd) imports both into red and must push the label of the path
// BGP's decision process picks (vpn.State.choose): with equal attributes
// the lower RD (red's); green's once FRR exports it with LOCAL_PREF 200;
// red's again once red's goes to 300.
func TestL3VPNMultihomedChoice(t *testing.T) {
	v := newVPNLabOf(t, true)
	pe1 := v.pe1.StartLSRD(lsrdPE("1.1.1.1", v.pe1Core, "10.0.1.3", "3.3.3.3", "1", v.pe1Red, v.pe1Blue))
	for _, c := range []struct{ vrf, table, ifname string }{{"red", "10", v.pe2Red}, {"blue", "20", v.pe2Blue}, {"green", "30", "green0"}} {
		v.pe2.Run("ip", "link", "add", c.vrf, "type", "vrf", "table", c.table)
		v.pe2.Run("ip", "link", "set", c.vrf, "up")
		if c.ifname == "green0" {
			v.pe2.Run("ip", "link", "add", "green0", "type", "dummy")
			v.pe2.Run("ip", "addr", "add", "10.10.2.1/24", "dev", "green0")
			v.pe2.Run("ip", "link", "set", "green0", "up")
		}
		v.pe2.Run("ip", "link", "set", c.ifname, "master", c.vrf)
	}
	v.pe2.EnableMPLS(v.pe2Core, "lo")
	var bgp strings.Builder
	frrVPNSession(&bgp, "3.3.3.3", "1.1.1.1", "ipv4")
	frrVRF(&bgp, "red", "3.3.3.3", "65000:21", "65000:100", true, "ipv4")
	frrVRF(&bgp, "blue", "3.3.3.3", "65000:22", "65000:200", true, "ipv4")
	frrVRF(&bgp, "green", "3.3.3.3", "65000:23", "65000:100", true, "ipv4")
	frr := v.pe2.StartFRR(topo.FRRConfig{RouterID: "3.3.3.3",
		Static: []string{"1.1.1.1/32 10.0.1.1"},
		LDP:    &topo.FRRLDP{Interfaces: []string{v.pe2Core}},
		Extra:  bgp.String(), Daemons: []string{"bgpd"}})

	// pushes waits until pe1 pushes the VPN label of the route under rd
	// (over no LSP label: the provider edges are neighbours).
	pushes := func(what, rd string) {
		t.Helper()
		topo.Eventually(t, 90*time.Second, what, func() error {
			var labels []string
			for _, d := range []string{"65000:21", "65000:23"} {
				r, err := vpnRoute(pe1, d, "10.10.2.0/24")
				if err != nil {
					return err
				}
				labels = append(labels, fmt.Sprint(r.Label))
				if d == rd && !slices.Equal(r.VRFs, []string{"red"}) {
					return fmt.Errorf("route under %s imported by %v, want red", d, r.VRFs)
				}
			}
			if labels[0] == labels[1] {
				return fmt.Errorf("FRR exports both with label %s: the test cannot tell them apart", labels[0])
			}
			want := labels[0]
			if rd == "65000:23" {
				want = labels[1]
			}
			stack, err := pushedStackIn(v.pe1, "10", "10.10.2.0/24")
			if err != nil {
				return err
			}
			if stack != want {
				return fmt.Errorf("pe1 pushes %s; the route under %s has %s (labels of 65000:21, 65000:23: %v)", stack, rd, want, labels)
			}
			return nil
		})
	}
	pushes("equal attributes: the lower RD's path (red's)", "65000:21")
	setLocalPref := func(vrf string, pref int) {
		t.Helper()
		var args []string
		for _, c := range []string{"configure terminal",
			fmt.Sprintf("route-map LP-%s permit 10", vrf), fmt.Sprintf("set local-preference %d", pref), "exit",
			"router bgp 65000 vrf " + vrf, "address-family ipv4 unicast", "route-map vpn export LP-" + vrf, "end"} {
			args = append(args, "-c", c)
		}
		if out, err := frr.Vtysh("", args...); err != nil {
			t.Fatalf("vtysh: %v: %s", err, out)
		}
	}
	setLocalPref("green", 200)
	pushes("green's path exported with LOCAL_PREF 200", "65000:23")
	setLocalPref("red", 300)
	pushes("red's path exported with LOCAL_PREF 300", "65000:21")
	topo.Eventually(t, 60*time.Second, "ce1 pings ce2 across the VPN", func() error {
		_, err := v.ce1.Try("ping", "-c", "2", "-i", "0.2", "-W", "1", "10.10.2.2")
		return err
	})
}
