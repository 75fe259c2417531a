//go:build lab

package netlinkfib

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/lab/topo"
)

// Another daemon's routes (an IGP's, protocol ospf here) get lsrd's labelled
// copies in the ingress table, looked up before main by lsrd's rule; a more
// specific main route gets a throw; the foreign routes are never touched;
// when the LSP goes, traffic falls back to the IGP's route without a loss.
func TestIngressTableBesideForeignRoutes(t *testing.T) {
	r1, r2, r3, r1r2, r2r1, r2r3, _ := chain(t)
	r2.Run("ip", "route", "add", "3.3.3.3/32", "via", "10.0.1.2") // plain IP works too
	// The IGP's routes on r1, as zebra installs them.
	r1.Run("ip", "route", "add", "3.3.3.3/32", "via", "10.0.0.2", "proto", "ospf", "metric", "20")
	r1.Run("ip", "route", "add", "10.77.0.0/16", "via", "10.0.0.2", "proto", "ospf", "metric", "20")
	r1.Run("ip", "route", "add", "10.77.1.0/24", "via", "10.0.0.2", "proto", "static")
	foreign := func() string {
		return r1.Run("ip", "route", "show", "proto", "ospf") + r1.Run("ip", "route", "show", "proto", "static")
	}
	before := foreign()

	f1 := newFIB(t, r1, WithIngressTable(234, 32000))
	f2, f3 := newFIB(t, r2), newFIB(t, r3)
	swap := fib.NewTable()
	swap.LFIB[1000] = lfib(1000, nh("10.0.1.2", r2r3, 2000))
	apply(t, f2, swap)
	term := fib.NewTable()
	term.LFIB[2000] = fib.LFIBEntry{InLabel: 2000, NextHops: []fib.NextHop{{Ifname: "lo"}}}
	apply(t, f3, term)

	labelled := fib.NewTable()
	for _, p := range []string{"3.3.3.3/32", "10.77.0.0/16"} {
		e := ftn(p, nh("10.0.0.2", r1r2, 1000))
		e.Foreign = true
		labelled.FTN[e.Prefix] = e
	}
	labelled.Throws = map[netip.Prefix]struct{}{netip.MustParsePrefix("10.77.1.0/24"): {}}
	apply(t, f1, labelled)

	rules := r1.Run("ip", "rule", "show")
	t.Logf("r1: ip rule show:\n%s", rules)
	if !strings.Contains(rules, "32000:\tfrom all lookup 234 proto 234") {
		t.Errorf("no rule for the ingress table")
	}
	if strings.Contains(r1.Run("ip", "-6", "rule", "show"), "lookup 234") {
		t.Errorf("an IPv6 rule with no IPv6 route in the table")
	}
	tab := r1.Run("ip", "route", "show", "table", "234")
	t.Logf("r1: ip route show table 234:\n%s", tab)
	for _, want := range []string{"3.3.3.3 nhid ", "10.77.0.0/16 nhid ", "throw 10.77.1.0/24 proto 234"} {
		if !strings.Contains(tab, want) {
			t.Errorf("table 234 lacks %q", want)
		}
	}
	if got := foreign(); got != before {
		t.Errorf("the other daemon's routes changed:\n%s\nwas:\n%s", got, before)
	}
	// The kernel's own answer: which table and encap each destination takes.
	for dst, want := range map[string]string{"3.3.3.3": "table 234", "10.77.2.9": "table 234", "10.77.1.9": ""} {
		out := r1.Run("ip", "route", "get", dst)
		if got := strings.Contains(out, "table 234") && strings.Contains(out, "encap mpls  1000"); got != (want != "") {
			t.Errorf("ip route get %s: %s (want the labelled copy: %v)", dst, strings.TrimSpace(out), want != "")
		}
	}
	in := r2.StartCapture(r2r1, "mpls 1000 and icmp", 3)
	if _, err := r1.Try("ping", "-c", "3", "-i", "0.2", "-W", "2", "-I", "1.1.1.1", "3.3.3.3"); err != nil {
		t.Fatalf("ping over the labelled copy: %v", err)
	}
	if got, err := in.Wait(5 * time.Second); err != nil {
		t.Errorf("r2 saw no 3 labelled echoes on %s: %v (%d)", r2r1, err, len(got))
	}

	// The LSP goes: the copy goes, and a 10 ms ping loses nothing, since
	// the IGP's route was there all along.
	ping := r1.Background("ping", "-D", "-O", "-i", "0.01", "-W", "1", "-I", "1.1.1.1", "3.3.3.3")
	time.Sleep(time.Second)
	apply(t, f1, fib.NewTable())
	time.Sleep(time.Second)
	out, _ := ping.Stop()
	sent, lost := pingLoss(out)
	t.Logf("ping during the withdrawal: %d sent, %d lost", sent, lost)
	if sent < 100 || lost != 0 {
		t.Errorf("ping during the withdrawal: %d sent, %d lost, want none lost", sent, lost)
	}
	if tab := strings.TrimSpace(r1.Run("ip", "route", "show", "table", "234")); tab != "" {
		t.Errorf("table 234 after the withdrawal:\n%s", tab)
	}
	if rules := r1.Run("ip", "rule", "show"); strings.Contains(rules, "lookup 234") {
		t.Errorf("the rule stayed with nothing in the table:\n%s", rules)
	}
	if got := foreign(); got != before {
		t.Errorf("the other daemon's routes changed:\n%s\nwas:\n%s", got, before)
	}
}

// pingLoss reads `ping` output's summary: echoes sent, and those never
// answered.
func pingLoss(out string) (sent, lost int) {
	var received int
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, " packets transmitted, ") {
			fmt.Sscanf(strings.TrimSpace(l), "%d packets transmitted, %d received", &sent, &received)
		}
	}
	return sent, sent - received
}

// What an earlier lsrd left with protocol 193 is adopted at start, moved to
// lsrd's own number when wanted, swept when not; after the sweep, routes of
// 193 (FRR's ldpd's) are someone else's and left alone.
func TestLegacyProtocolAdoptedOnce(t *testing.T) {
	lab := topo.New(t)
	r1, r2 := lab.Router("r1"), lab.Router("r2")
	a, _ := lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	r1.EnableMPLS(a)
	legacyID := fmt.Sprint(uint32(LegacyProtocol) << 24)
	r1.Run("ip", "nexthop", "add", "id", legacyID, "encap", "mpls", "700", "via", "10.0.0.2", "dev", a, "proto", "193")
	r1.Run("ip", "route", "add", "198.51.100.0/24", "nhid", legacyID, "proto", "193")
	r1.Run("ip", "route", "add", "198.51.101.0/24", "nhid", legacyID, "proto", "193") // not wanted any more
	r1.Run("ip", "-f", "mpls", "route", "add", "555", "as", "600", "via", "inet", "10.0.0.2", "dev", a, "proto", "193")
	r1.Run("ip", "-f", "mpls", "route", "add", "556", "via", "inet", "10.0.0.2", "dev", a, "proto", "193") // not wanted

	f := newFIB(t, r1)
	want := fib.NewTable()
	want.LFIB[555] = lfib(555, nh("10.0.0.2", a, 600))
	e := ftn("198.51.100.0/24", nh("10.0.0.2", a, 700))
	want.FTN[e.Prefix] = e
	apply(t, f, want)
	// Wanted: lsrd's number now, whatever it was; unwanted: kept until
	// the sweep, as any previous run's state.
	mpls := r1.Run("ip", "-f", "mpls", "route", "show")
	ip := r1.Run("ip", "route", "show", "198.51.100.0/24")
	t.Logf("before the sweep:\n%s%s", mpls, ip)
	if !strings.Contains(mpls, "555 as to 600 via inet 10.0.0.2 dev "+a+" proto 234") || !strings.Contains(mpls, "556 via inet 10.0.0.2 dev "+a+" proto ldp") {
		t.Errorf("label routes before the sweep:\n%s", mpls)
	}
	if !strings.Contains(ip, "proto 234") || strings.Contains(ip, "nhid "+legacyID) {
		t.Errorf("198.51.100.0/24 before the sweep: %s (want lsrd's protocol and a nexthop of its own block)", ip)
	}
	f.SweepStale("test")
	apply(t, f, want)
	mpls = r1.Run("ip", "-f", "mpls", "route", "show")
	all := r1.Run("ip", "route", "show") + r1.Run("ip", "nexthop", "show")
	t.Logf("after the sweep:\n%s%s", mpls, all)
	if strings.Contains(mpls, "556") || strings.Contains(all, "198.51.101.0") || strings.Contains(all, "id "+legacyID+" ") || strings.Contains(mpls+all, "proto ldp") {
		t.Errorf("the earlier lsrd's leftovers survived the sweep")
	}
	// After the sweep, 193 is FRR's ldpd's again.
	r1.Run("ip", "-f", "mpls", "route", "add", "557", "via", "inet", "10.0.0.2", "dev", a, "proto", "193")
	if err := f.Resync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r1.Run("ip", "-f", "mpls", "route", "show"), "557 via inet 10.0.0.2 dev "+a+" proto ldp") {
		t.Errorf("a route of 193 added after the sweep was touched")
	}
}
