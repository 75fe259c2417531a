package metrics

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/ldp"
	"github.com/lsrd/lsrd/ldp/lib"
	"github.com/lsrd/lsrd/ldp/wire"
	"github.com/lsrd/lsrd/netlinkfib"
	"github.com/lsrd/lsrd/rib"
)

var t1 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// testSnapshot has one OPERATIONAL peer with a link and a targeted
// adjacency, one peer still initializing and one without a session (neither
// ever OPERATIONAL, so without series of their own), a connection that
// never named its peer, and hellos refused by the neighbour bound.
func testSnapshot() Snapshot {
	a := netip.MustParseAddr
	return Snapshot{
		Time: t1,
		Neighbors: []ldp.NeighborInfo{
			{LSRID: a("2.2.2.2"), State: "OPERATIONAL", Since: t1.Add(-90 * time.Second),
				KeepAlive: 180 * time.Second, KeepaliveInterval: 60 * time.Second, MaxPDU: 4096, ProtocolVersion: 1,
				Adjacencies: []ldp.AdjacencyInfo{{Interface: "zt0"}, {Targeted: true, Source: a("2.2.2.2")}}},
			{LSRID: a("4.4.4.4"), State: "OPENSENT", Since: t1.Add(-2 * time.Second),
				Adjacencies: []ldp.AdjacencyInfo{{Interface: "zt0"}}},
			{LSRID: a("5.5.5.5"), State: "NON EXISTENT", Adjacencies: []ldp.AdjacencyInfo{{Interface: "eth1"}}},
		},
		Counters: ldp.Counters{
			Peers: []ldp.PeerCounters{
				{LSRID: netip.Addr{}, Sent: map[wire.MsgType]uint64{wire.MsgNotification: 1},
					NotificationsSent: map[wire.StatusCode]uint64{wire.StatusSessionRejectedNoHello: 1}},
				{LSRID: a("2.2.2.2"), Flaps: 3,
					Sent:                  map[wire.MsgType]uint64{wire.MsgLabelMapping: 10, wire.MsgKeepAlive: 4},
					Received:              map[wire.MsgType]uint64{wire.MsgAddressWithdraw: 1, 0: 2},
					NotificationsReceived: map[wire.StatusCode]uint64{wire.StatusShutdown: 3, ldp.UnknownStatus: 1}},
			},
			Hellos: []ldp.HelloCounters{{Interface: "zt0", Sent: 7, Received: 9}, {Targeted: true, Sent: 2, Received: 1}},
			Limits: map[ldp.Limit]uint64{ldp.LimitNeighbors: 7},
		},
		LIB:    lib.Stats{LabelsInUse: 5, LabelRange: 1000, AllocFailures: 1, Starved: 2, FECs: 7, LocalBindings: 6, RemoteBindings: 8, StaleBindings: 3},
		LFIB:   4,
		FTN:    3,
		Kernel: netlinkfib.Status{Labels: 4, Prefixes: 3, Nexthops: 2, Groups: 1, Stale: true, AwaitingSweep: true, StaleRoutes: 2},
		RIB:    map[rib.Source]int{rib.SourceConnected: 3, rib.SourceBGP: 120},
		VRFs:   []api.VRF{{Name: "red", Label: 1000000, Local: 2, Exported: 2, Imported: 5, Installed: 4}},
	}
}

func TestStateCollector(t *testing.T) {
	c := NewStateCollector(func(context.Context) (Snapshot, error) { return testSnapshot(), nil })
	want := `
# HELP lsrd_ldp_adjacencies LDP Hello adjacencies by interface and type (link, targeted; targeted ones have no interface).
# TYPE lsrd_ldp_adjacencies gauge
lsrd_ldp_adjacencies{interface="",type="targeted"} 1
lsrd_ldp_adjacencies{interface="eth1",type="link"} 1
lsrd_ldp_adjacencies{interface="zt0",type="link"} 2
# HELP lsrd_ldp_hellos_total LDP Hellos by interface, type (link, targeted) and direction (sent, received).
# TYPE lsrd_ldp_hellos_total counter
lsrd_ldp_hellos_total{direction="received",interface="",type="targeted"} 1
lsrd_ldp_hellos_total{direction="received",interface="zt0",type="link"} 9
lsrd_ldp_hellos_total{direction="sent",interface="",type="targeted"} 2
lsrd_ldp_hellos_total{direction="sent",interface="zt0",type="link"} 7
# HELP lsrd_ldp_label_bindings LDP label bindings: local (FECs with a label of this LSR, null labels included) and remote (labels neighbours advertised).
# TYPE lsrd_ldp_label_bindings gauge
lsrd_ldp_label_bindings{kind="local"} 6
lsrd_ldp_label_bindings{kind="remote"} 8
# HELP lsrd_ldp_limit_refused_total Hellos and connections LDP refused or closed because one of its bounds was reached, by bound: interface-adjacencies, neighbors, pending-connections, init-timeout, unrouted-labels (ldp.limits in the configuration).
# TYPE lsrd_ldp_limit_refused_total counter
lsrd_ldp_limit_refused_total{limit="init-timeout"} 0
lsrd_ldp_limit_refused_total{limit="interface-adjacencies"} 0
lsrd_ldp_limit_refused_total{limit="neighbors"} 7
lsrd_ldp_limit_refused_total{limit="pending-connections"} 0
lsrd_ldp_limit_refused_total{limit="unrouted-labels"} 0
# HELP lsrd_ldp_messages_total LDP session messages by peer, message type and direction (sent, received).
# TYPE lsrd_ldp_messages_total counter
lsrd_ldp_messages_total{direction="received",peer="2.2.2.2",type="address_withdraw"} 1
lsrd_ldp_messages_total{direction="received",peer="2.2.2.2",type="unknown"} 2
lsrd_ldp_messages_total{direction="sent",peer="2.2.2.2",type="keepalive"} 4
lsrd_ldp_messages_total{direction="sent",peer="2.2.2.2",type="label_mapping"} 10
lsrd_ldp_messages_total{direction="sent",peer="unidentified",type="notification"} 1
# HELP lsrd_ldp_notifications_total LDP Notification messages by peer, status code and direction (sent, received).
# TYPE lsrd_ldp_notifications_total counter
lsrd_ldp_notifications_total{direction="received",peer="2.2.2.2",status="shutdown"} 3
lsrd_ldp_notifications_total{direction="received",peer="2.2.2.2",status="unknown"} 1
lsrd_ldp_notifications_total{direction="sent",peer="unidentified",status="session_rejected_no_hello"} 1
# HELP lsrd_ldp_session_flaps_total LDP sessions with the peer that left OPERATIONAL.
# TYPE lsrd_ldp_session_flaps_total counter
lsrd_ldp_session_flaps_total{peer="2.2.2.2"} 3
lsrd_ldp_session_flaps_total{peer="unidentified"} 0
# HELP lsrd_ldp_session_state LDP session state per peer (RFC 5036 section 2.5.4): 1 for the state the session is in, 0 for the others.
# TYPE lsrd_ldp_session_state gauge
lsrd_ldp_session_state{peer="2.2.2.2",state="INITIALIZED"} 0
lsrd_ldp_session_state{peer="2.2.2.2",state="NON EXISTENT"} 0
lsrd_ldp_session_state{peer="2.2.2.2",state="OPENREC"} 0
lsrd_ldp_session_state{peer="2.2.2.2",state="OPENSENT"} 0
lsrd_ldp_session_state{peer="2.2.2.2",state="OPERATIONAL"} 1
# HELP lsrd_ldp_session_state_seconds Time the session with the peer has been in its current state.
# TYPE lsrd_ldp_session_state_seconds gauge
lsrd_ldp_session_state_seconds{peer="2.2.2.2"} 90
# HELP lsrd_ldp_sessions LDP neighbours by session state (NON EXISTENT: a neighbour known by its hellos without a session).
# TYPE lsrd_ldp_sessions gauge
lsrd_ldp_sessions{state="INITIALIZED"} 0
lsrd_ldp_sessions{state="NON EXISTENT"} 1
lsrd_ldp_sessions{state="OPENREC"} 0
lsrd_ldp_sessions{state="OPENSENT"} 1
lsrd_ldp_sessions{state="OPERATIONAL"} 1
# HELP lsrd_rib_routes Best routes in lsrd's RIB by source (connected, static, kernel, bgp).
# TYPE lsrd_rib_routes gauge
lsrd_rib_routes{source="bgp"} 120
lsrd_rib_routes{source="connected"} 3
lsrd_rib_routes{source="kernel"} 0
lsrd_rib_routes{source="static"} 0
`
	names := []string{"lsrd_ldp_adjacencies", "lsrd_ldp_hellos_total", "lsrd_ldp_label_bindings", "lsrd_ldp_messages_total",
		"lsrd_ldp_notifications_total", "lsrd_ldp_session_flaps_total", "lsrd_ldp_session_state",
		"lsrd_ldp_session_state_seconds", "lsrd_ldp_sessions", "lsrd_rib_routes"}
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	for name, v := range map[string]float64{
		"lsrd_ldp_labels_in_use": 5, "lsrd_ldp_label_range_size": 1000, "lsrd_ldp_label_allocation_failures_total": 1,
		"lsrd_ldp_fecs": 7, "lsrd_ldp_fecs_without_label": 2, "lsrd_lfib_entries": 4, "lsrd_ftn_entries": 3,
		"lsrd_kernel_state_stale": 1, "lsrd_ldp_stale_bindings": 3, "lsrd_kernel_stale_routes": 2, "lsrd_kernel_awaiting_sweep": 1,
	} {
		if got := single(t, c, name); got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	if err := testutil.CollectAndCompare(c, strings.NewReader(`
# HELP lsrd_vrf_routes Routes of each VRF by kind: local (in the VRF's table, not lsrd's), exported (local routes sent as VPN routes), imported (prefixes with a VPN route whose route targets the VRF imports), installed (imported prefixes lsrd routes over an LSP in the VRF's table).
# TYPE lsrd_vrf_routes gauge
lsrd_vrf_routes{kind="exported",vrf="red"} 2
lsrd_vrf_routes{kind="imported",vrf="red"} 5
lsrd_vrf_routes{kind="installed",vrf="red"} 4
lsrd_vrf_routes{kind="local",vrf="red"} 2
# HELP lsrd_vrf_label The label of each VRF in per-vrf mode (popped into a lookup in the VRF's table); 0 in per-prefix mode.
# TYPE lsrd_vrf_label gauge
lsrd_vrf_label{vrf="red"} 1e+06
`), "lsrd_vrf_routes", "lsrd_vrf_label"); err != nil {
		t.Error(err)
	}
	if err := testutil.CollectAndCompare(c, strings.NewReader(`
# HELP lsrd_kernel_objects What the kernel layer has programmed: label routes (label_route), IP routes (route), nexthop objects (nexthop) and nexthop groups (group).
# TYPE lsrd_kernel_objects gauge
lsrd_kernel_objects{kind="group"} 1
lsrd_kernel_objects{kind="label_route"} 4
lsrd_kernel_objects{kind="nexthop"} 2
lsrd_kernel_objects{kind="route"} 3
`), "lsrd_kernel_objects"); err != nil {
		t.Error(err)
	}
	// Everything collected is described, and the other way round: the
	// registry checks both when the collector is registered and gathered.
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != len(stateDescs) {
		t.Errorf("gathered %d metric families, the collector describes %d", len(mfs), len(stateDescs))
	}
}

// single collects the one sample of the metric name.
func single(t *testing.T, c prometheus.Collector, name string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		if len(mf.GetMetric()) != 1 {
			t.Fatalf("%s: %d samples", name, len(mf.GetMetric()))
		}
		m := mf.GetMetric()[0]
		switch {
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue()
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("%s: not collected", name)
	return 0
}

// A snapshot that cannot be taken fails the scrape visibly instead of
// exporting zeros.
func TestStateCollectorError(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewStateCollector(func(context.Context) (Snapshot, error) {
		return Snapshot{}, errors.New("speaker busy")
	}))
	if _, err := reg.Gather(); err == nil || !strings.Contains(err.Error(), "speaker busy") {
		t.Errorf("Gather: %v, want the snapshot's error", err)
	}
}
