//go:build lab

package topo

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// A label swap route written through vishvananda/netlink must read back from
// the kernel with its labels, next hop and protocol: the lab's kernel really
// forwards MPLS.
func TestNetlinkLabelSwap(t *testing.T) {
	lab := New(t)
	r1, r2 := lab.Router("r1"), lab.Router("r2")
	if1, _ := lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	r1.EnableMPLS(if1)
	h := r1.Netlink()
	link, err := h.LinkByName(if1)
	if err != nil {
		t.Fatal(err)
	}
	in := 100
	route := &netlink.Route{
		Family:    netlink.FAMILY_MPLS,
		MPLSDst:   &in,
		NewDst:    &netlink.MPLSDestination{Labels: []int{200, 300}},
		Via:       &netlink.Via{AddrFamily: netlink.FAMILY_V4, Addr: net.ParseIP("10.0.0.2").To4()}, // RTA_VIA wants the 4-byte form
		LinkIndex: link.Attrs().Index,
		Protocol:  193,
	}
	if err := h.RouteAdd(route); err != nil {
		t.Fatalf("adding MPLS route: %v", err)
	}
	routes, err := h.RouteListFiltered(netlink.FAMILY_MPLS, &netlink.Route{}, 0) // a nil filter panics in netlink v1.3.1
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, r := range routes {
		if r.MPLSDst == nil || *r.MPLSDst != in {
			continue
		}
		found = true
		if r.NewDst == nil || r.NewDst.String() != "200/300" {
			t.Errorf("label 100: swap to %v, want 200/300", r.NewDst)
		}
		if r.Via == nil || r.Via.String() != "Family: 2, Address: 10.0.0.2" {
			t.Errorf("label 100: via %v, want 10.0.0.2", r.Via)
		}
		if r.LinkIndex != link.Attrs().Index || r.Protocol != 193 {
			t.Errorf("label 100: dev %d proto %d, want dev %d proto 193", r.LinkIndex, r.Protocol, link.Attrs().Index)
		}
	}
	if !found {
		t.Fatalf("label 100 not in the kernel's MPLS table: %v", routes)
	}
	// iproute2 must see the same route: two independent readers agree.
	out := r1.Run("ip", "-f", "mpls", "route", "show")
	if !strings.Contains(out, "100 as to 200/300 via inet 10.0.0.2 dev "+if1+" proto ldp") {
		t.Errorf("ip -f mpls route show:\n%s", out)
	}
}

// Two FRR routers on a ZeroTier-like segment form an LDP session, exchange
// bindings, install label routes, and ping between their loopbacks is carried
// by the LSP (explicit-null, so the packets really carry a label).
func TestFRRLDPOverZeroTier(t *testing.T) {
	lab := New(t)
	zt := lab.ZeroTier(0x8056c2e21c123456)
	r1, r2 := lab.Router("r1"), lab.Router("r2")
	if1 := zt.Attach(r1, "10.1.0.1/24")
	if2 := zt.Attach(r2, "10.1.0.2/24")
	if if1 != "ztmjfnbvsk" || if1 != if2 {
		t.Fatalf("ZeroTier device names %s and %s, want ztmjfnbvsk on both", if1, if2)
	}
	r1.AddLoopback("1.1.1.1/32")
	r2.AddLoopback("2.2.2.2/32")
	r1.EnableMPLS(if1, "lo")
	r2.EnableMPLS(if2, "lo")
	f1 := r1.StartFRR(FRRConfig{RouterID: "1.1.1.1", Static: []string{"2.2.2.2/32 10.1.0.2"},
		LDP: &FRRLDP{Interfaces: []string{if1}, ExplicitNull: true}})
	f2 := r2.StartFRR(FRRConfig{RouterID: "2.2.2.2", Static: []string{"1.1.1.1/32 10.1.0.1"},
		LDP: &FRRLDP{Interfaces: []string{if2}, ExplicitNull: true}})

	f1.WaitLDPOperational(t, 60*time.Second, "2.2.2.2")
	f2.WaitLDPOperational(t, 60*time.Second, "1.1.1.1")

	// r1 pushes explicit-null (label 0) towards 2.2.2.2 and r2 towards
	// 1.1.1.1; each swaps its own local label for the peer's loopback to 0.
	Eventually(t, 60*time.Second, "r1's labelled route to 2.2.2.2", func() error {
		return checkPush(r1, "2.2.2.2/32", 0)
	})
	Eventually(t, 60*time.Second, "r2's labelled route to 1.1.1.1", func() error {
		return checkPush(r2, "1.1.1.1/32", 0)
	})
	var bindings map[string]any
	if err := f1.VtyshJSON("show mpls ldp binding json", &bindings); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fmt.Sprint(bindings), "2.2.2.2/32") {
		t.Errorf("r1's LDP bindings lack 2.2.2.2/32: %v", bindings)
	}
	Eventually(t, 60*time.Second, "r1's label route for 2.2.2.2", func() error {
		out, err := r1.Try("ip", "-f", "mpls", "route", "show")
		if err != nil {
			return err
		}
		if !strings.Contains(out, "as to 0 via inet 10.1.0.2 dev "+if1+" proto ldp") {
			return fmt.Errorf("r1's MPLS table:\n%s", out)
		}
		return nil
	})
	// The echo requests must arrive at r2 as MPLS (ethertype 0x8847) with
	// label 0: the LSP carried them, not plain IP forwarding.
	capture := r2.StartCapture(if2, "mpls 0 and icmp", 3)
	out, err := r1.Try("ping", "-c", "3", "-i", "0.2", "-W", "2", "-I", "1.1.1.1", "2.2.2.2")
	if err != nil {
		t.Fatalf("ping 2.2.2.2 from 1.1.1.1 through the LSP: %v", err)
	}
	t.Logf("ping through the LSP:\n%s", out)
	pkts, err := capture.Wait(10 * time.Second)
	if err != nil {
		t.Fatalf("labelled echo requests at r2: %v", err)
	}
	for _, p := range pkts {
		if !strings.Contains(p, "ethertype MPLS unicast (0x8847)") || !strings.Contains(p, "MPLS (label 0,") {
			t.Errorf("r2 captured %q, want MPLS label 0", p)
		}
	}
	t.Logf("captured at r2:\n%s", strings.Join(pkts, "\n"))
}

// checkPush verifies that the router's kernel route for prefix pushes label.
func checkPush(r *Router, prefix string, label int) error {
	out, err := r.Try("ip", "route", "show", prefix)
	if err != nil {
		return err
	}
	want := fmt.Sprintf("encap mpls  %d ", label)
	if !strings.Contains(out, want) {
		return fmt.Errorf("%s: route %s is %q, want it to push %d", r.Name, prefix, strings.TrimSpace(out), label)
	}
	return nil
}

// A gobgpd peer and an FRR bgpd establish a session, and a route gobgpd
// originates reaches FRR's kernel routing table.
func TestGoBGPPeerWithFRR(t *testing.T) {
	lab := New(t)
	r1, r2 := lab.Router("r1"), lab.Router("r2")
	lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	r1.StartFRR(FRRConfig{RouterID: "1.1.1.1", BGP: &FRRBGP{AS: 65001,
		Neighbors: []BGPNeighbor{{Address: "10.0.0.2", AS: 65002}}}})
	g := r2.StartGoBGP(GoBGPConfig{AS: 65002, RouterID: "2.2.2.2",
		Neighbors: []BGPNeighbor{{Address: "10.0.0.1", AS: 65001}}})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	g.WaitEstablished(t, 60*time.Second, "10.0.0.1")
	prefix := netip.MustParsePrefix("198.51.100.0/24")
	if err := g.AddRoute(ctx, prefix, netip.MustParseAddr("10.0.0.2")); err != nil {
		t.Fatal(err)
	}
	h := r1.Netlink()
	Eventually(t, 30*time.Second, "r1's kernel route to "+prefix.String(), func() error {
		_, dst, _ := net.ParseCIDR(prefix.String())
		routes, err := h.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Dst: dst}, netlink.RT_FILTER_DST)
		if err != nil {
			return err
		}
		for _, r := range routes {
			if r.Gw.Equal(net.ParseIP("10.0.0.2")) && r.Protocol == unix.RTPROT_BGP {
				return nil
			}
		}
		return fmt.Errorf("routes %v", routes)
	})
}
