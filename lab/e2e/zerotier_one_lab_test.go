//go:build lab

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/lab/topo"
	"github.com/lsrd/lsrd/lspping"
	"github.com/lsrd/lsrd/zerotier"
)

// network returns router i's view of the ZeroTier network w.
func ztNetwork(t *testing.T, c *topo.ZTChain, i int, w *topo.ZTNetwork) api.ZeroTierNetworkView {
	t.Helper()
	var v api.ZeroTierView
	if err := c.LSRD[i].Get("/v1/zerotier", &v); err != nil {
		t.Fatal(err)
	}
	for _, n := range v.Networks {
		if n.ID == w.Hex() {
			return n
		}
	}
	t.Fatalf("r%d: network %s not in /v1/zerotier: %+v", i+1, w.Hex(), v.Networks)
	return api.ZeroTierNetworkView{}
}

// waitLabelledTo3 waits until r1 pushes a label towards 3.3.3.3.
func waitLabelledTo3(t *testing.T, r1 *topo.Router) {
	t.Helper()
	topo.Eventually(t, 60*time.Second, "r1 pushes a label towards 3.3.3.3", func() error {
		out, err := r1.Try("ip", "route", "show", "3.3.3.3/32")
		if err != nil || !strings.Contains(out+r1.Run("ip", "nexthop", "show"), "encap mpls") {
			return fmt.Errorf("r1: %s", out)
		}
		return nil
	})
}

func finding(n api.ZeroTierNetworkView, check string) zerotier.Finding {
	for _, f := range n.Findings {
		if f.Check == check {
			return f
		}
	}
	return zerotier.Finding{}
}

// LDP over the real ZeroTier One: a private planet made by lsrctl, networks
// on a self-hosted controller, lsrd finding its devices by network ID. A
// ping from r1 to r3 travels labelled on network A; every health check
// passes; a controller's MTU of 1400 is flagged; a deauthorised member
// loses LDP on its device and gets it back when authorised again.
func TestLDPOverZeroTierOne(t *testing.T) {
	c := topo.New(t).NewZTChain()
	if c.A1 != zerotier.DeviceName(c.A.ID) {
		t.Errorf("zerotier-one named network %s's device %s; lsrd expects %s", c.A.Hex(), c.A1, zerotier.DeviceName(c.A.ID))
	}
	c.Start("")
	r1, r2 := c.R[0], c.R[1]
	waitLabelledTo3(t, r1)
	capA := r2.StartCapture(c.A2, "mpls and icmp[icmptype] == icmp-echo", 2)
	r1.Run("ping", "-c", "3", "-i", "0.3", "-W", "2", "-I", "1.1.1.1", "3.3.3.3")
	pkts, err := capA.Wait(10 * time.Second)
	if err != nil {
		t.Fatalf("no labelled echo on r2's %s: %v", c.A2, err)
	}
	t.Logf("r2's %s (network %s):\n%s", c.A2, c.A.Hex(), strings.Join(pkts, "\n"))

	bin := lsrctlBinary(t)
	topo.Eventually(t, 30*time.Second, "r2's health checks all pass", func() error {
		for _, w := range []*topo.ZTNetwork{c.A, c.B} {
			n := ztNetwork(t, c, 1, w)
			for _, f := range n.Findings {
				if f.Severity != zerotier.SeverityOK {
					return fmt.Errorf("%s: %s: %s", w.Hex(), f.Check, f.Message)
				}
			}
		}
		return nil
	})
	out := lsrctlIn(t, bin, r2, c.LSRD[1], "show", "zerotier").ok(t, "show zerotier")
	t.Logf("r2# lsrctl show zerotier\n%s", out)
	if !strings.Contains(out, "All health checks pass") {
		t.Errorf("show zerotier on a healthy node:\n%s", out)
	}

	// The controller lowers network A's MTU to 1400: flagged on r1.
	c.A.Configure(map[string]any{"mtu": 1400})
	topo.Eventually(t, 90*time.Second, "r1 flags network A's MTU of 1400", func() error {
		n := ztNetwork(t, c, 0, c.A)
		if f := finding(n, zerotier.CheckMTU); n.MTU != 1400 || f.Severity != zerotier.SeverityError {
			return fmt.Errorf("MTU %d, finding %+v", n.MTU, f)
		}
		return nil
	})
	c.A.Configure(map[string]any{"mtu": 2800})

	// r3 is deauthorised on network B: LDP stops on its device, the
	// session with r2 goes; authorised again, it comes back.
	c.B.Authorize(c.Node[2], false)
	topo.Eventually(t, 3*time.Minute, "r3 loses network B and LDP on it", func() error {
		n := ztNetwork(t, c, 2, c.B)
		if n.Status != zerotier.StatusAccessDenied || n.LDPInterface != "" {
			return fmt.Errorf("network B on r3: status %s, LDP on %q", n.Status, n.LDPInterface)
		}
		if c.Operational(2, 1) == nil {
			return fmt.Errorf("r3's session with r2 still OPERATIONAL")
		}
		return nil
	})
	c.B.Authorize(c.Node[2], true)
	topo.Eventually(t, 2*time.Minute, "r3's session with r2 back", func() error { return c.Operational(2, 1) })
	if log, _ := readFile(c.LSRD[2].Log); !strings.Contains(log, "network is down or gone") {
		t.Errorf("r3's log lacks the network-down warning")
	}
	// The addresses were assigned before lsrd started and never changed.
	for i, l := range c.LSRD {
		if log, _ := readFile(l.Log); strings.Contains(log, "assigned addresses changed") {
			t.Errorf("r%d logs a readdressing that never happened", i+1)
		}
	}
}

// LSP ping and traceroute (RFC 8029) across the chain of lsrd over real
// ZeroTier, and the data-plane check: with flow rules that drop MPLS (as
// ZeroTier Central's defaults do) lsrd reports the error within two probe
// intervals of the first lost labelled packet, and clears it when the
// rules let MPLS through again.
func TestLSPPingOverZeroTierOne(t *testing.T) {
	const probeEvery = 3 * time.Second
	c := topo.New(t).NewZTChain()
	c.Start(fmt.Sprintf("  dataplane-interval: %s\nmetrics:\n  listen: 127.0.0.1:9642\n", probeEvery))
	r1, r2 := c.R[0], c.R[1]
	waitLabelledTo3(t, r1)
	bin := lsrctlBinary(t)
	lspPing := func(args ...string) (api.LSPPingView, ctlRun) {
		t.Helper()
		run := lsrctlIn(t, bin, r1, c.LSRD[0], append([]string{"-o", "json"}, args...)...)
		var v api.LSPPingView
		if run.code == 0 {
			if err := json.Unmarshal([]byte(run.stdout), &v); err != nil {
				t.Fatalf("lsrctl %s: %v\n%s", strings.Join(args, " "), err, run.stdout)
			}
		}
		return v, run
	}

	// Ping: three echo requests under r2's label, answered by r3 as the
	// egress; tcpdump on r2 decodes one as LSP ping. The capture filters on
	// the LSP's label: the data-plane probes (IPv4 Explicit NULL) cross the
	// same link.
	v, run := lspPing("ping", "mpls", "3.3.3.3/32", "-c", "3", "--interval-ms", "200")
	if run.code != 0 || len(v.Results) != 3 || len(v.Path.Labels) != 1 {
		t.Fatalf("ping mpls 3.3.3.3/32: exit %d %s\n%+v", run.code, run.stderr, v)
	}
	for _, r := range v.Results {
		if !r.Replied || r.ReturnCode != lspping.RCEgress || r.Subcode != 1 || r.From.String() != "10.2.0.3" {
			t.Errorf("ping mpls 3.3.3.3/32: %+v, want return code 3 from r3 (10.2.0.3)", r)
		}
	}
	capA := r2.StartCapture(c.A2, fmt.Sprintf("mpls %d and udp port 3503", v.Path.Labels[0]), 1)
	table := lsrctlIn(t, bin, r1, c.LSRD[0], "ping", "mpls", "3.3.3.3/32", "-c", "1").ok(t, "ping mpls")
	pkts, err := capA.Wait(10 * time.Second)
	if err != nil || !strings.Contains(strings.Join(pkts, "\n"), fmt.Sprintf("MPLS (label %d", v.Path.Labels[0])) || !strings.Contains(strings.Join(pkts, "\n"), "MPLS Echo Request") {
		t.Errorf("no labelled MPLS echo request on r2's %s: %v %q", c.A2, err, pkts)
	}
	t.Logf("%s", pkts)
	t.Logf("r1# lsrctl ping mpls 3.3.3.3/32 -c 1\n%s", table)

	// Traceroute: r2 answers TTL 1 as a transit router (return code 8)
	// and names its downstream, r3 with implicit null; r3 answers TTL 2
	// as the egress.
	v, run = lspPing("traceroute", "mpls", "3.3.3.3/32")
	if run.code != 0 || len(v.Results) != 2 {
		t.Fatalf("traceroute mpls 3.3.3.3/32: exit %d %s\n%+v", run.code, run.stderr, v)
	}
	hop1, hop2 := v.Results[0], v.Results[1]
	if !hop1.Replied || hop1.ReturnCode != lspping.RCLabelSwitched || hop1.From.String() != "10.1.0.2" ||
		len(hop1.Downstream) != 1 || hop1.Downstream[0].Address.String() != "10.2.0.3" || len(hop1.Downstream[0].Labels) != 1 || hop1.Downstream[0].Labels[0] != 3 {
		t.Errorf("traceroute hop 1: %+v, want return code 8 from r2 (10.1.0.2), downstream 10.2.0.3 with implicit null", hop1)
	}
	if !hop2.Replied || hop2.ReturnCode != lspping.RCEgress || hop2.From.String() != "10.2.0.3" {
		t.Errorf("traceroute hop 2: %+v, want return code 3 from r3", hop2)
	}
	table = lsrctlIn(t, bin, r1, c.LSRD[0], "traceroute", "mpls", "3.3.3.3/32").ok(t, "traceroute mpls")
	t.Logf("r1# lsrctl traceroute mpls 3.3.3.3/32\n%s", table)

	// A FEC whose next hop is its egress: no label, r2 answers.
	v, run = lspPing("ping", "mpls", "2.2.2.2/32", "-c", "1")
	if run.code != 0 || len(v.Path.Labels) != 0 || len(v.Results) != 1 || v.Results[0].ReturnCode != lspping.RCEgress {
		t.Errorf("ping mpls 2.2.2.2/32: exit %d %s %+v", run.code, run.stderr, v)
	}
	// No LSP, no route: a clear error, exit 1.
	if _, run = lspPing("ping", "mpls", "9.9.9.9/32"); run.code != 1 || !strings.Contains(run.stderr, "no LSP and no route for 9.9.9.9/32") {
		t.Errorf("ping mpls 9.9.9.9/32: exit %d %q", run.code, run.stderr)
	}

	// The data-plane check passes with the default accept-all rules.
	dataplane := func(i int) zerotier.Finding { return finding(ztNetwork(t, c, i, c.A), zerotier.CheckDataplane) }
	topo.Eventually(t, 30*time.Second, "r1's data-plane check of network A passes", func() error {
		if f := dataplane(0); f.Severity != zerotier.SeverityOK || !strings.Contains(f.Message, "labelled LSP pings reach 2.2.2.2") {
			return fmt.Errorf("%+v", f)
		}
		return nil
	})
	metric := func(want string) func() error {
		return func() error {
			series := fmt.Sprintf(`lsrd_zerotier_dataplane_ok{network="%s"} %s`, c.A.Hex(), want)
			body, err := scrapeIn(r1, "127.0.0.1:9642")
			if err != nil || !strings.Contains(body, series) {
				return fmt.Errorf("no %q in /metrics (%v)", series, err)
			}
			return nil
		}
	}
	if err := metric("1")(); err != nil {
		t.Error(err)
	}

	// Central's default rules: IPv4, ARP and IPv6 only. A labelled ping
	// from r1 to r3 shows when the rules take effect.
	ping := r1.Background("ping", "-D", "-O", "-i", "0.1", "-W", "1", "-I", "1.1.1.1", "3.3.3.3")
	c.A.SetRules(topo.ZTIPOnly)
	var flagged time.Time
	topo.Eventually(t, 2*time.Minute, "r1 reports labelled packets dropped on network A", func() error {
		if f := dataplane(0); f.Severity != zerotier.SeverityError || !strings.Contains(f.Message, "accept ethertype 0x8847") {
			return fmt.Errorf("%+v", f)
		}
		flagged = time.Now()
		return nil
	})
	out, _ := ping.Stop()
	pr := parsePing(out)
	firstLost := flagged
	for seq, at := range pr.unanswered {
		if !pr.answered[seq] && at.Before(firstLost) {
			firstLost = at
		}
	}
	took := flagged.Sub(firstLost)
	t.Logf("first labelled echo lost %s before lsrd reported the data-plane error (probe interval %s)", took.Round(time.Millisecond), probeEvery)
	// ping reports a loss 1 s (-W) after sending; a probe round takes up
	// to 2 x 1.5 s; the poll that grades it comes within 1 s.
	if limit := 2*probeEvery + 3*time.Second + time.Second; took > limit {
		t.Errorf("lsrd reported the dropped labels %s after the first loss, more than %s", took, limit)
	}
	if err := metric("0")(); err != nil {
		t.Error(err)
	}
	if sc := lsrctlIn(t, bin, r1, c.LSRD[0], "show", "zerotier"); sc.code == 0 && strings.Contains(sc.stdout, "All health checks pass") {
		t.Errorf("show zerotier passes with labels dropped:\n%s", sc.stdout)
	} else {
		t.Logf("r1# lsrctl show zerotier (MPLS dropped on A)\n%s", sc.stdout)
	}

	// The rules from docs/zerotier.md let MPLS through: the error clears.
	c.A.SetRules(topo.ZTIPAndMPLS)
	topo.Eventually(t, 2*time.Minute, "r1's data-plane check passes again", func() error {
		if f := dataplane(0); f.Severity != zerotier.SeverityOK || !strings.Contains(f.Message, "labelled LSP pings reach") {
			return fmt.Errorf("%+v", f)
		}
		return nil
	})
	topo.Eventually(t, 10*time.Second, "lsrd_zerotier_dataplane_ok back to 1", metric("1"))

	// On demand: with rounds an hour apart, "lsrctl show zerotier" probes
	// afresh and shows rules that started dropping MPLS since the last.
	if err := c.LSRD[0].Reload(c.Config(0, "  dataplane-interval: 1h\nmetrics:\n  listen: 127.0.0.1:9642\n")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(probeEvery + time.Second) // a round already due has run
	if f := dataplane(0); f.Severity != zerotier.SeverityOK {
		t.Fatalf("data-plane finding before the rules change: %+v", f)
	}
	c.A.SetRules(topo.ZTIPOnly)
	topo.Eventually(t, 2*time.Minute, "the rules drop r1's labelled pings", func() error {
		if _, err := r1.Try("ping", "-c", "1", "-W", "1", "-I", "1.1.1.1", "3.3.3.3"); err == nil {
			return fmt.Errorf("a labelled echo to 3.3.3.3 still crosses network A")
		}
		return nil
	})
	if f := dataplane(0); f.Severity != zerotier.SeverityOK {
		t.Fatalf("the periodic probe ran though an hour apart: %+v", f)
	}
	sc := lsrctlIn(t, bin, r1, c.LSRD[0], "show", "zerotier")
	if tableRow(sc.stdout, "error", c.A.Hex(), "dataplane") == nil {
		t.Errorf("show zerotier did not probe afresh:\n%s", sc.stdout)
	}
}

// scrapeIn reads a metrics endpoint listening in router r.
func scrapeIn(r *topo.Router, addr string) (string, error) {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, a string) (net.Conn, error) {
		return r.DialContext(ctx, a)
	}}}
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// A damaged planet file: zerotier-one falls back to ZeroTier's public Earth
// without a word and overwrites the file with Earth; lsrd, expecting the
// private planet, reports the fallback as an error that says what happened.
func TestZeroTierOnePlanetFallback(t *testing.T) {
	lab := topo.New(t)
	planet := lab.ZeroTierPlanet()
	good, err := os.ReadFile(planet.File)
	if err != nil {
		t.Fatal(err)
	}
	r1 := lab.Router("r1")
	n := planet.NodeOnPlanetFile(r1, good[:len(good)/2])
	bin := lsrctlBinary(t)
	topo.Eventually(t, 30*time.Second, "zerotier-one overwrites the damaged planet file", func() error {
		out, err := r1.Try(bin, "zerotier", "planet", "inspect", n.Home+"/planet")
		if err != nil || !strings.Contains(out, fmt.Sprint(zerotier.EarthWorldID)) {
			return fmt.Errorf("planet file: %v %s", err, out)
		}
		return nil
	})
	r1.Run("ip", "link", "add", "d0", "type", "dummy")
	r1.Run("ip", "link", "set", "d0", "up")
	l := r1.StartLSRD("router-id: 1.1.1.1\nldp:\n  interfaces:\n    - name: d0\n" + n.LSRDConfig())
	var v api.ZeroTierView
	topo.Eventually(t, 30*time.Second, "lsrd flags the fallback to Earth", func() error {
		if err := l.Get("/v1/zerotier", &v); err != nil {
			return err
		}
		if v.Planet == nil || v.Planet.Severity != zerotier.SeverityError || !strings.Contains(v.Planet.Message, "falls back to Earth") ||
			v.Node == nil || v.Node.PlanetWorldID != zerotier.EarthWorldID {
			return fmt.Errorf("planet %+v node %+v", v.Planet, v.Node)
		}
		return nil
	})
	t.Logf("planet finding: %s", v.Planet.Message)
	if log, _ := readFile(l.Log); strings.Count(log, "falls back to Earth") != 1 {
		t.Errorf("the fallback is not logged exactly once:\n%s", log)
	}
}
