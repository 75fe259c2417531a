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

	gobgpapi "github.com/osrg/gobgp/v3/api"

	"github.com/lsrd/lsrd/lab/topo"
)

// Route Target constraint (RFC 4684) with Debian's gobgpd as the other
// provider edge, both carrying the route-target family beside VPNv4:
//   - pe1 (lsrd) advertises a membership for each route target its VRFs
//     import (65000:100 for red, 65000:200 for blue);
//   - gobgpd then sends pe1 only the VPN routes with those route targets:
//     of two routes it originates, the one with 65000:999 stays out of
//     what it sends pe1, and pe1 never sees it (no "no VRF imports" line);
//   - pe1 sends gobgpd none of its VRFs' routes while gobgpd has no
//     membership, red's alone once gobgpd advertises 65000:100, and blue's
//     too once it advertises 65000:200;
//   - a reload that changes blue's route target changes pe1's membership.
//
// Without the family, the 65000:999 route reaches pe1 and is logged and
// ignored (TestL3VPNBadRoutes), and both VRFs' routes reach the other edge
// (TestL3VPN).
func TestL3VPNRouteTargetConstraint(t *testing.T) {
	v := newVPNLab(t)
	cfg := lsrdPE("1.1.1.1", v.pe1Core, "10.0.1.2", "3.3.3.3", "1", v.pe1Red, v.pe1Blue)
	cfg = strings.Replace(cfg, "families: [ipv4-vpn, ipv6-vpn]", "families: [ipv4-vpn, route-target]", 1)
	pe1 := v.pe1.StartLSRD(cfg)
	v.p.StartLSRD(lsrdConfig("2.2.2.2", []string{v.pCore1, v.pCore2}, "1.1.1.1/32 10.0.1.1", "3.3.3.3/32 10.0.2.3"))
	v.pe2.StartLSRD(lsrdConfig("3.3.3.3", []string{v.pe2Core}, "1.1.1.1/32 10.0.2.2", "2.2.2.2/32 10.0.2.2"))
	pe3 := netip.MustParseAddr("3.3.3.3")
	ours := []topo.VPNRoute{
		{RD: "65000:21", Prefix: netip.MustParsePrefix("10.10.2.0/24"), Label: 5000, NextHop: pe3, RTs: []string{"65000:100"}},
		{RD: "65000:22", Prefix: netip.MustParsePrefix("10.10.3.0/24"), Label: 5001, NextHop: pe3, RTs: []string{"65000:999"}},
	}
	// gobgpd's routes are in its table before the session opens, so the
	// filter, not timing, decides what pe1 gets.
	g := v.pe2.StartGoBGP(topo.GoBGPConfig{AS: 65000, RouterID: "3.3.3.3"})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := g.AddVPNRoutes(ctx, ours); err != nil {
		t.Fatal(err)
	}
	g.AddNeighbor(t, topo.BGPNeighbor{Address: "1.1.1.1", AS: 65000, LocalAddress: "3.3.3.3",
		Families: []string{"l3vpn-ipv4-unicast", "rtc"}})
	g.WaitEstablished(t, 90*time.Second, "1.1.1.1")
	pe1Addr := netip.MustParseAddr("1.1.1.1")
	// learned waits until gobgpd holds exactly want of fam from pe1.
	learned := func(what string, fam *gobgpapi.Family, want ...string) {
		t.Helper()
		topo.Eventually(t, 60*time.Second, what, func() error {
			got, err := g.Learned(ctx, fam, pe1Addr)
			if err != nil {
				return err
			}
			if !slices.Equal(got, want) {
				return fmt.Errorf("from pe1 %v, want %v", got, want)
			}
			return nil
		})
	}

	learned("gobgpd has pe1's memberships for the route targets its VRFs import", topo.RTCFamily, "65000:65000:100", "65000:65000:200")
	topo.Eventually(t, 60*time.Second, "pe1 installs gobgpd's route with 65000:100 in VRF red", func() error {
		out := v.pe1.Run("ip", "route", "show", "table", "10")
		if !strings.Contains(out, "10.10.2.0/24") {
			return fmt.Errorf("table 10:\n%s", out)
		}
		return nil
	})
	sent, err := g.SentTo(ctx, topo.VPNv4Family, pe1Addr)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"65000:21:10.10.2.0/24"}; !slices.Equal(sent, want) {
		t.Errorf("gobgpd sends pe1 %v, want %v only (65000:999 is no membership of pe1's)", sent, want)
	}

	// pe1's VRFs' own routes (the customers' connected subnets): none
	// while gobgpd has no membership.
	time.Sleep(5 * time.Second)
	got, err := g.Learned(ctx, topo.VPNv4Family, pe1Addr)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("gobgpd has %v from pe1 before any membership of its own, want nothing", got)
	}
	step := func(rt string, want ...string) {
		t.Helper()
		if err := g.AddRouteTargetMembership(ctx, 65000, rt); err != nil {
			t.Fatal(err)
		}
		learned(fmt.Sprintf("gobgpd has pe1's routes for its memberships up to %s", rt), topo.VPNv4Family, want...)
	}
	step("65000:100", "65000:11:10.10.1.0/24")
	// Blue's route must not follow red's on its own.
	time.Sleep(5 * time.Second)
	if got, err := g.Learned(ctx, topo.VPNv4Family, pe1Addr); err != nil || !slices.Equal(got, []string{"65000:11:10.10.1.0/24"}) {
		t.Errorf("with gobgpd's membership for 65000:100 only, it has %v from pe1 (%v), want red's route alone", got, err)
	}
	step("65000:200", "65000:11:10.10.1.0/24", "65000:12:10.10.1.0/24")

	// A reload that moves blue to another route target moves pe1's
	// membership with it.
	if err := pe1.Reload(strings.Replace(cfg, `rt: ["65000:200"]`, `rt: ["65000:300"]`, 1)); err != nil {
		t.Fatal(err)
	}
	learned("pe1's memberships follow the reloaded route targets", topo.RTCFamily, "65000:65000:100", "65000:65000:300")

	b, err := os.ReadFile(pe1.Log)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "65000:999") {
		t.Errorf("pe1 saw the route with 65000:999, which no membership of its names:\n%s", b)
	}
}
