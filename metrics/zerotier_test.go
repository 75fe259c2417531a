package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lsrd/lsrd/api"
)

func TestZeroTierCollector(t *testing.T) {
	view := api.ZeroTierView{Enabled: true, Reachable: true,
		Node: &api.ZeroTierNode{PlanetWorldID: 149604618, PlanetWorldTimestamp: 1567191349589, PlanetExpected: false},
		Networks: []api.ZeroTierNetworkView{
			{ID: "8056c2e21c123456", Status: "OK", Device: "ztmjfnbvsk", MTU: 1400, MulticastLDPSubscribed: true, LDPInterface: "ztmjfnbvsk"},
			{ID: "1111111111111111", Error: "network 1111111111111111 unknown (404)"},
		}}
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewZeroTierCollector(func() api.ZeroTierView { return view }))
	want := `
# HELP lsrd_zerotier_api_up Whether ZeroTier One's local service API answered the last poll (1) or not (0).
# TYPE lsrd_zerotier_api_up gauge
lsrd_zerotier_api_up 1
# HELP lsrd_zerotier_mtu_bytes A watched network's MTU.
# TYPE lsrd_zerotier_mtu_bytes gauge
lsrd_zerotier_mtu_bytes{network="8056c2e21c123456"} 1400
# HELP lsrd_zerotier_mtu_headroom_ok Whether a network's MTU fits the payload MTU under the deepest label stack lsrd may push (1) or not (0).
# TYPE lsrd_zerotier_mtu_headroom_ok gauge
lsrd_zerotier_mtu_headroom_ok{network="8056c2e21c123456"} 0
# HELP lsrd_zerotier_multicast_ldp_subscribed Whether the node subscribed to 224.0.0.2 (01:00:5e:00:00:02) on a network, so LDP hellos reach it (1) or not (0).
# TYPE lsrd_zerotier_multicast_ldp_subscribed gauge
lsrd_zerotier_multicast_ldp_subscribed{network="8056c2e21c123456"} 1
# HELP lsrd_zerotier_network_ldp_active Whether LDP runs on the network's device (1) or not (0).
# TYPE lsrd_zerotier_network_ldp_active gauge
lsrd_zerotier_network_ldp_active{network="1111111111111111"} 0
lsrd_zerotier_network_ldp_active{network="8056c2e21c123456"} 1
# HELP lsrd_zerotier_network_ok Whether a watched network's status is OK (1) or not (0).
# TYPE lsrd_zerotier_network_ok gauge
lsrd_zerotier_network_ok{network="1111111111111111"} 0
lsrd_zerotier_network_ok{network="8056c2e21c123456"} 1
# HELP lsrd_zerotier_network_status_info A watched network's status as ZeroTier One reports it; the value is always 1.
# TYPE lsrd_zerotier_network_status_info gauge
lsrd_zerotier_network_status_info{device="ztmjfnbvsk",network="8056c2e21c123456",status="OK"} 1
# HELP lsrd_zerotier_planet_expected Whether the node uses the planet lsrd's configuration expects, or no planet is expected (1), or another (0).
# TYPE lsrd_zerotier_planet_expected gauge
lsrd_zerotier_planet_expected 0
# HELP lsrd_zerotier_planet_info The planet the node uses; the value is always 1.
# TYPE lsrd_zerotier_planet_info gauge
lsrd_zerotier_planet_info{timestamp="1567191349589",world_id="149604618"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.CollectAndLint(NewZeroTierCollector(func() api.ZeroTierView { return view })); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
	view.Enabled = false
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 0 {
		t.Errorf("disabled: %d series, %v", n, err)
	}
}
