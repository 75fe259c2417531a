//go:build lab

package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
	"github.com/lsrd/lsrd/ldp"
	"github.com/lsrd/lsrd/ldp/lib"
)

// lsrdBindings reads lsrd's /v1/ldp/bindings, by FEC.
func lsrdBindings(l *topo.LSRD) (map[string]lib.Binding, error) {
	var bs []lib.Binding
	if err := l.Get("/v1/ldp/bindings", &bs); err != nil {
		return nil, err
	}
	m := map[string]lib.Binding{}
	for _, b := range bs {
		m[b.FEC.String()] = b
	}
	return m, nil
}

// agree compares FRR's bindings with its neighbour lsrdID with lsrd's
// bindings with FRR (frrID): every label FRR advertised must be what lsrd
// holds from FRR, and every label lsrd advertised what FRR holds from lsrd.
// It returns the FECs compared.
func agree(f *topo.FRR, l *topo.LSRD, frrID, lsrdID string) ([]string, error) {
	fb, err := f.LDPBindings()
	if err != nil {
		return nil, err
	}
	lb, err := lsrdBindings(l)
	if err != nil {
		return nil, err
	}
	var fecs []string
	var problems []string
	for _, b := range fb {
		if b.NeighborID != lsrdID {
			continue
		}
		fecs = append(fecs, b.Prefix)
		mine, ok := lb[b.Prefix]
		if !ok {
			problems = append(problems, b.Prefix+": lsrd has no binding")
			continue
		}
		if want, has := topo.FRRLabel(b.LocalLabel); has {
			var got []string
			found := false
			for _, r := range mine.Remote {
				if r.Peer.String() == frrID {
					got = append(got, fmt.Sprint(r.Label))
					found = found || uint32(r.Label) == want
				}
			}
			if !found {
				problems = append(problems, fmt.Sprintf("%s: FRR advertised %s, lsrd holds %v from %s", b.Prefix, b.LocalLabel, got, frrID))
			}
		}
		if want, has := topo.FRRLabel(b.RemoteLabel); has {
			if !mine.HasLocal || uint32(mine.LocalLabel) != want {
				problems = append(problems, fmt.Sprintf("%s: FRR holds %s from lsrd, lsrd's local label is %d (has %v)", b.Prefix, b.RemoteLabel, mine.LocalLabel, mine.HasLocal))
			}
		}
	}
	if len(problems) > 0 {
		return fecs, fmt.Errorf("bindings disagree:\n%s", strings.Join(problems, "\n"))
	}
	slices.Sort(fecs)
	return fecs, nil
}

// lsrd and FRR's ldpd on a ZeroTier-like segment form a session, agree on
// every label each advertised to the other, and a FEC FRR loses is withdrawn
// from lsrd.
func TestLSRDWithFRROverZeroTier(t *testing.T) {
	p := newPair(t, 0x8056c2e21c123456, "10.1.0")
	r1, r2, if1, if2 := p.r1, p.r2, p.if1, p.if2
	r1.AddLoopback("1.1.1.10/32")
	r1.EnableMPLS(if1, "lo")
	r2.EnableMPLS(if2, "lo")
	// lsrd learns the routes to FRR's loopbacks from the kernel.
	r2.Run("ip", "route", "add", "1.1.1.1/32", "via", "10.1.0.1")
	r2.Run("ip", "route", "add", "1.1.1.10/32", "via", "10.1.0.1")
	f1 := r1.StartFRR(topo.FRRConfig{RouterID: "1.1.1.1", Static: []string{"2.2.2.2/32 10.1.0.2"},
		LDP: &topo.FRRLDP{Interfaces: []string{if1}}})
	l2 := r2.StartLSRD(fmt.Sprintf("router-id: 2.2.2.2\nldp:\n  interfaces:\n    - name: %s\n", if2))

	f1.WaitLDPOperational(t, 60*time.Second, "2.2.2.2")
	var fecs []string
	topo.Eventually(t, 30*time.Second, "FRR and lsrd agree on bindings", func() error {
		var err error
		fecs, err = agree(f1, l2, "1.1.1.1", "2.2.2.2")
		if err == nil && !slices.Contains(fecs, "2.2.2.2/32") {
			return fmt.Errorf("FRR has no binding from lsrd for 2.2.2.2/32 yet (has %v)", fecs)
		}
		if err == nil && !slices.Contains(fecs, "1.1.1.10/32") {
			return fmt.Errorf("FRR's 1.1.1.10/32 not compared yet (has %v)", fecs)
		}
		return err
	})
	t.Logf("FRR and lsrd agree on %d FECs: %v", len(fecs), fecs)

	// lsrd's own view of the neighbour matches FRR's.
	var nbrs []ldp.NeighborInfo
	if err := l2.Get("/v1/ldp/neighbors", &nbrs); err != nil {
		t.Fatal(err)
	}
	if len(nbrs) != 1 || nbrs[0].LSRID.String() != "1.1.1.1" || nbrs[0].State != "OPERATIONAL" ||
		len(nbrs[0].Adjacencies) != 1 || nbrs[0].Adjacencies[0].Interface != if2 || nbrs[0].Adjacencies[0].Targeted {
		t.Errorf("lsrd's neighbours %+v, want 1.1.1.1 OPERATIONAL with one link adjacency on %s", nbrs, if2)
	}

	// FRR loses 1.1.1.10/32: its withdraw must reach lsrd.
	r1.Run("ip", "addr", "del", "1.1.1.10/32", "dev", "lo")
	topo.Eventually(t, 30*time.Second, "lsrd drops FRR's binding for 1.1.1.10/32", func() error {
		lb, err := lsrdBindings(l2)
		if err != nil {
			return err
		}
		for _, r := range lb["1.1.1.10/32"].Remote {
			if r.Peer.String() == "1.1.1.1" {
				return fmt.Errorf("lsrd still holds label %d from 1.1.1.1", r.Label)
			}
		}
		return nil
	})
	if _, err := agree(f1, l2, "1.1.1.1", "2.2.2.2"); err != nil {
		t.Errorf("after the withdraw: %v", err)
	}
}

// A targeted session (extended discovery, no link hellos at all) between
// lsrd and FRR comes up and the two agree on their bindings.
func TestLSRDTargetedSessionWithFRR(t *testing.T) {
	lab := topo.New(t)
	r1, r2 := lab.Router("r1"), lab.Router("r2")
	lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	r1.AddLoopback("1.1.1.1/32")
	r2.AddLoopback("2.2.2.2/32")
	r2.Run("ip", "route", "add", "1.1.1.1/32", "via", "10.0.0.1")
	f1 := r1.StartFRR(topo.FRRConfig{RouterID: "1.1.1.1", Static: []string{"2.2.2.2/32 10.0.0.2"},
		LDP: &topo.FRRLDP{Targeted: []string{"2.2.2.2"}}})
	l2 := r2.StartLSRD("router-id: 2.2.2.2\nldp:\n  targeted-neighbors:\n    - address: 1.1.1.1\n")

	f1.WaitLDPOperational(t, 90*time.Second, "2.2.2.2")
	var disc struct {
		Adjacencies []struct {
			NeighborID string `json:"neighborId"`
			Type       string `json:"type"`
		} `json:"adjacencies"`
	}
	if err := f1.VtyshJSON("show mpls ldp discovery json", &disc); err != nil {
		t.Fatal(err)
	}
	if len(disc.Adjacencies) != 1 || disc.Adjacencies[0].Type != "targeted" || disc.Adjacencies[0].NeighborID != "2.2.2.2" {
		t.Errorf("FRR's adjacencies %+v, want one targeted adjacency with 2.2.2.2", disc.Adjacencies)
	}
	topo.Eventually(t, 30*time.Second, "FRR and lsrd agree on bindings", func() error {
		fecs, err := agree(f1, l2, "1.1.1.1", "2.2.2.2")
		if err == nil && !slices.Contains(fecs, "2.2.2.2/32") {
			return fmt.Errorf("no binding from lsrd for 2.2.2.2/32 yet (have %v)", fecs)
		}
		return err
	})
}
