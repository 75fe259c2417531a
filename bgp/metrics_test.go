package bgp

import (
	"context"
	"net/netip"
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
	for _, name := range []string{"bgp_peer_state", "bgp_peer_flop_count", "bgp_routes_received", "bgp_routes_accepted", "bgp_received_update_total"} {
		if found[name] != "192.0.2.1" {
			t.Errorf("%s: peer %q, want 192.0.2.1 (gathered %v)", name, found[name], found)
		}
	}

	s.Stop()
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 0 {
		t.Errorf("after Stop: %d series, err %v; want none", n, err)
	}
}
