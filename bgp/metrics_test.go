package bgp

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The collector exports GoBGP's per-neighbour metrics while the speaker
// runs, and nothing (without an error) before Start and after Stop.
func TestCollector(t *testing.T) {
	cfg := Config{
		AS:         65001,
		RouterID:   netip.MustParseAddr("1.1.1.1"),
		ListenPort: -1,
		// TEST-NET-1: never established, but configured and listed.
		Neighbors: []Neighbor{{Address: netip.MustParseAddr("192.0.2.1"), RemoteAS: 65002}},
	}
	s, err := New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(s.Collector())
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 0 {
		t.Errorf("before Start: %d series, err %v; want none", n, err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{} // name -> peer label of its first series
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "peer" {
					found[mf.GetName()] = l.GetValue()
				}
			}
		}
	}
	for _, name := range []string{"lsrd_bgp_peer_state", "lsrd_bgp_peer_flaps_total", "lsrd_bgp_routes", "lsrd_bgp_messages_total", "lsrd_bgp_peer_info"} {
		if found[name] != "192.0.2.1" {
			t.Errorf("%s: peer %q, want 192.0.2.1 (gathered %v)", name, found[name], found)
		}
	}
	// Typed as their names say; the session is not up, so not established.
	want := `
# HELP lsrd_bgp_peer_flaps_total Sessions with a neighbour that left established.
# TYPE lsrd_bgp_peer_flaps_total counter
lsrd_bgp_peer_flaps_total{peer="192.0.2.1"} 0
# HELP lsrd_bgp_routes Prefixes per neighbour and family: received, and accepted (after import policy).
# TYPE lsrd_bgp_routes gauge
lsrd_bgp_routes{family="ipv4-unicast",kind="accepted",peer="192.0.2.1"} 0
lsrd_bgp_routes{family="ipv4-unicast",kind="received",peer="192.0.2.1"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "lsrd_bgp_peer_flaps_total", "lsrd_bgp_routes"); err != nil {
		t.Error(err)
	}
	if v, err := gatheredValue(reg, "lsrd_bgp_peer_state", "established"); err != nil || v != 0 {
		t.Errorf("established = %v (%v), want 0", v, err)
	}
	if n, err := testutil.GatherAndCount(reg, "lsrd_bgp_peer_established_seconds"); err != nil || n != 0 {
		t.Errorf("lsrd_bgp_peer_established_seconds for a session never up: %d series (%v)", n, err)
	}
	// promtool's rules: counters end in _total, nothing else does.
	if lint, err := testutil.GatherAndLint(reg); err != nil || len(lint) > 0 {
		t.Errorf("lint: %v %v", lint, err)
	}

	s.Stop()
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 0 {
		t.Errorf("after Stop: %d series, err %v; want none", n, err)
	}
}

// gatheredValue is the value of name's series whose state label is state.
func gatheredValue(reg *prometheus.Registry, name, state string) (float64, error) {
	mfs, err := reg.Gather()
	if err != nil {
		return 0, err
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "state" && l.GetValue() == state {
					return m.GetGauge().GetValue(), nil
				}
			}
		}
	}
	return 0, fmt.Errorf("no %s{state=%q}", name, state)
}
