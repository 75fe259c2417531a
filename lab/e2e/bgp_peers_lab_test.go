//go:build lab

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/bgp"
	"github.com/lsrd/lsrd/lab/topo"
)

// kernelRoute returns r's kernel route to prefix, "" when there is none.
func kernelRoute(r *topo.Router, prefix string) (string, error) {
	out, err := r.Try("ip", "route", "show", prefix)
	return strings.TrimSpace(out), err
}

// routeVia waits until r's kernel routes prefix through gateway, installed
// by lsrd (protocol 234).
func routeVia(t *testing.T, r *topo.Router, prefix, gateway string) {
	t.Helper()
	topo.Eventually(t, 60*time.Second, r.Name+"'s route to "+prefix+" via "+gateway, func() error {
		out, err := kernelRoute(r, prefix)
		if err != nil {
			return err
		}
		if !strings.Contains(out, "via "+gateway) || !strings.Contains(out, "proto 234") {
			return fmt.Errorf("route %q", out)
		}
		return nil
	})
}

// noRoute waits until r's kernel has no route to prefix.
func noRoute(t *testing.T, r *topo.Router, prefix string) {
	t.Helper()
	topo.Eventually(t, 60*time.Second, r.Name+" without a route to "+prefix, func() error {
		out, err := kernelRoute(r, prefix)
		if err != nil {
			return err
		}
		if out != "" {
			return fmt.Errorf("route %q", out)
		}
		return nil
	})
}

// bgpNeighbor reads one neighbour from lsrd's control API.
func bgpNeighbor(l *topo.LSRD, addr string) (bgp.NeighborInfo, error) {
	var ns []bgp.NeighborInfo
	if err := l.Get("/v1/bgp/neighbors", &ns); err != nil {
		return bgp.NeighborInfo{}, err
	}
	for _, n := range ns {
		if n.Address.String() == addr {
			return n, nil
		}
	}
	return bgp.NeighborInfo{}, fmt.Errorf("no neighbour %s in %+v", addr, ns)
}

// frrBGPPrefixes lists the prefixes in FRR's BGP table.
func frrBGPPrefixes(f *topo.FRR) ([]string, error) {
	var v struct {
		Routes map[string]json.RawMessage `json:"routes"`
	}
	if err := f.VtyshJSON("show bgp ipv4 unicast json", &v); err != nil {
		return nil, err
	}
	var out []string
	for p := range v.Routes {
		out = append(out, p)
	}
	slices.Sort(out)
	return out, nil
}

// lsrd peers with FRR's bgpd: what FRR announces reaches lsrd's kernel
// through lsrd's import prefix list, what lsrd announces reaches FRR through
// its export list, traffic flows between the two, lsrctl shows the session
// and the paths, and changing the lists by a reload re-evaluates the routes
// without resetting the session.
func TestBGPWithFRRAndPrefixLists(t *testing.T) {
	bin := lsrctlBinary(t)
	lab := topo.New(t)
	r1, r2 := lab.Router("r1"), lab.Router("r2")
	lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	r1.AddLoopback("1.1.1.1/32")
	r2.AddLoopback("198.51.100.1/24")
	r2.AddLoopback("203.0.113.1/24")
	f := r2.StartFRR(topo.FRRConfig{RouterID: "2.2.2.2", BGP: &topo.FRRBGP{AS: 65002,
		Neighbors: []topo.BGPNeighbor{{Address: "10.0.0.1", AS: 65001}},
		Networks:  []string{"198.51.100.0/24", "203.0.113.0/24"}}})
	config := func(importRules, exportRules string) string {
		return "router-id: 1.1.1.1\nbgp:\n  as: 65001\n  prefix-lists:\n" +
			"    - name: in\n      rules:\n" + importRules +
			"    - name: out\n      rules:\n" + exportRules +
			"  neighbors:\n    - address: 10.0.0.2\n      remote-as: 65002\n      import: in\n      export: out\n" +
			"  networks: [1.1.1.1/32, 10.77.0.0/24]\n"
	}
	l := r1.StartLSRD(config(
		"        - {prefix: 198.51.100.0/22, le: 24}\n",
		"        - {prefix: 1.1.1.1/32}\n"))

	routeVia(t, r1, "198.51.100.0/24", "10.0.0.2")
	topo.Eventually(t, 30*time.Second, "FRR's BGP table", func() error {
		ps, err := frrBGPPrefixes(f)
		if err != nil {
			return err
		}
		if !slices.Contains(ps, "1.1.1.1/32") {
			return fmt.Errorf("FRR has %v, want 1.1.1.1/32", ps)
		}
		return nil
	})
	// Filtered both ways: 203.0.113.0/24 never reaches the kernel, 10.77.0.0/24 never reaches FRR.
	if out, err := kernelRoute(r1, "203.0.113.0/24"); err != nil || out != "" {
		t.Errorf("the import list let 203.0.113.0/24 in: %q (%v)", out, err)
	}
	if ps, err := frrBGPPrefixes(f); err != nil || slices.Contains(ps, "10.77.0.0/24") {
		t.Errorf("the export list let 10.77.0.0/24 out: FRR has %v (%v)", ps, err)
	}
	if out, err := r1.Try("ping", "-c", "2", "-i", "0.3", "-W", "2", "-I", "1.1.1.1", "198.51.100.1"); err != nil {
		t.Fatalf("ping from lsrd's loopback to FRR's network: %v\n%s", err, out)
	}

	// lsrctl: the session and the paths, in a table and in JSON.
	nbrs := lsrctlIn(t, bin, r1, l, "show", "bgp", "neighbors").ok(t, "show bgp neighbors")
	if row := tableRow(nbrs, "10.0.0.2", "65002", "established"); row == nil || row[len(row)-2] != "in" || row[len(row)-1] != "out" {
		t.Errorf("show bgp neighbors:\n%s", nbrs)
	}
	routes := lsrctlIn(t, bin, r1, l, "show", "bgp", "routes").ok(t, "show bgp routes")
	if tableRow(routes, "*", "198.51.100.0/24", "ipv4-unicast", "10.0.0.2", "10.0.0.2", "65002") == nil ||
		tableRow(routes, "*", "1.1.1.1/32", "ipv4-unicast", "self", "local") == nil {
		t.Errorf("show bgp routes:\n%s", routes)
	}
	var paths []bgp.RouteInfo
	out := lsrctlIn(t, bin, r1, l, "-o", "json", "show", "bgp", "routes", "--peer", "10.0.0.2").ok(t, "show bgp routes --peer")
	if err := json.Unmarshal([]byte(out), &paths); err != nil {
		t.Fatalf("show bgp routes -o json: %v\n%s", err, out)
	}
	if len(paths) != 1 || paths[0].Prefix != netip.MustParsePrefix("198.51.100.0/24") || !slices.Equal(paths[0].ASPath, []uint32{65002}) {
		t.Errorf("paths from 10.0.0.2 after the import list: %+v", paths)
	}

	before, err := bgpNeighbor(l, "10.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	// Both lists widened by a reload: the new routes flow, the session stays.
	if err := l.Reload(config(
		"        - {prefix: 198.51.100.0/22, le: 24}\n        - {prefix: 203.0.113.0/24}\n",
		"        - {prefix: 1.1.1.1/32}\n        - {prefix: 10.77.0.0/16, le: 24}\n")); err != nil {
		t.Fatal(err)
	}
	routeVia(t, r1, "203.0.113.0/24", "10.0.0.2")
	topo.Eventually(t, 30*time.Second, "FRR learns 10.77.0.0/24 after the reload", func() error {
		ps, err := frrBGPPrefixes(f)
		if err != nil {
			return err
		}
		if !slices.Contains(ps, "10.77.0.0/24") {
			return fmt.Errorf("FRR has %v", ps)
		}
		return nil
	})
	after, err := bgpNeighbor(l, "10.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	if after.State != "established" || after.Uptime < before.Uptime {
		t.Errorf("the session reset on the reload: before %+v, after %+v", before, after)
	}

	// A bad prefix list is refused and changes nothing.
	if err := l.Reload(config("        - {prefix: 198.51.100.0/22, le: 40}\n", "        - {prefix: 1.1.1.1/32}\n")); err == nil ||
		!strings.Contains(err.Error(), "bgp.prefix-lists[0].rules[0].le: 40") {
		t.Errorf("reload with le 40: %v", err)
	}
	routeVia(t, r1, "203.0.113.0/24", "10.0.0.2")
}

// A reload adds and removes BGP neighbours without touching the others:
// the removed neighbour's session closes and its routes leave the kernel,
// the other session keeps its uptime, and the neighbour added back comes
// up again with its routes.
func TestBGPReloadAddsAndRemovesNeighbors(t *testing.T) {
	lab := topo.New(t)
	r1, r2, r3 := lab.Router("r1"), lab.Router("r2"), lab.Router("r3")
	lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	lab.Link(r1, r3, "10.0.0.5/30", "10.0.0.6/30")
	g2 := r2.StartGoBGP(topo.GoBGPConfig{AS: 65002, RouterID: "2.2.2.2",
		Neighbors: []topo.BGPNeighbor{{Address: "10.0.0.1", AS: 65001}}})
	g3 := r3.StartGoBGP(topo.GoBGPConfig{AS: 65003, RouterID: "3.3.3.3",
		Neighbors: []topo.BGPNeighbor{{Address: "10.0.0.5", AS: 65001}}})
	both := "router-id: 1.1.1.1\nbgp:\n  as: 65001\n  neighbors:\n" +
		"    - address: 10.0.0.2\n      remote-as: 65002\n" +
		"    - address: 10.0.0.6\n      remote-as: 65003\n"
	onlyR2 := "router-id: 1.1.1.1\nbgp:\n  as: 65001\n  neighbors:\n" +
		"    - address: 10.0.0.2\n      remote-as: 65002\n"
	l := r1.StartLSRD(both)
	g2.WaitEstablished(t, 90*time.Second, "10.0.0.1")
	g3.WaitEstablished(t, 90*time.Second, "10.0.0.5")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := g2.AddRoute(ctx, netip.MustParsePrefix("198.51.100.0/24"), netip.MustParseAddr("10.0.0.2")); err != nil {
		t.Fatal(err)
	}
	if err := g3.AddRoute(ctx, netip.MustParsePrefix("203.0.113.0/24"), netip.MustParseAddr("10.0.0.6")); err != nil {
		t.Fatal(err)
	}
	routeVia(t, r1, "198.51.100.0/24", "10.0.0.2")
	routeVia(t, r1, "203.0.113.0/24", "10.0.0.6")

	before, err := bgpNeighbor(l, "10.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Reload(onlyR2); err != nil {
		t.Fatal(err)
	}
	noRoute(t, r1, "203.0.113.0/24")
	topo.Eventually(t, 30*time.Second, "r3's gobgpd sees the session closed", func() error {
		st, err := g3.PeerState(ctx, "10.0.0.5")
		if err != nil {
			return err
		}
		if st.String() == "ESTABLISHED" {
			return fmt.Errorf("still established")
		}
		return nil
	})
	if _, err := bgpNeighbor(l, "10.0.0.6"); err == nil {
		t.Error("the removed neighbour is still listed")
	}
	after, err := bgpNeighbor(l, "10.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	if after.State != "established" || after.Uptime < before.Uptime {
		t.Errorf("removing 10.0.0.6 touched 10.0.0.2: before %+v, after %+v", before, after)
	}
	routeVia(t, r1, "198.51.100.0/24", "10.0.0.2")

	if err := l.Reload(both); err != nil {
		t.Fatal(err)
	}
	g3.WaitEstablished(t, 90*time.Second, "10.0.0.5")
	routeVia(t, r1, "203.0.113.0/24", "10.0.0.6")
	last, err := bgpNeighbor(l, "10.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	if last.State != "established" || last.Uptime < after.Uptime {
		t.Errorf("adding 10.0.0.6 back touched 10.0.0.2: before %+v, after %+v", after, last)
	}
}

// ldp.labels.bgp-host-routes: a remote LSR's loopback learned only by BGP
// (9.9.9.9 on r2, which r1 has no other route to) gets a local label on r1
// as the LSP to it forms, and r2 learns that label; a BGP network never gets
// one.
func TestBGPHostRoutesGetLabels(t *testing.T) {
	p := newPair(t, 0x8056c2e21c123456, "10.1.0")
	p.r2.AddLoopback("9.9.9.9/32")
	g := p.r2.StartGoBGP(topo.GoBGPConfig{AS: 65002, RouterID: "2.2.2.2",
		Neighbors: []topo.BGPNeighbor{{Address: "10.1.0.1", AS: 65001}}})
	l1 := p.r1.StartLSRD(lsrdConfig("1.1.1.1", []string{p.if1}, "2.2.2.2/32 10.1.0.2") +
		"bgp:\n  as: 65001\n  neighbors:\n    - address: 10.1.0.2\n      remote-as: 65002\n")
	if err := l1.Reload(strings.Replace(lsrdConfig("1.1.1.1", []string{p.if1}, "2.2.2.2/32 10.1.0.2"),
		"ldp:\n", "ldp:\n  labels:\n    bgp-host-routes: true\n", 1) +
		"bgp:\n  as: 65001\n  neighbors:\n    - address: 10.1.0.2\n      remote-as: 65002\n"); err == nil ||
		!strings.Contains(err.Error(), "ldp.labels cannot change without a restart") {
		t.Errorf("reload changing ldp.labels: %v", err)
	}
	l1.Stop()
	l1 = p.r1.StartLSRD(strings.Replace(lsrdConfig("1.1.1.1", []string{p.if1}, "2.2.2.2/32 10.1.0.2"),
		"ldp:\n", "ldp:\n  labels:\n    bgp-host-routes: true\n", 1) +
		"bgp:\n  as: 65001\n  neighbors:\n    - address: 10.1.0.2\n      remote-as: 65002\n")
	l2 := p.r2.StartLSRD(lsrdConfig("2.2.2.2", []string{p.if2}, "1.1.1.1/32 10.1.0.1"))
	g.WaitEstablished(t, 90*time.Second, "10.1.0.1")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, pfx := range []string{"9.9.9.9/32", "198.51.100.0/24"} {
		if err := g.AddRoute(ctx, netip.MustParsePrefix(pfx), netip.MustParseAddr("10.1.0.2")); err != nil {
			t.Fatal(err)
		}
	}
	routeVia(t, p.r1, "198.51.100.0/24", "10.1.0.2")
	var label uint32
	topo.Eventually(t, 60*time.Second, "r2 learns r1's label for the BGP loopback 9.9.9.9/32", func() error {
		var err error
		if label, err = localLabel(l1, "9.9.9.9/32"); err != nil {
			return err
		}
		bs, err := lsrdBindings(l2)
		if err != nil {
			return err
		}
		for _, rb := range bs["9.9.9.9/32"].Remote {
			if rb.Peer == netip.MustParseAddr("1.1.1.1") && uint32(rb.Label) == label {
				return nil
			}
		}
		return fmt.Errorf("r2's binding for 9.9.9.9/32: %+v, want r1's label %d", bs["9.9.9.9/32"], label)
	})
	if l, err := localLabel(l1, "198.51.100.0/24"); err == nil {
		t.Errorf("the BGP network 198.51.100.0/24 got label %d", l)
	}
}

// Two sessions with one gobgpd: IPv4 with the TTL security check (RFC 5082)
// and TCP-MD5 (RFC 2385) on both sides, and IPv6 unicast over IPv6, whose
// route lsrd installs in the kernel's IPv6 table.
func TestBGPIPv6AndTTLSecurity(t *testing.T) {
	lab := topo.New(t)
	r1, r2 := lab.Router("r1"), lab.Router("r2")
	if1, if2 := lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	r1.Run("ip", "addr", "add", "2001:db8:12::1/64", "dev", if1, "nodad")
	r2.Run("ip", "addr", "add", "2001:db8:12::2/64", "dev", if2, "nodad")
	g := r2.StartGoBGP(topo.GoBGPConfig{AS: 65002, RouterID: "2.2.2.2", Neighbors: []topo.BGPNeighbor{
		{Address: "10.0.0.1", AS: 65001, TTLMin: 255, Password: "zt-overlay"},
		{Address: "2001:db8:12::1", AS: 65001, Families: []string{"ipv6-unicast"}},
	}})
	l := r1.StartLSRD("router-id: 1.1.1.1\nbgp:\n  as: 65001\n  neighbors:\n" +
		"    - address: 10.0.0.2\n      remote-as: 65002\n      ttl-security-hops: 1\n      password: zt-overlay\n" +
		"    - address: 2001:db8:12::2\n      remote-as: 65002\n      families: [ipv6-unicast]\n")
	g.WaitEstablished(t, 90*time.Second, "10.0.0.1")
	g.WaitEstablished(t, 90*time.Second, "2001:db8:12::1")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := g.AddRoute(ctx, netip.MustParsePrefix("198.51.100.0/24"), netip.MustParseAddr("10.0.0.2")); err != nil {
		t.Fatal(err)
	}
	if err := g.AddRoute6(ctx, netip.MustParsePrefix("2001:db8:100::/48"), netip.MustParseAddr("2001:db8:12::2")); err != nil {
		t.Fatal(err)
	}
	routeVia(t, r1, "198.51.100.0/24", "10.0.0.2")
	topo.Eventually(t, 60*time.Second, "r1's IPv6 route to 2001:db8:100::/48", func() error {
		out, err := r1.Try("ip", "-6", "route", "show", "2001:db8:100::/48")
		if err != nil {
			return err
		}
		if !strings.Contains(out, "via 2001:db8:12::2") || !strings.Contains(out, "proto 234") {
			return fmt.Errorf("route %q", strings.TrimSpace(out))
		}
		return nil
	})
	n, err := bgpNeighbor(l, "2001:db8:12::2")
	if err != nil {
		t.Fatal(err)
	}
	if n.State != "established" || !slices.Equal(n.Families, []string{"ipv6-unicast"}) {
		t.Errorf("IPv6 neighbour %+v", n)
	}
}
