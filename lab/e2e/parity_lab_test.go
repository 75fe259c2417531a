//go:build lab

package e2e

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/lab/topo"
)

// Every lsrctl view of a session beside FRR's view of the same session from
// the other end: lsrd on r1 runs LDP and BGP with FRR (ldpd, bgpd, zebra)
// on r2. What one side shows of the session, its labels and its paths must
// be what the other side shows, and the BGP resets must do to FRR what they
// say.
func TestLsrctlBesideFRR(t *testing.T) {
	bin := lsrctlBinary(t)
	lab := topo.New(t)
	r1, r2 := lab.Router("r1"), lab.Router("r2")
	if1, if2 := lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	r1.AddLoopback("1.1.1.1/32")
	r2.AddLoopback("2.2.2.2/32")
	r2.AddLoopback("198.51.100.1/24")
	r2.AddLoopback("203.0.113.1/24")
	r1.EnableMPLS(if1, "lo")
	r2.EnableMPLS(if2, "lo")
	r2.Run("ip", "route", "add", "1.1.1.1/32", "via", "10.0.0.1")
	f := r2.StartFRR(topo.FRRConfig{RouterID: "2.2.2.2",
		LDP: &topo.FRRLDP{Interfaces: []string{if2}},
		BGP: &topo.FRRBGP{AS: 65002, Neighbors: []topo.BGPNeighbor{{Address: "10.0.0.1", AS: 65001}},
			Networks: []string{"198.51.100.0/24", "203.0.113.0/24"}}})
	// lsrd: LDP on the link and on an interface that does not exist (yet),
	// BGP with FRR; the import list keeps 203.0.113.0/24 out, the export
	// list keeps 10.77.0.0/24 in.
	l := r1.StartLSRD("router-id: 1.1.1.1\nldp:\n  interfaces:\n    - name: " + if1 + "\n    - name: spare0\n" +
		"static-routes:\n  - prefix: 2.2.2.2/32\n    next-hop: 10.0.0.2\n" +
		"bgp:\n  as: 65001\n  prefix-lists:\n" +
		"    - name: in\n      rules:\n        - {prefix: 198.51.100.0/22, le: 24}\n" +
		"    - name: out\n      rules:\n        - {prefix: 1.1.1.1/32}\n" +
		"  neighbors:\n    - address: 10.0.0.2\n      remote-as: 65002\n      import: in\n      export: out\n" +
		"  networks: [1.1.1.1/32, 10.77.0.0/24]\n")
	f.WaitLDPOperational(t, 90*time.Second, "1.1.1.1")
	routeVia(t, r1, "198.51.100.0/24", "10.0.0.2")

	t.Run("ldp neighbors, discovery and bindings", func(t *testing.T) {
		out := lsrctlIn(t, bin, r1, l, "show", "ldp", "neighbors").ok(t, "show ldp neighbors")
		if tableRow(out, "2.2.2.2", "OPERATIONAL") == nil {
			t.Errorf("show ldp neighbors: 2.2.2.2 not OPERATIONAL:\n%s", out)
		}
		fn, err := f.LDPNeighbors()
		if err != nil || len(fn) != 1 || fn[0].NeighborID != "1.1.1.1" || fn[0].State != "OPERATIONAL" {
			t.Errorf("FRR's neighbours %+v (%v), want 1.1.1.1 OPERATIONAL", fn, err)
		}
		// Each side's adjacency comes from the other's interface address.
		out = lsrctlIn(t, bin, r1, l, "show", "ldp", "discovery").ok(t, "show ldp discovery")
		if tableRow(out, "2.2.2.2", "link", if1, "10.0.0.2") == nil {
			t.Errorf("show ldp discovery: no link adjacency with 2.2.2.2 on %s from 10.0.0.2:\n%s", if1, out)
		}
		var fd struct {
			Adjacencies []struct {
				NeighborID string `json:"neighborId"`
				Type       string `json:"type"`
				Interface  string `json:"interface"`
			} `json:"adjacencies"`
		}
		if err := f.VtyshJSON("show mpls ldp discovery json", &fd); err != nil {
			t.Fatal(err)
		}
		if len(fd.Adjacencies) != 1 || fd.Adjacencies[0].NeighborID != "1.1.1.1" || fd.Adjacencies[0].Type != "link" || fd.Adjacencies[0].Interface != if2 {
			t.Errorf("FRR's discovery %+v, want one link adjacency with 1.1.1.1 on %s", fd.Adjacencies, if2)
		}
		// The bindings table: every label one side advertised is what the
		// other holds from it.
		var fecs []string
		topo.Eventually(t, 30*time.Second, "lsrd's and FRR's bindings agree", func() error {
			var err error
			fecs, err = agree(f, l, "2.2.2.2", "1.1.1.1")
			if err == nil && (!slices.Contains(fecs, "1.1.1.1/32") || !slices.Contains(fecs, "2.2.2.2/32")) {
				return fmt.Errorf("compared only %v", fecs)
			}
			return err
		})
		out = lsrctlIn(t, bin, r1, l, "show", "ldp", "bindings").ok(t, "show ldp bindings")
		if tableRow(out, "2.2.2.2/32", "2.2.2.2") == nil || tableRow(out, "1.1.1.1/32", "2.2.2.2", "imp-null") == nil {
			t.Errorf("show ldp bindings:\n%s", out)
		}
		t.Logf("lsrd and FRR agree on the labels of %v", fecs)
	})

	t.Run("ldp neighbor detail", func(t *testing.T) {
		var fn map[string]frrLDPNeighborDetail
		if err := f.VtyshJSON("show mpls ldp neighbor detail json", &fn); err != nil {
			t.Fatal(err)
		}
		theirs, ok := fn["1.1.1.1"]
		if !ok {
			t.Fatalf("FRR's neighbour detail has no 1.1.1.1: %+v", fn)
		}
		var ns []api.LDPNeighbor
		js := lsrctlIn(t, bin, r1, l, "-o", "json", "show", "ldp", "neighbors", "--peer", "2.2.2.2", "--detail").ok(t, "show ldp neighbors --detail")
		if err := json.Unmarshal([]byte(js), &ns); err != nil || len(ns) != 1 {
			t.Fatalf("show ldp neighbors --detail -o json: %v\n%s", err, js)
		}
		mine := ns[0]
		frrLocal := netip.AddrPortFrom(netip.MustParseAddr(theirs.TCPLocalAddress), uint16(theirs.TCPLocalPort))
		if mine.State != "OPERATIONAL" || theirs.State != "OPERATIONAL" || mine.Remote != frrLocal {
			t.Errorf("lsrd: %s with %s; FRR: %s from %s", mine.State, mine.Remote, theirs.State, frrLocal)
		}
		if mine.KeepAlive != time.Duration(theirs.SessionHoldtime)*time.Second ||
			mine.KeepaliveInterval != time.Duration(theirs.KeepAliveInterval)*time.Second {
			t.Errorf("lsrd: hold %s, keepalive every %s; FRR: hold %d s, keepalive every %d s",
				mine.KeepAlive, mine.KeepaliveInterval, theirs.SessionHoldtime, theirs.KeepAliveInterval)
		}
		if mine.MD5 != (theirs.Authentication != "none") {
			t.Errorf("lsrd: md5 %v; FRR: authentication %q", mine.MD5, theirs.Authentication)
		}
		// lsrd lists what FRR sent it, by name; FRR what it sent.
		if len(mine.Capabilities) != len(theirs.SentCapabilities) {
			t.Errorf("lsrd received capabilities %v; FRR sent %+v", mine.Capabilities, theirs.SentCapabilities)
		}
		out := lsrctlIn(t, bin, r1, l, "show", "ldp", "neighbors", "--detail").ok(t, "show ldp neighbors --detail")
		t.Logf("r1# lsrctl show ldp neighbors --detail\n%s", out)
	})

	t.Run("ldp bindings detail", func(t *testing.T) {
		topo.Eventually(t, 30*time.Second, "lsrd's and FRR's binding details agree", func() error {
			var fb map[string]frrLDPBindingDetail
			if err := f.VtyshJSON("show mpls ldp binding detail json", &fb); err != nil {
				return err
			}
			var bs []api.LDPBinding
			js := lsrctlIn(t, bin, r1, l, "-o", "json", "show", "ldp", "bindings", "--detail").ok(t, "show ldp bindings --detail")
			if err := json.Unmarshal([]byte(js), &bs); err != nil {
				return err
			}
			return bindingDetailsAgree(bs, fb, "1.1.1.1", "2.2.2.2")
		})
		out := lsrctlIn(t, bin, r1, l, "show", "ldp", "bindings", "--detail", "--fec", "2.2.2.2/32").ok(t, "show ldp bindings --detail")
		if !strings.Contains(out, "Advertised to: 2.2.2.2") || !strings.Contains(out, "Peer 2.2.2.2: label imp-null (in use)") {
			t.Errorf("show ldp bindings --detail --fec 2.2.2.2/32:\n%s", out)
		}
		t.Logf("r1# lsrctl show ldp bindings --detail --fec 2.2.2.2/32\n%s", out)
	})

	t.Run("lfib installed", func(t *testing.T) {
		// Every entry lsrd wants is installed, and the kernel holds it;
		// FRR says the same of its table.
		var v api.TableView
		topo.Eventually(t, 30*time.Second, "every LFIB and FTN entry installed", func() error {
			js := lsrctlIn(t, bin, r1, l, "-o", "json", "show", "lfib").ok(t, "show lfib")
			if err := json.Unmarshal([]byte(js), &v); err != nil {
				return err
			}
			if len(v.LFIB) == 0 || len(v.FTN) == 0 {
				return fmt.Errorf("no LFIB or FTN entries: %+v", v)
			}
			for _, e := range v.LFIB {
				if !e.Installed {
					return fmt.Errorf("LFIB entry %d not installed", e.InLabel)
				}
			}
			for _, e := range v.FTN {
				if !e.Installed {
					return fmt.Errorf("FTN entry %s not installed", e.Prefix)
				}
			}
			return nil
		})
		kernel, err := r1.LabelRoutes()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range v.LFIB {
			if _, ok := kernel[uint32(e.InLabel)]; !ok {
				t.Errorf("lsrctl says label %d is installed; r1's kernel has %v", e.InLabel, kernel)
			}
		}
		var ft map[string]struct {
			Installed bool `json:"installed"`
		}
		if err := f.VtyshJSON("show mpls table json", &ft); err != nil {
			t.Fatal(err)
		}
		for in, e := range ft {
			if !e.Installed {
				t.Errorf("FRR's label %s is not installed", in)
			}
		}
		out := lsrctlIn(t, bin, r1, l, "show", "lfib").ok(t, "show lfib")
		t.Logf("r1# lsrctl show lfib\n%s", out)
	})

	t.Run("interfaces", func(t *testing.T) {
		var fi map[string]json.RawMessage
		if err := f.VtyshJSON("show mpls ldp interface json", &fi); err != nil {
			t.Fatal(err)
		}
		out := lsrctlIn(t, bin, r1, l, "show", "ldp", "interfaces").ok(t, "show ldp interfaces")
		// INTERFACE STATE INDEX MTU LDP IGP-SYNC MPLS-INPUT ADDRESSES
		if row := tableRow(out, if1, "up"); row == nil || row[4] != "yes" || row[6] != "yes" {
			t.Errorf("show ldp interfaces: %s is not up with LDP and MPLS input:\n%s", if1, out)
		}
		if row := tableRow(out, "spare0", "missing"); row == nil || row[4] != "yes" {
			t.Errorf("show ldp interfaces: spare0 (configured, not there) not shown missing:\n%s", out)
		}
		if len(fi) == 0 {
			t.Errorf("FRR shows no LDP interface")
		}
		log, err := readFile(l.Log)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(log, `msg="ldp interface not found; LDP starts on it when it appears" interface=spare0`) != 1 {
			t.Errorf("lsrd did not log the missing interface once:\n%s", log)
		}
		t.Logf("r1# lsrctl show ldp interfaces\n%s", out)
	})

	t.Run("bgp neighbor detail", func(t *testing.T) {
		topo.Eventually(t, 30*time.Second, "lsrd's and FRR's session details agree", func() error {
			theirs, err := frrBGPNeighbor(f, "10.0.0.1")
			if err != nil {
				return err
			}
			mine, err := lsrctlBGPNeighbor(t, bin, r1, l, "10.0.0.2")
			if err != nil {
				return err
			}
			frrLocal := netip.AddrPortFrom(netip.MustParseAddr(theirs.HostLocal), uint16(theirs.PortLocal))
			frrForeign := netip.AddrPortFrom(netip.MustParseAddr(theirs.HostForeign), uint16(theirs.PortForeign))
			var problems []string
			if mine.State != "established" || theirs.BGPState != "Established" {
				problems = append(problems, fmt.Sprintf("states %s and %s", mine.State, theirs.BGPState))
			}
			if mine.Remote != frrLocal || mine.Local != frrForeign {
				problems = append(problems, fmt.Sprintf("lsrd %s to %s, FRR %s to %s", mine.Local, mine.Remote, frrLocal, frrForeign))
			}
			if mine.RouterID.String() != "2.2.2.2" || theirs.RemoteRouterID != "1.1.1.1" {
				problems = append(problems, fmt.Sprintf("lsrd sees router ID %s (FRR's is 2.2.2.2), FRR sees %s (lsrd's is 1.1.1.1)", mine.RouterID, theirs.RemoteRouterID))
			}
			if mine.HoldTime != time.Duration(theirs.HoldMsecs)*time.Millisecond || mine.Keepalive != time.Duration(theirs.KeepaliveMsecs)*time.Millisecond {
				problems = append(problems, fmt.Sprintf("lsrd hold %s keepalive %s, FRR %d ms and %d ms", mine.HoldTime, mine.Keepalive, theirs.HoldMsecs, theirs.KeepaliveMsecs))
			}
			m := theirs.MessageStats
			if mine.MessagesSent.Open != m.OpensRecv || mine.MessagesReceived.Open != m.OpensSent ||
				mine.MessagesSent.Update != m.UpdatesRecv || mine.MessagesReceived.Update != m.UpdatesSent {
				problems = append(problems, fmt.Sprintf("lsrd sent %+v received %+v; FRR %+v", mine.MessagesSent, mine.MessagesReceived, m))
			}
			if !slices.Contains(mine.RemoteCapabilities, "multiprotocol ipv4-unicast") || !slices.Contains(mine.LocalCapabilities, "multiprotocol ipv4-unicast") {
				problems = append(problems, fmt.Sprintf("capabilities sent %v received %v", mine.LocalCapabilities, mine.RemoteCapabilities))
			}
			if len(problems) > 0 {
				return fmt.Errorf("%s", strings.Join(problems, "; "))
			}
			return nil
		})
		out := lsrctlIn(t, bin, r1, l, "show", "bgp", "neighbors", "--detail").ok(t, "show bgp neighbors --detail")
		t.Logf("r1# lsrctl show bgp neighbors --detail\n%s", out)
	})

	t.Run("bgp summary, routes and rib", func(t *testing.T) {
		var sum struct {
			IPv4Unicast struct {
				Peers map[string]struct {
					State  string `json:"state"`
					PfxRcd int    `json:"pfxRcd"`
					PfxSnt int    `json:"pfxSnt"`
				} `json:"peers"`
			} `json:"ipv4Unicast"`
		}
		topo.Eventually(t, 30*time.Second, "lsrd's and FRR's summaries agree", func() error {
			if err := f.VtyshJSON("show bgp summary json", &sum); err != nil {
				return err
			}
			theirs := sum.IPv4Unicast.Peers["10.0.0.1"]
			mine, err := lsrctlBGPNeighbor(t, bin, r1, l, "10.0.0.2")
			if err != nil {
				return err
			}
			// What one side sent, the other received (before any policy).
			if theirs.State != "Established" || mine.State != "established" ||
				uint64(theirs.PfxSnt) != mine.Received || uint64(theirs.PfxRcd) != mine.Advertised {
				return fmt.Errorf("FRR: %+v; lsrd: %s, received %d, advertised %d", theirs, mine.State, mine.Received, mine.Advertised)
			}
			return nil
		})
		out := lsrctlIn(t, bin, r1, l, "show", "bgp", "neighbors").ok(t, "show bgp neighbors")
		if tableRow(out, "10.0.0.2", "65002", "established") == nil {
			t.Errorf("show bgp neighbors:\n%s", out)
		}
		// The paths lsrd took from FRR are FRR's advertised ones that
		// lsrd's import list lets in (1.1.1.1/32 comes back with lsrd's
		// own AS in its path and is dropped), and they are in its RIB.
		paths := bgpPrefixes(t, lsrctlIn(t, bin, r1, l, "-o", "json", "show", "bgp", "routes", "--peer", "10.0.0.2").ok(t, "show bgp routes"))
		if !slices.Equal(paths, []string{"198.51.100.0/24"}) {
			t.Errorf("show bgp routes --peer 10.0.0.2: %v, want [198.51.100.0/24]", paths)
		}
		rib := lsrctlIn(t, bin, r1, l, "show", "rib", "--fec", "198.51.100.0/24").ok(t, "show rib")
		if tableRow(rib, "198.51.100.0/24", "bgp") == nil || !strings.Contains(rib, "10.0.0.2") {
			t.Errorf("show rib --fec 198.51.100.0/24:\n%s", rib)
		}
		var fr map[string][]struct {
			Protocol string `json:"protocol"`
		}
		if err := f.VtyshJSON("show ip route 198.51.100.0/24 json", &fr); err != nil || len(fr["198.51.100.0/24"]) == 0 || fr["198.51.100.0/24"][0].Protocol != "connected" {
			t.Errorf("FRR's route to 198.51.100.0/24: %+v (%v), want its connected network", fr, err)
		}
	})

	t.Run("bgp adj-rib-in and adj-rib-out", func(t *testing.T) {
		// What FRR advertised is lsrd's Adj-RIB-In, before lsrd's import
		// list; what lsrd advertised (after its export list) is what FRR
		// learned from it.
		topo.Eventually(t, 30*time.Second, "the Adj-RIBs match FRR's tables", func() error {
			var adv struct {
				AdvertisedRoutes map[string]json.RawMessage `json:"advertisedRoutes"`
			}
			if err := f.VtyshJSON("show bgp ipv4 unicast neighbors 10.0.0.1 advertised-routes json", &adv); err != nil {
				return err
			}
			in := bgpPrefixes(t, lsrctlIn(t, bin, r1, l, "-o", "json", "show", "bgp", "received-routes", "10.0.0.2").ok(t, "received-routes"))
			if want := sortedKeys(adv.AdvertisedRoutes); !slices.Equal(in, want) || !slices.Contains(in, "203.0.113.0/24") {
				return fmt.Errorf("lsrd received %v; FRR advertised %v", in, want)
			}
			var learned struct {
				Routes map[string]json.RawMessage `json:"routes"`
			}
			if err := f.VtyshJSON("show bgp ipv4 unicast neighbors 10.0.0.1 routes json", &learned); err != nil {
				return err
			}
			out := bgpPrefixes(t, lsrctlIn(t, bin, r1, l, "-o", "json", "show", "bgp", "advertised-routes", "10.0.0.2").ok(t, "advertised-routes"))
			if want := sortedKeys(learned.Routes); !slices.Equal(out, want) || !slices.Equal(out, []string{"1.1.1.1/32"}) {
				return fmt.Errorf("lsrd advertised %v; FRR learned %v from it", out, want)
			}
			return nil
		})
		out := lsrctlIn(t, bin, r1, l, "show", "bgp", "received-routes", "10.0.0.2").ok(t, "received-routes")
		t.Logf("r1# lsrctl show bgp received-routes 10.0.0.2\n%s", out)
		run := lsrctlIn(t, bin, r1, l, "show", "bgp", "received-routes", "10.9.9.9")
		if run.code != 1 || !strings.Contains(run.stderr, "no such neighbour: 10.9.9.9") {
			t.Errorf("received-routes of an unknown neighbour: exit %d, stderr %q", run.code, run.stderr)
		}
	})

	t.Run("bgp resets", func(t *testing.T) {
		before, err := frrBGPNeighbor(f, "10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		// Soft out: lsrd sends its paths again, FRR counts the UPDATEs,
		// and the session stays.
		out := lsrctlIn(t, bin, r1, l, "clear", "bgp", "10.0.0.2", "--soft", "out").ok(t, "clear bgp --soft out")
		if !strings.Contains(out, "soft reset (out)") {
			t.Errorf("clear bgp --soft out: %q", out)
		}
		topo.Eventually(t, 30*time.Second, "FRR receives lsrd's paths again", func() error {
			now, err := frrBGPNeighbor(f, "10.0.0.1")
			if err != nil {
				return err
			}
			if now.MessageStats.UpdatesRecv <= before.MessageStats.UpdatesRecv {
				return fmt.Errorf("FRR received %d UPDATEs, %d before the soft reset", now.MessageStats.UpdatesRecv, before.MessageStats.UpdatesRecv)
			}
			return nil
		})
		lsrctlIn(t, bin, r1, l, "clear", "bgp", "10.0.0.2", "--soft", "in").ok(t, "clear bgp --soft in")
		routeVia(t, r1, "198.51.100.0/24", "10.0.0.2")
		soft, err := frrBGPNeighbor(f, "10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if soft.ConnectionsDropped != before.ConnectionsDropped {
			t.Errorf("a soft reset dropped the session: FRR counts %d drops, %d before", soft.ConnectionsDropped, before.ConnectionsDropped)
		}

		// Hard: the session closes (FRR counts a drop) and re-forms.
		mine, err := lsrctlBGPNeighbor(t, bin, r1, l, "10.0.0.2")
		if err != nil {
			t.Fatal(err)
		}
		lsrctlIn(t, bin, r1, l, "clear", "bgp", "10.0.0.2").ok(t, "clear bgp")
		topo.Eventually(t, 90*time.Second, "the session re-forms after the hard reset", func() error {
			now, err := frrBGPNeighbor(f, "10.0.0.1")
			if err != nil {
				return err
			}
			again, err := lsrctlBGPNeighbor(t, bin, r1, l, "10.0.0.2")
			if err != nil {
				return err
			}
			if now.ConnectionsDropped <= before.ConnectionsDropped || now.BGPState != "Established" ||
				again.State != "established" || again.Flaps <= mine.Flaps {
				return fmt.Errorf("FRR: %s, %d drops (%d before); lsrd: %s, %d flaps (%d before)",
					now.BGPState, now.ConnectionsDropped, before.ConnectionsDropped, again.State, again.Flaps, mine.Flaps)
			}
			return nil
		})
		routeVia(t, r1, "198.51.100.0/24", "10.0.0.2")
		run := lsrctlIn(t, bin, r1, l, "clear", "bgp", "10.9.9.9")
		if run.code != 1 || !strings.Contains(run.stderr, "no such neighbour: 10.9.9.9") {
			t.Errorf("clear bgp of an unknown neighbour: exit %d, stderr %q", run.code, run.stderr)
		}
		if run := lsrctlIn(t, bin, r1, l, "clear", "bgp", "10.0.0.2", "--soft", "sideways"); run.code != 2 {
			t.Errorf("clear bgp --soft sideways: exit %d, want 2 (usage)", run.code)
		}
	})

	t.Run("logs", func(t *testing.T) {
		log, err := readFile(l.Log)
		if err != nil {
			t.Fatal(err)
		}
		// GoBGP's listener sets the TTL of its sockets; on a multipath TCP
		// socket the kernel refuses, so lsrd turns multipath TCP off.
		for _, bad := range []string{"cannot set TTL", "cannot set MSS"} {
			if strings.Contains(log, bad) {
				t.Errorf("lsrd logged %q:\n%s", bad, log)
			}
		}
		if !strings.Contains(log, `msg="bgp neighbour reset" neighbor=10.0.0.2 reset=hard`) {
			t.Errorf("the hard reset was not logged:\n%s", log)
		}
	})
}

// frrLDPNeighborDetail is one neighbour of "show mpls ldp neighbor detail
// json".
type frrLDPNeighborDetail struct {
	State             string `json:"state"`
	TCPLocalAddress   string `json:"tcpLocalAddress"`
	TCPLocalPort      int    `json:"tcpLocalPort"`
	TCPRemoteAddress  string `json:"tcpRemoteAddress"`
	TCPRemotePort     int    `json:"tcpRemotePort"`
	Authentication    string `json:"authentication"`
	SessionHoldtime   int    `json:"sessionHoldtime"`
	KeepAliveInterval int    `json:"keepAliveInterval"`
	SentCapabilities  []struct {
		TLVType string `json:"tlvType"`
	} `json:"sentCapabilities"`
}

// frrLDPBindingDetail is one FEC of "show mpls ldp binding detail json".
type frrLDPBindingDetail struct {
	LocalLabel   string `json:"localLabel"`
	AdvertisedTo []struct {
		NeighborID string `json:"neighborId"`
	} `json:"advertisedTo"`
	RemoteLabels []struct {
		NeighborID string `json:"neighborId"`
		Label      string `json:"label"`
	} `json:"remoteLabels"`
}

// bindingDetailsAgree checks lsrd's bindings (LSR ID mine) against FRR's
// (theirs) both ways: a label one side advertised to the other is the label
// the other holds from it, and each side's "advertised to" names the other
// exactly when the other holds that label.
func bindingDetailsAgree(bs []api.LDPBinding, fb map[string]frrLDPBindingDetail, mine, theirs string) error {
	var problems []string
	compared := 0
	for _, b := range bs {
		fec := b.FEC.String()
		other, ok := fb[fec]
		if !ok {
			continue
		}
		compared++
		toFRR := slices.ContainsFunc(b.AdvertisedTo, func(a netip.Addr) bool { return a.String() == theirs })
		var frrHolds string
		for _, r := range other.RemoteLabels {
			if r.NeighborID == mine {
				frrHolds = r.Label
			}
		}
		if toFRR != (frrHolds != "") {
			problems = append(problems, fmt.Sprintf("%s: lsrd advertised to FRR %v, FRR holds %q from lsrd", fec, toFRR, frrHolds))
		} else if toFRR {
			if want, _ := topo.FRRLabel(frrHolds); !b.HasLocal || uint32(b.LocalLabel) != want {
				problems = append(problems, fmt.Sprintf("%s: lsrd's local label %d, FRR holds %s", fec, b.LocalLabel, frrHolds))
			}
		}
		fromFRR := slices.ContainsFunc(other.AdvertisedTo, func(a struct {
			NeighborID string `json:"neighborId"`
		}) bool {
			return a.NeighborID == mine
		})
		var lsrdHolds *api.LDPRemoteBinding
		for i, r := range b.Remote {
			if r.Peer.String() == theirs {
				lsrdHolds = &b.Remote[i]
			}
		}
		if fromFRR != (lsrdHolds != nil) {
			problems = append(problems, fmt.Sprintf("%s: FRR advertised to lsrd %v, lsrd holds %+v from FRR", fec, fromFRR, lsrdHolds))
		} else if fromFRR {
			if want, _ := topo.FRRLabel(other.LocalLabel); uint32(lsrdHolds.Label) != want {
				problems = append(problems, fmt.Sprintf("%s: FRR's local label %s, lsrd holds %d", fec, other.LocalLabel, lsrdHolds.Label))
			}
		}
	}
	if compared < 2 {
		problems = append(problems, fmt.Sprintf("only %d FECs on both sides", compared))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return nil
}

// frrBGPNeighborView is the part of FRR's "show bgp neighbors ADDR json"
// compared with lsrd's.
type frrBGPNeighborView struct {
	BGPState           string `json:"bgpState"`
	RemoteRouterID     string `json:"remoteRouterId"`
	HostLocal          string `json:"hostLocal"`
	PortLocal          int    `json:"portLocal"`
	HostForeign        string `json:"hostForeign"`
	PortForeign        int    `json:"portForeign"`
	HoldMsecs          int64  `json:"bgpTimerHoldTimeMsecs"`
	KeepaliveMsecs     int64  `json:"bgpTimerKeepAliveIntervalMsecs"`
	ConnectionsDropped int    `json:"connectionsDropped"`
	MessageStats       struct {
		OpensSent   uint64 `json:"opensSent"`
		OpensRecv   uint64 `json:"opensRecv"`
		UpdatesSent uint64 `json:"updatesSent"`
		UpdatesRecv uint64 `json:"updatesRecv"`
	} `json:"messageStats"`
}

func frrBGPNeighbor(f *topo.FRR, addr string) (frrBGPNeighborView, error) {
	var v map[string]frrBGPNeighborView
	if err := f.VtyshJSON("show bgp neighbors "+addr+" json", &v); err != nil {
		return frrBGPNeighborView{}, err
	}
	n, ok := v[addr]
	if !ok {
		return n, fmt.Errorf("FRR has no BGP neighbour %s: %+v", addr, v)
	}
	return n, nil
}

func lsrctlBGPNeighbor(t *testing.T, bin string, r *topo.Router, l *topo.LSRD, addr string) (api.BGPNeighbor, error) {
	var ns []api.BGPNeighbor
	js := lsrctlIn(t, bin, r, l, "-o", "json", "show", "bgp", "neighbors", "--peer", addr, "--detail").ok(t, "show bgp neighbors --detail")
	if err := json.Unmarshal([]byte(js), &ns); err != nil || len(ns) != 1 {
		return api.BGPNeighbor{}, fmt.Errorf("show bgp neighbors --peer %s -o json: %v\n%s", addr, err, js)
	}
	return ns[0], nil
}

// bgpPrefixes are the sorted prefixes of lsrctl's JSON list of paths.
func bgpPrefixes(t *testing.T, js string) []string {
	t.Helper()
	var rs []api.BGPRoute
	if err := json.Unmarshal([]byte(js), &rs); err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	out := []string{}
	for _, r := range rs {
		if !slices.Contains(out, r.Prefix.String()) {
			out = append(out, r.Prefix.String())
		}
	}
	slices.Sort(out)
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
