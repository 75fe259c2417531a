//go:build lab

package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
)

// TestBenchL3VPN measures a provider edge importing VPN routes: gobgpd on
// pe2 (behind an LDP LSP over p) sends VRFS x N VPNv4 routes, one RD and
// route target per VRF, and pe1 installs them in its VRFs' kernel tables
// pushing [p's label for 3.3.3.3, the VPN label]. lsrd is pe1, then, in a
// fresh topology of the same run, FRR 8.4 (zebra, staticd, ldpd, bgpd with
// a "router bgp vrf" importing each). It prints, side by side, the time
// from gobgpd's first route to every route in pe1's VRF tables, and pe1's
// resident memory then. A benchmark, not a test: LSRD_BENCH=1 (make
// bench); sizes LSRD_BENCH_VRFS (default 10) and LSRD_BENCH_VRF_ROUTES
// (default 10,000), daemons LSRD_BENCH_DAEMONS.
func TestBenchL3VPN(t *testing.T) {
	if os.Getenv("LSRD_BENCH") != "1" {
		t.Skip("benchmark: set LSRD_BENCH=1 (make bench)")
	}
	vrfs := benchSize(t, "LSRD_BENCH_VRFS", 10)
	n := benchSize(t, "LSRD_BENCH_VRF_ROUTES", 10000)
	if vrfs > 150 {
		t.Fatalf("LSRD_BENCH_VRFS %d: at most 150 (tables 101-250)", vrfs)
	}
	var out strings.Builder
	fmt.Fprintf(&out, "L3VPN: %d VRFs x %d VPNv4 routes imported by pe1 over an LDP LSP (kernel lab, software emulation; compare within this run only)\n", vrfs, n)
	row := func(what, figure string) { fmt.Fprintf(&out, "  %-60s %s\n", what, figure) }
	routes := make([]topo.VPNRoute, 0, vrfs*n)
	pe3 := netip.MustParseAddr("3.3.3.3")
	for v := range vrfs {
		for i := range n {
			// 10.x.y.0/24 per VRF, the same prefixes in every VRF.
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24)
			routes = append(routes, topo.VPNRoute{RD: fmt.Sprintf("65000:%d", 2000+v), Prefix: p,
				Label: uint32(5000 + v), NextHop: pe3, RTs: []string{fmt.Sprintf("65000:%d", 100+v)}})
		}
	}
	inVRFs := func(table uint8) bool { return table >= 101 && int(table) < 101+vrfs }
	for _, daemon := range benchDaemons(t) {
		t.Run(daemon, func(t *testing.T) {
			v := newVPNLab(t)
			pl := v.p.StartLSRD(lsrdConfig("2.2.2.2", []string{v.pCore1, v.pCore2}, "1.1.1.1/32 10.0.1.1", "3.3.3.3/32 10.0.2.3"))
			v.pe2.StartLSRD(lsrdConfig("3.3.3.3", []string{v.pe2Core}, "1.1.1.1/32 10.0.2.2", "2.2.2.2/32 10.0.2.2"))
			proto := uint8(234)
			var comms []string
			var pe1 *topo.LSRD
			if daemon == "lsrd" {
				pe1 = v.pe1.StartLSRD(benchPE(vrfs, v.pe1Core))
				comms = []string{"lsrd"}
			} else {
				v.startFRRBenchPE(t, vrfs)
				proto = 186 // zebra's "bgp"
				comms = []string{"zebra", "staticd", "ldpd", "bgpd"}
			}
			g := v.pe2.StartGoBGP(topo.GoBGPConfig{AS: 65000, RouterID: "3.3.3.3",
				Neighbors: []topo.BGPNeighbor{{Address: "1.1.1.1", AS: 65000, LocalAddress: "3.3.3.3",
					Families: []string{"l3vpn-ipv4-unicast"}}}})
			g.WaitEstablished(t, 3*time.Minute, "1.1.1.1")
			// The LSP first: what is measured is the import, not LDP.
			topo.Eventually(t, 2*time.Minute, "pe1 has an LSP to 3.3.3.3", func() error {
				_, err := localLabel(pl, "3.3.3.3/32")
				if err != nil {
					return err
				}
				out := v.pe1.Run("ip", "route", "show", "3.3.3.3")
				if !strings.Contains(out, "encap mpls") {
					return fmt.Errorf("pe1: %s", out)
				}
				return nil
			})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
			defer cancel()
			start := time.Now()
			if err := g.AddVPNRoutes(ctx, routes); err != nil {
				t.Fatal(err)
			}
			sent := time.Since(start)
			var done time.Duration
			var last int
			topo.Eventually(t, 30*time.Minute, fmt.Sprintf("%s installs %d routes in pe1's VRF tables", daemon, len(routes)), func() error {
				v4, _, err := v.pe1.CountRoutesIn(inVRFs, proto)
				if err != nil {
					return err
				}
				last = v4
				if v4 < len(routes) {
					time.Sleep(time.Second)
					return fmt.Errorf("%d of %d", v4, len(routes))
				}
				done = time.Since(start)
				return nil
			})
			rss, err := v.pe1.ResidentKB(comms...)
			if err != nil {
				t.Fatal(err)
			}
			row(daemon+": first route sent to all in pe1's VRF tables", fmt.Sprintf("%s (gobgpd sent them in %s)", secs(done), secs(sent)))
			row(daemon+": pe1's resident memory then ("+strings.Join(comms, "+")+")", fmt.Sprintf("%d MB", rss/1024))
			// Settled: lsrd returns freed memory once its work has been
			// quiet a few seconds (internal/gctune); FRR's for comparison.
			time.Sleep(15 * time.Second)
			if rss, err = v.pe1.ResidentKB(comms...); err != nil {
				t.Fatal(err)
			}
			row(daemon+": pe1's resident memory 15 s later", fmt.Sprintf("%d MB", rss/1024))
			// Routes to one provider edge with one VPN label share an
			// object: a handful for all the VRFs, not one per route.
			objects := strings.Count(strings.TrimSpace(v.pe1.Run("ip", "-o", "nexthop", "show")), "\n") + 1
			row(daemon+": pe1's nexthop objects (all protocols)", fmt.Sprint(objects))
			if daemon == "lsrd" && objects > 4*vrfs {
				t.Errorf("lsrd: %d nexthop objects for %d VRFs of routes through one provider edge", objects, vrfs)
			}
			stack, err := pushedStackIn(v.pe1, "101", "10.0.0.0/24")
			if err != nil || !strings.HasSuffix(stack, "/5000") {
				t.Errorf("%s: pe1 pushes %q (%v) for 10.0.0.0/24 in the first VRF, want the LSP's label over 5000", daemon, stack, err)
			}
			t.Logf("%s: %d routes, pe1 pushes %s for 10.0.0.0/24 in table 101", daemon, last, stack)
			if pe1 != nil {
				// A clean stop removes every route, within
				// kernel.stop-timeout (60 s by default).
				start := time.Now()
				err := pe1.StopWithin(90 * time.Second)
				row("lsrd: stop (SIGTERM) removing its routes from the kernel", secs(time.Since(start)))
				if err != nil {
					t.Errorf("lsrd's stop: %v", err)
				}
				left, _, err := v.pe1.CountRoutesIn(func(uint8) bool { return true }, 234)
				if err != nil || left != 0 {
					t.Errorf("after lsrd's stop, %d routes of its protocol left (%v)", left, err)
				}
			}
		})
	}
	t.Logf("\n%s", out.String())
}

// benchPE is pe1's lsrd configuration for the bench: LDP to p, iBGP VPNv4
// with pe2, VRFs v0.. (tables 101..) each importing its route target.
func benchPE(vrfs int, core string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `router-id: 1.1.1.1
ldp:
  interfaces:
    - name: %s
static-routes:
  - {prefix: 2.2.2.2/32, next-hop: 10.0.1.2}
  - {prefix: 3.3.3.3/32, next-hop: 10.0.1.2}
bgp:
  as: 65000
  neighbors:
    - {address: 3.3.3.3, remote-as: 65000, local-address: 1.1.1.1, families: [ipv4-vpn]}
vrfs:
`, core)
	for v := range vrfs {
		fmt.Fprintf(&b, "  - {name: v%d, table: %d, rd: \"65000:%d\", rt: [\"65000:%d\"]}\n", v, 101+v, 1000+v, 100+v)
	}
	return b.String()
}

// startFRRBenchPE runs FRR as pe1 for the bench: the VRF devices, ldpd,
// and bgpd importing each VRF's route target.
func (v *vpnLab) startFRRBenchPE(t *testing.T, vrfs int) {
	var bgp strings.Builder
	frrVPNSession(&bgp, "1.1.1.1", "3.3.3.3", "ipv4")
	for i := range vrfs {
		name := fmt.Sprintf("v%d", i)
		v.pe1.Run("ip", "link", "add", name, "type", "vrf", "table", fmt.Sprint(101+i))
		v.pe1.Run("ip", "link", "set", name, "up")
		frrVRF(&bgp, name, "1.1.1.1", fmt.Sprintf("65000:%d", 1000+i), fmt.Sprintf("65000:%d", 100+i), false, "ipv4")
	}
	v.pe1.EnableMPLS(v.pe1Core, "lo")
	v.pe1.StartFRR(topo.FRRConfig{RouterID: "1.1.1.1",
		Static:  []string{"2.2.2.2/32 10.0.1.2", "3.3.3.3/32 10.0.1.2"},
		LDP:     &topo.FRRLDP{Interfaces: []string{v.pe1Core}},
		Extra:   bgp.String(),
		Daemons: []string{"bgpd"}})
}
