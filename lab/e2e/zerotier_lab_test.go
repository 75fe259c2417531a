//go:build lab

package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/lab/topo"
	"github.com/lsrd/lsrd/zerotier"
	"github.com/lsrd/lsrd/zerotier/zttest"
)

// An LDP interface given as a ZeroTier network ID: lsrd finds the device
// through (a stand-in for) ZeroTier One's service listening on 127.0.0.1:9993
// in the router, forms a session over it, shows the health checks in lsrctl
// and in /metrics, and follows the network going down and coming back.
func TestZeroTierByNetworkID(t *testing.T) {
	const nwid uint64 = 0x8056c2e21c123456
	const private = 0x6c737264
	bin := lsrctlBinary(t)
	p := newPair(t, nwid, "10.1.0")
	r1, r2, if1, if2 := p.r1, p.r2, p.if1, p.if2
	if if1 != zerotier.DeviceName(nwid) {
		t.Fatalf("segment device %s, want ZeroTier's name %s", if1, zerotier.DeviceName(nwid))
	}

	// The fake service runs in this process, listening inside r1 as ZeroTier
	// One does. It reports the multicast groups the kernel holds on the
	// device, as ZeroTier One's Linux tap does: 224.0.0.2 appears only once
	// lsrd joined it.
	svc := zttest.New("lab-token-0123456789")
	svc.SetNetwork(zttest.Network{ID: nwid, Name: "mpls-underlay", Addresses: []string{"10.1.0.1/24"}})
	var hideLDPGroup atomic.Bool // stands for a node whose tap lost the membership
	svc.SetMulticastSource(func(dev string) []string {
		var groups []string
		if err := r1.Do(func() (err error) { groups, err = zttest.KernelMulticast(dev); return err }); err != nil {
			t.Logf("reading r1's multicast groups: %v", err)
		}
		if hideLDPGroup.Load() {
			groups = slices.DeleteFunc(groups, func(g string) bool { return g == zerotier.LDPMulticastMAC })
		}
		return groups
	})
	var l net.Listener
	if err := r1.Do(func() (err error) { l, err = net.Listen("tcp", "127.0.0.1:9993"); return err }); err != nil {
		t.Fatal(err)
	}
	stop := svc.Serve(l)
	t.Cleanup(stop)
	tok, err := svc.WriteToken(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	timers := "  timers:\n    hello-interval: 1s\n    hello-hold: 3s\n"
	l1 := r1.StartLSRD(fmt.Sprintf(`router-id: 1.1.1.1
ldp:
  interfaces:
    - name: %016x
%sstatic-routes:
  - prefix: 2.2.2.2/32
    next-hop: 10.1.0.2
metrics:
  listen: 127.0.0.1:9642
zerotier:
  api: http://127.0.0.1:9993
  authtoken: %s
  poll-interval: 1s
  multicast-grace: 2s
  expected-planet:
    id: %#x
`, nwid, timers, tok, private))
	l2 := r2.StartLSRD(fmt.Sprintf("router-id: 2.2.2.2\nldp:\n  interfaces:\n    - name: %s\n%sstatic-routes:\n  - prefix: 1.1.1.1/32\n    next-hop: 10.1.0.1\n", if2, timers))

	topo.Eventually(t, 60*time.Second, "r1's session with r2 over the network found by ID", func() error { return operational(l1, "2.2.2.2") })
	if err := operational(l2, "1.1.1.1"); err != nil {
		t.Error(err)
	}

	view := func() api.ZeroTierView {
		t.Helper()
		var v api.ZeroTierView
		if err := l1.Get("/v1/zerotier", &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	network := func(v api.ZeroTierView) api.ZeroTierNetworkView {
		t.Helper()
		if len(v.Networks) != 1 {
			t.Fatalf("/v1/zerotier networks: %+v", v.Networks)
		}
		return v.Networks[0]
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
		return r1.DialContext(ctx, addr)
	}}}
	scrape := func() (string, error) {
		resp, err := client.Get("http://127.0.0.1:9642/metrics")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	metricIs := func(series string, want string) func() error {
		return func() error {
			body, err := scrape()
			if err != nil {
				return err
			}
			for _, line := range strings.Split(body, "\n") {
				if strings.HasPrefix(line, series+" ") {
					if got := strings.TrimPrefix(line, series+" "); got != want {
						return fmt.Errorf("%s = %s, want %s", series, got, want)
					}
					return nil
				}
			}
			return fmt.Errorf("no %s in /metrics", series)
		}
	}
	netLabel := fmt.Sprintf(`{network="%016x"}`, nwid)

	// Healthy network, foreign planet (the fake starts on Earth).
	topo.Eventually(t, 20*time.Second, "r1 sees 224.0.0.2 subscribed on the network", func() error {
		v := view()
		n := network(v)
		if !v.Reachable || n.Status != "OK" || n.LDPInterface != if1 || !n.MulticastLDPSubscribed || !n.MTUHeadroomOK {
			return fmt.Errorf("view %+v", n)
		}
		return nil
	})
	v := view()
	if v.Node == nil || v.Node.PlanetExpected || v.Planet == nil || v.Planet.Severity != zerotier.SeverityError {
		t.Errorf("foreign planet not flagged: node %+v, finding %+v", v.Node, v.Planet)
	}
	out := lsrctlIn(t, bin, r1, l1, "show", "zerotier").ok(t, "show zerotier")
	t.Logf("r1# lsrctl show zerotier\n%s", out)
	if tableRow(out, fmt.Sprintf("%016x", nwid), fmt.Sprintf("%016x", nwid), "OK", if1, "2800", "ok", "subscribed", if1, "10.1.0.1/24") == nil ||
		!strings.Contains(out, "NOT THE EXPECTED PLANET") || tableRow(out, "error", "-", "planet") == nil {
		t.Errorf("show zerotier does not show the healthy network and the foreign planet:\n%s", out)
	}
	for series, want := range map[string]string{
		"lsrd_zerotier_api_up":                              "1",
		"lsrd_zerotier_planet_expected":                     "0",
		"lsrd_zerotier_network_ok" + netLabel:               "1",
		"lsrd_zerotier_mtu_bytes" + netLabel:                "2800",
		"lsrd_zerotier_mtu_headroom_ok" + netLabel:          "1",
		"lsrd_zerotier_multicast_ldp_subscribed" + netLabel: "1",
		"lsrd_zerotier_network_ldp_active" + netLabel:       "1",
	} {
		if err := metricIs(series, want)(); err != nil {
			t.Error(err)
		}
	}

	// LDP runs on the device the network ID named, with MPLS input on.
	out = lsrctlIn(t, bin, r1, l1, "show", "ldp", "interfaces").ok(t, "show ldp interfaces")
	if row := tableRow(out, if1, "up"); row == nil || row[4] != "yes" || row[6] != "yes" {
		t.Errorf("show ldp interfaces: %s is not an LDP interface with MPLS input:\n%s", if1, out)
	}
	if got := strings.TrimSpace(r1.Run("sysctl", "-n", "net.mpls.conf."+if1+".input")); got != "1" {
		t.Errorf("net.mpls.conf.%s.input = %s, want 1", if1, got)
	}

	// The operator installs the private planet; the controller lowers the MTU.
	svc.SetPlanet(private, 1764000000000)
	svc.Update(nwid, func(n *zttest.Network) { n.MTU = 1400 })
	topo.Eventually(t, 20*time.Second, "the MTU flagged and the planet accepted in /metrics", func() error {
		for series, want := range map[string]string{
			"lsrd_zerotier_planet_expected":            "1",
			"lsrd_zerotier_mtu_bytes" + netLabel:       "1400",
			"lsrd_zerotier_mtu_headroom_ok" + netLabel: "0",
		} {
			if err := metricIs(series, want)(); err != nil {
				return err
			}
		}
		return nil
	})
	out = lsrctlIn(t, bin, r1, l1, "show", "zerotier").ok(t, "show zerotier")
	t.Logf("r1# lsrctl show zerotier (MTU 1400, private planet)\n%s", out)
	if tableRow(out, "error", fmt.Sprintf("%016x", nwid), "mtu") == nil || strings.Contains(out, "NOT THE EXPECTED PLANET") {
		t.Errorf("show zerotier does not flag the MTU or still flags the planet:\n%s", out)
	}
	if b, _ := readFile(l1.Log); !strings.Contains(b, "MTU 1400 is below 1508") {
		t.Errorf("no MTU warning in r1's log")
	}

	// ZeroTier stops listing 224.0.0.2 for this member: flagged.
	hideLDPGroup.Store(true)
	topo.Eventually(t, 20*time.Second, "the missing 224.0.0.2 subscription in /metrics", metricIs("lsrd_zerotier_multicast_ldp_subscribed"+netLabel, "0"))
	out = lsrctlIn(t, bin, r1, l1, "show", "zerotier").ok(t, "show zerotier")
	if tableRow(out, "warning", fmt.Sprintf("%016x", nwid), "multicast") == nil || tableRow(out, fmt.Sprintf("%016x", nwid), fmt.Sprintf("%016x", nwid), "OK", if1, "1400", "TOO", "SMALL", "joined") == nil || !strings.Contains(out, "but still not among") {
		t.Errorf("show zerotier does not flag the missing subscription:\n%s", out)
	}
	hideLDPGroup.Store(false)

	// The member is deauthorized: LDP stops on the device, the session goes.
	svc.Update(nwid, func(n *zttest.Network) { n.Status = zerotier.StatusAccessDenied })
	topo.Eventually(t, 30*time.Second, "r1 stops LDP on the network", func() error {
		n := network(view())
		if n.LDPInterface != "" || n.Status != "ACCESS_DENIED" {
			return fmt.Errorf("view %+v", n)
		}
		if err := operational(l1, "2.2.2.2"); err == nil {
			return fmt.Errorf("the session with 2.2.2.2 is still OPERATIONAL")
		}
		return nil
	})
	if err := metricIs("lsrd_zerotier_network_ok"+netLabel, "0")(); err != nil {
		t.Error(err)
	}
	// Authorized again: LDP comes back on the device by itself.
	svc.Update(nwid, func(n *zttest.Network) { n.Status = zerotier.StatusOK })
	topo.Eventually(t, 60*time.Second, "the session re-forms when the network is OK again", func() error { return operational(l1, "2.2.2.2") })
	if b, _ := readFile(l1.Log); !strings.Contains(b, "network is down or gone") || !strings.Contains(b, "ACCESS_DENIED") {
		t.Errorf("r1's log lacks the network-down warning:\n%s", b)
	}
}

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}
