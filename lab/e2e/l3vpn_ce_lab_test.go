//go:build lab

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
)

// BGP with a customer's router in a VRF: ce1 runs FRR's bgpd (AS 65101)
// and announces its LAN, 192.168.1.0/24, to pe1 (lsrd), which has the
// session in VRF red (vrfs[].bgp). pe1 puts the route in red's table
// (protocol bgp, via ce1) and exports it as a VPN route; FRR's pe2 imports
// it, and ce2 pings 192.168.1.1 over two labels. The other way, ce1 learns
// ce2's subnet (a VPN route pe1 imports) from pe1 with pe1 as next hop.
// When ce1 stops announcing its LAN, it leaves pe1's table and pe2's.
func TestL3VPNCustomerBGP(t *testing.T) {
	v := newVPNLab(t)
	cfg := lsrdPE("1.1.1.1", v.pe1Core, "10.0.1.2", "3.3.3.3", "1", v.pe1Red, v.pe1Blue)
	red := fmt.Sprintf(`rt: ["65000:100"], interfaces: [%s]}`, v.pe1Red)
	if !strings.Contains(cfg, red) {
		t.Fatalf("pe1's configuration has no %q:\n%s", red, cfg)
	}
	cfg = strings.Replace(cfg, red, fmt.Sprintf(`rt: ["65000:100"], interfaces: [%s], bgp: {neighbors: [{address: 10.10.1.2, remote-as: 65101}]}}`, v.pe1Red), 1)
	v.pe1.StartLSRD(cfg)
	v.p.StartLSRD(lsrdConfig("2.2.2.2", []string{v.pCore1, v.pCore2}, "1.1.1.1/32 10.0.1.1", "3.3.3.3/32 10.0.2.3"))
	v.startFRRPE(t)
	v.ce1.Run("ip", "link", "add", "lan0", "type", "dummy")
	v.ce1.Run("ip", "link", "set", "lan0", "up")
	v.ce1.Run("ip", "addr", "add", "192.168.1.1/24", "dev", "lan0")
	ce1 := v.ce1.StartFRR(topo.FRRConfig{RouterID: "10.10.1.2", BGP: &topo.FRRBGP{AS: 65101,
		Neighbors: []topo.BGPNeighbor{{Address: "10.10.1.1", AS: 65000}}, Networks: []string{"192.168.1.0/24"}}})

	topo.Eventually(t, 2*time.Minute, "pe1 puts ce1's LAN in VRF red's table, learned over BGP", func() error {
		out := v.pe1.Run("ip", "route", "show", "table", "10", "192.168.1.0/24")
		if !strings.Contains(out, "via 10.10.1.2") || !strings.Contains(out, "proto bgp") {
			return fmt.Errorf("pe1 table 10: %q", out)
		}
		return nil
	})
	topo.Eventually(t, 2*time.Minute, "pe2 (FRR) imports ce1's LAN into its VRF red over an LSP", func() error {
		out := v.pe2.Run("ip", "route", "show", "table", "10", "192.168.1.0/24")
		if !strings.Contains(out, "encap mpls") {
			return fmt.Errorf("pe2 table 10: %q", out)
		}
		return nil
	})
	if out, err := v.ce2.Try("ping", "-c", "3", "-i", "0.2", "-W", "2", "192.168.1.1"); err != nil {
		t.Fatalf("ce2 cannot reach ce1's LAN: %v\n%s", err, out)
	}
	topo.Eventually(t, time.Minute, "ce1 learns ce2's subnet from pe1", func() error {
		out, err := ce1.Vtysh("show ip bgp 10.10.2.0/24")
		if err != nil {
			return err
		}
		if !strings.Contains(out, "10.10.1.1") || !strings.Contains(out, "65000") {
			return fmt.Errorf("ce1: %s", out)
		}
		return nil
	})
	if _, err := ce1.Vtysh("", "-c", "configure terminal", "-c", "router bgp 65101", "-c", "address-family ipv4 unicast", "-c", "no network 192.168.1.0/24"); err != nil {
		t.Fatal(err)
	}
	topo.Eventually(t, time.Minute, "ce1's LAN leaves pe1's table and pe2's when ce1 stops announcing it", func() error {
		for _, r := range []*topo.Router{v.pe1, v.pe2} {
			if out := r.Run("ip", "route", "show", "table", "10", "192.168.1.0/24"); strings.TrimSpace(out) != "" {
				return fmt.Errorf("%s table 10: %q", r.Name, out)
			}
		}
		return nil
	})
}
