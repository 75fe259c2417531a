//go:build lab

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
)

// Two lsrd routers on a ZeroTier-like segment form a session, and each holds
// exactly the labels the other advertised for every FEC.
func TestLSRDWithLSRDOverZeroTier(t *testing.T) {
	p := newPair(t, 0xabfd31bd47a56b31, "10.2.0")
	r1, r2, if1, if2 := p.r1, p.r2, p.if1, p.if2
	r1.Run("ip", "route", "add", "2.2.2.2/32", "via", "10.2.0.2")
	l1 := r1.StartLSRD(fmt.Sprintf("router-id: 1.1.1.1\nldp:\n  interfaces:\n    - name: %s\n", if1))
	l2 := r2.StartLSRD(fmt.Sprintf("router-id: 2.2.2.2\nldp:\n  interfaces:\n    - name: %s\nstatic-routes:\n  - prefix: 1.1.1.1/32\n    next-hop: 10.2.0.1\n", if2))

	// Each side's local label for a FEC must be what the other holds from it.
	check := func(a, b *topo.LSRD, aID string) error {
		ab, err := lsrdBindings(a)
		if err != nil {
			return err
		}
		bb, err := lsrdBindings(b)
		if err != nil {
			return err
		}
		for _, fec := range []string{"1.1.1.1/32", "2.2.2.2/32", "10.2.0.0/24"} {
			mine, theirs := ab[fec], bb[fec]
			if !mine.HasLocal {
				return fmt.Errorf("%s has no local label for %s", aID, fec)
			}
			found := false
			for _, r := range theirs.Remote {
				if r.Peer.String() == aID {
					found = r.Label == mine.LocalLabel
				}
			}
			if !found {
				return fmt.Errorf("%s advertised %d for %s, the peer holds %+v", aID, mine.LocalLabel, fec, theirs.Remote)
			}
		}
		return nil
	}
	topo.Eventually(t, 60*time.Second, "both lsrd routers hold each other's labels", func() error {
		if err := check(l1, l2, "1.1.1.1"); err != nil {
			return err
		}
		return check(l2, l1, "2.2.2.2")
	})

	// lsrd itself set up the kernel's MPLS: the test never did. The label
	// table covers the default range (up to 1048574) and MPLS input is on
	// for the LDP interface and the loopback.
	for _, kv := range [][2]string{
		{"net.mpls.platform_labels", "1048575"},
		{"net.mpls.conf." + if1 + ".input", "1"},
		{"net.mpls.conf.lo.input", "1"},
	} {
		if got := strings.TrimSpace(r1.Run("sysctl", "-n", kv[0])); got != kv[1] {
			t.Errorf("r1: %s = %s, want %s", kv[0], got, kv[1])
		}
	}
}
