//go:build lab

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/lab/topo"
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
	topo.Eventually(t, 60*time.Second, "r1 pushes a label towards 3.3.3.3", func() error {
		out, err := r1.Try("ip", "route", "show", "3.3.3.3/32")
		if err != nil || !strings.Contains(out+r1.Run("ip", "nexthop", "show"), "encap mpls") {
			return fmt.Errorf("r1: %s", out)
		}
		return nil
	})
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
}
