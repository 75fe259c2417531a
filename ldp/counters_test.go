package ldp

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/lsrd/lsrd/ldp/wire"
)

// showCounters renders Counters for the conformance cases ("show counters").
func showCounters(c Counters) []string {
	var out []string
	for _, p := range c.Peers {
		peer := p.LSRID.String()
		if !p.LSRID.IsValid() {
			peer = "unidentified"
		}
		line := fmt.Sprintf("peer %s flaps=%d", peer, p.Flaps)
		if p.UnknownTLVs > 0 {
			line += fmt.Sprintf(" unknown-tlvs=%d", p.UnknownTLVs)
		}
		out = append(out, line)
		out = append(out, "  sent"+byType(p.Sent), "  received"+byType(p.Received))
		if len(p.NotificationsSent) > 0 {
			out = append(out, "  notifications-sent"+byStatus(p.NotificationsSent))
		}
		if len(p.NotificationsReceived) > 0 {
			out = append(out, "  notifications-received"+byStatus(p.NotificationsReceived))
		}
	}
	for _, h := range c.Hellos {
		where := "link " + h.Interface
		if h.Targeted {
			where = "targeted"
		}
		out = append(out, fmt.Sprintf("hellos %s sent=%d received=%d", where, h.Sent, h.Received))
	}
	for _, l := range slices.Sorted(maps.Keys(c.Limits)) {
		out = append(out, fmt.Sprintf("limit %s refused=%d", l, c.Limits[l]))
	}
	if c.RejectionsSent+c.RejectionsReceived > 0 {
		out = append(out, fmt.Sprintf("session-rejections sent=%d received=%d", c.RejectionsSent, c.RejectionsReceived))
	}
	for _, s := range slices.Sorted(maps.Keys(c.Security)) {
		out = append(out, fmt.Sprintf("security %s count=%d", s, c.Security[s]))
	}
	return out
}

func byType(m map[wire.MsgType]uint64) string {
	var b strings.Builder
	for _, t := range slices.Sorted(maps.Keys(m)) {
		name := strings.ReplaceAll(t.String(), " ", "-")
		if t == 0 {
			name = "unknown"
		}
		fmt.Fprintf(&b, " %s=%d", name, m[t])
	}
	return b.String()
}

func byStatus(m map[wire.StatusCode]uint64) string {
	var b strings.Builder
	for _, c := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, " %s=%d", strings.ReplaceAll(c.String(), " ", "-"), m[c])
	}
	return b.String()
}

// The engine counts what crossed the wire and how sessions ended: a session
// cleared by the operator and one closed by its peer each flap once, every
// message is counted once per direction under its peer, notifications by
// status code, hellos per interface. Events are written as in the
// conformance cases.
func TestEngineCounters(t *testing.T) {
	cfg, err := parseConfig("config lsr-id=3.3.3.3 interfaces=eth0 link-hold=65535 link-interval=1000")
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, newFakeLIB())
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range [][]string{
		{"at 0s interface-up eth0 index=2 addrs=10.0.23.3/24"},
		{"at 0s hello if=eth0 src=10.0.23.2:646 dst=224.0.0.2 pdu=2.2.2.2:0", "Hello id=1 hold=65535 transport=2.2.2.2"},
		{"at 0s hello if=eth0 src=10.0.23.4:646 dst=224.0.0.2 pdu=4.4.4.4:0", "Hello id=1 hold=65535 transport=4.4.4.4"},
		{"at 0s accept conn=1 local=3.3.3.3:646 remote=4.4.4.4:40000"},
		{"at 0s data conn=1 pdu=4.4.4.4:0", "Initialization id=1 ver=1 keepalive=180 maxpdu=4096 receiver=3.3.3.3:0", "KeepAlive id=2"},
		{"at 0s established conn=d1"},
		{"at 0s data conn=d1 pdu=2.2.2.2:0", "Initialization id=1 ver=1 keepalive=180 maxpdu=4096 receiver=3.3.3.3:0", "KeepAlive id=2"},
		{"at 10s clear 2.2.2.2"},
		{"at 11s data conn=1 pdu=4.4.4.4:0", "Notification id=3 status=0x0a E msg-id=0 msg-type=0x0000"},
		{"at 12s data conn=1 pdu=4.4.4.4:0", "KeepAlive id=4"}, // the connection is gone: not counted
	} {
		at, evs, err := parseEvent(ev[0], ev[1:])
		if err != nil {
			t.Fatalf("%q: %v", ev[0], err)
		}
		for _, x := range evs {
			e.Handle(at, x)
		}
	}
	got := e.Counters()
	if len(got.Peers) != 2 {
		t.Fatalf("counters for %d peers, want 2: %+v", len(got.Peers), got.Peers)
	}
	two, four := got.Peers[0], got.Peers[1]
	if two.LSRID != netip.MustParseAddr("2.2.2.2") || four.LSRID != netip.MustParseAddr("4.4.4.4") {
		t.Fatalf("peers %v %v, want 2.2.2.2 then 4.4.4.4", two.LSRID, four.LSRID)
	}
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"2.2.2.2 flaps", two.Flaps, uint64(1)},
		{"4.4.4.4 flaps", four.Flaps, uint64(1)},
		{"sent to 2.2.2.2", two.Sent, map[wire.MsgType]uint64{wire.MsgInitialization: 1, wire.MsgKeepAlive: 1, wire.MsgAddress: 1, wire.MsgNotification: 1}},
		{"received from 2.2.2.2", two.Received, map[wire.MsgType]uint64{wire.MsgHello: 1, wire.MsgInitialization: 1, wire.MsgKeepAlive: 1}},
		{"notifications sent to 2.2.2.2", two.NotificationsSent, map[wire.StatusCode]uint64{wire.StatusShutdown: 1}},
		{"notifications from 2.2.2.2", two.NotificationsReceived, map[wire.StatusCode]uint64{}},
		{"received from 4.4.4.4", four.Received, map[wire.MsgType]uint64{wire.MsgHello: 1, wire.MsgInitialization: 1, wire.MsgKeepAlive: 1, wire.MsgNotification: 1}},
		{"notifications from 4.4.4.4", four.NotificationsReceived, map[wire.StatusCode]uint64{wire.StatusShutdown: 1}},
		{"notifications sent to 4.4.4.4", four.NotificationsSent, map[wire.StatusCode]uint64{}},
		// The start's hello, and the early one the new neighbours got
		// (due 1 s later, sent with the events at 10 s).
		{"hellos", got.Hellos, []HelloCounters{{Interface: "eth0", Sent: 2, Received: 2}}},
	} {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}

	// A copy: what the caller holds does not move with the engine.
	two.Sent[wire.MsgInitialization] = 99
	if e.Counters().Peers[0].Sent[wire.MsgInitialization] != 1 {
		t.Error("Counters shares its maps with the engine")
	}
}
