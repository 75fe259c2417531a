package ctl

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/ldp/fec"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/ldp"
	"github.com/lsrd/lsrd/ldp/lib"
	"github.com/lsrd/lsrd/rib"
)

var (
	now = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

	neighbors = []ldp.NeighborInfo{
		{
			LSRID: addr("2.2.2.2"), Transport: addr("2.2.2.2"), State: "OPERATIONAL",
			Since: now.Add(-(time.Hour + 2*time.Minute + 3*time.Second)), Active: false,
			KeepAlive: 180 * time.Second, Remote: netip.MustParseAddrPort("2.2.2.2:40123"), GracefulRestart: true, MD5: true,
			Adjacencies: []ldp.AdjacencyInfo{
				{Interface: "zt0", Source: addr("10.1.0.2"), Hold: 15 * time.Second, Expires: now.Add(12*time.Second + 400*time.Millisecond)},
				{Targeted: true, Source: addr("2.2.2.2"), Hold: 45 * time.Second, Expires: now.Add(40 * time.Second)},
			},
		},
		{
			LSRID: addr("3.3.3.3"), Transport: addr("3.3.3.3"), State: "OPENSENT",
			Since: now.Add(-time.Second), Active: true, Remote: netip.MustParseAddrPort("3.3.3.3:646"),
			Adjacencies: []ldp.AdjacencyInfo{{Interface: "zt1", Source: addr("10.2.0.3"), Hold: 15 * time.Second, Expires: now.Add(3 * time.Second)}},
		},
		{
			LSRID: addr("4.4.4.4"), Transport: addr("4.4.4.4"), State: "NON EXISTENT",
			Adjacencies: []ldp.AdjacencyInfo{{Targeted: true, Source: addr("4.4.4.4"), Hold: 0}},
		},
		{
			// Restarting: its session and adjacency are gone, lsrd keeps
			// its labels (graceful restart helper).
			LSRID: addr("5.5.5.5"), State: "NON EXISTENT", Adjacencies: []ldp.AdjacencyInfo{},
			GracefulRestart: true, GRHelper: ldp.GRReconnectWait, StaleBindings: 12, StaleUntil: now.Add(100*time.Second + 400*time.Millisecond),
		},
	}

	bindings = []lib.Binding{
		{FEC: fec.Prefix(pfx("1.1.1.1/32")), LocalLabel: fib.LabelImplicitNull, HasLocal: true, Remote: []lib.RemoteBinding{
			{Peer: addr("2.2.2.2"), Label: 17, InUse: false},
		}},
		{FEC: fec.Prefix(pfx("2.2.2.2/32")), LocalLabel: 16, HasLocal: true, Remote: []lib.RemoteBinding{
			{Peer: addr("2.2.2.2"), Label: fib.LabelImplicitNull, InUse: true},
			{Peer: addr("3.3.3.3"), Label: 24, InUse: false},
		}},
		{FEC: fec.Prefix(pfx("10.0.0.0/8")), LocalLabel: 0, HasLocal: false, Remote: []lib.RemoteBinding{
			{Peer: addr("3.3.3.3"), Label: fib.LabelIPv4ExplicitNull, InUse: true},
		}},
		{FEC: fec.Prefix(pfx("10.1.0.0/24")), LocalLabel: 18, HasLocal: true, Remote: []lib.RemoteBinding{}},
	}

	table = api.TableView{
		LFIB: []api.LFIBRow{
			{LFIBEntry: fib.LFIBEntry{InLabel: 16, NextHops: []fib.NextHop{{Addr: addr("10.1.0.2"), Ifname: "zt0"}}}, Installed: true},
			{LFIBEntry: fib.LFIBEntry{InLabel: 18, NextHops: []fib.NextHop{
				{Addr: addr("10.1.0.2"), Ifname: "zt0", Labels: []fib.Label{20}},
				{Addr: addr("10.2.0.3"), Ifname: "zt1", Labels: []fib.Label{31, 0}},
			}}},
		},
		FTN: []api.FTNRow{
			{FTNEntry: fib.FTNEntry{Prefix: pfx("2.2.2.2/32"), NextHops: []fib.NextHop{{Addr: addr("10.1.0.2"), Ifname: "zt0"}}}, Installed: true},
			{FTNEntry: fib.FTNEntry{Prefix: pfx("3.3.3.3/32"), NextHops: []fib.NextHop{{Addr: addr("10.1.0.2"), Ifname: "zt0", Labels: []fib.Label{20}}}}},
		},
	}

	routes = []rib.Route{
		{Prefix: pfx("1.1.1.1/32"), Source: rib.SourceConnected, Distance: 0, NextHops: []rib.NextHop{{Ifname: "lo"}}},
		{Prefix: pfx("3.3.3.0/24"), Source: rib.SourceStatic, Distance: 1, NextHops: []rib.NextHop{
			{Addr: addr("10.1.0.2"), Ifname: "zt0"}, {Addr: addr("10.2.0.3"), Ifname: "zt1"},
		}},
		{Prefix: pfx("10.0.0.0/8"), Source: rib.SourceBGP, Distance: 20, NextHops: []rib.NextHop{{Addr: addr("10.1.0.2"), Ifname: "zt0"}}},
	}
)

func addr(s string) netip.Addr  { return netip.MustParseAddr(s) }
func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// golden compares rendered output with want, a table written with a leading
// newline for readability.
func golden(t *testing.T, what string, got string, want string) {
	t.Helper()
	want = strings.TrimPrefix(want, "\n")
	if got != want {
		t.Errorf("%s:\ngot:\n%s\nwant:\n%s", what, got, want)
	}
}

func TestNeighborsTable(t *testing.T) {
	var b strings.Builder
	if err := Neighbors(&b, neighbors, now); err != nil {
		t.Fatal(err)
	}
	golden(t, "neighbors", b.String(), `
LSR ID   STATE         ROLE     TRANSPORT  REMOTE         UPTIME    HOLD  ADJ  AUTH  GR
2.2.2.2  OPERATIONAL   passive  2.2.2.2    2.2.2.2:40123  01:02:03  180s  2    md5   yes
3.3.3.3  OPENSENT      active   3.3.3.3    3.3.3.3:646    -         -     1    -     -
4.4.4.4  NON EXISTENT  -        4.4.4.4    -              -         -     1    -     -
5.5.5.5  NON EXISTENT  -        -          -              -         -     0    -     reconnect-wait 12 stale 1m40s
`)
}

func TestDiscoveryTable(t *testing.T) {
	var b strings.Builder
	if err := Discovery(&b, neighbors, now); err != nil {
		t.Fatal(err)
	}
	golden(t, "discovery", b.String(), `
NEIGHBOR  TYPE      INTERFACE  SOURCE    HOLD      EXPIRES IN
2.2.2.2   link      zt0        10.1.0.2  15s       12s
2.2.2.2   targeted  -          2.2.2.2   45s       40s
3.3.3.3   link      zt1        10.2.0.3  15s       3s
4.4.4.4   targeted  -          4.4.4.4   infinite  never
`)
}

func TestBindingsTable(t *testing.T) {
	var b strings.Builder
	if err := Bindings(&b, bindings); err != nil {
		t.Fatal(err)
	}
	golden(t, "bindings", b.String(), `
FEC          PEER     LOCAL LABEL  REMOTE LABEL  IN USE
1.1.1.1/32   2.2.2.2  imp-null     17            no
2.2.2.2/32   2.2.2.2  16           imp-null      yes
2.2.2.2/32   3.3.3.3  16           24            no
10.0.0.0/8   3.3.3.3  -            exp-null      yes
10.1.0.0/24  -        18           -             -
`)
}

func TestLFIBTable(t *testing.T) {
	var b strings.Builder
	if err := LFIB(&b, table); err != nil {
		t.Fatal(err)
	}
	golden(t, "lfib", b.String(), `
IN LABEL  OUT LABELS   NEXT HOP  INTERFACE  INSTALLED
16        pop          10.1.0.2  zt0        yes
18        20           10.1.0.2  zt0        no
18        31/exp-null  10.2.0.3  zt1        no

PREFIX      PUSH  NEXT HOP  INTERFACE  INSTALLED
2.2.2.2/32  -     10.1.0.2  zt0        yes
3.3.3.3/32  20    10.1.0.2  zt0        no
`)
}

func TestRIBTable(t *testing.T) {
	var b strings.Builder
	if err := RIB(&b, routes); err != nil {
		t.Fatal(err)
	}
	golden(t, "rib", b.String(), `
PREFIX      SOURCE     DISTANCE  NEXT HOP            INTERFACE
1.1.1.1/32  connected  0         directly connected  lo
3.3.3.0/24  static     1         10.1.0.2            zt0
3.3.3.0/24  static     1         10.2.0.3            zt1
10.0.0.0/8  bgp        20        10.1.0.2            zt0
`)
}

func TestFormatLabel(t *testing.T) {
	for l, want := range map[fib.Label]string{0: "exp-null", 1: "1", 2: "exp-null", 3: "imp-null", 16: "16", 1048575: "1048575"} {
		if got := FormatLabel(l); got != want {
			t.Errorf("FormatLabel(%d) = %q, want %q", l, got, want)
		}
	}
	for s, want := range map[string]fib.Label{"imp-null": 3, "exp-null": 0, "implicit-null": 3, "16": 16, "1048575": 1048575} {
		if got, err := ParseLabel(s); err != nil || got != want {
			t.Errorf("ParseLabel(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "x", "-1", "1048576", "16.5"} {
		if _, err := ParseLabel(s); err == nil {
			t.Errorf("ParseLabel(%q) accepted", s)
		}
	}
}

func TestFormatUptime(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                               "00:00:00",
		59*time.Minute + 59*time.Second: "00:59:59",
		25*time.Hour + 3*time.Minute:    "1d01h03m",
		(7*24+27)*time.Hour + time.Hour: "1w1d04h",
		-time.Second:                    "00:00:00",
	} {
		if got := FormatUptime(d); got != want {
			t.Errorf("FormatUptime(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestNeighborDetail(t *testing.T) {
	ns := []api.LDPNeighbor{{LSRID: addr("2.2.2.2"), Transport: addr("2.2.2.2"), State: api.LDPOperational,
		Since: now.Add(-time.Hour), Active: true, Remote: netip.MustParseAddrPort("2.2.2.2:646"), MD5: true, GTSM: true,
		KeepAlive: 180 * time.Second, KeepaliveInterval: 60 * time.Second, ProtocolVersion: 1, MaxPDU: 4096,
		Capabilities: []string{"Typed Wildcard FEC Capability"}, MessagesSent: 12, MessagesReceived: 34, Synced: true,
		Adjacencies: []api.LDPAdjacency{{Interface: "zt0", Source: addr("10.1.0.2"), Hold: 15 * time.Second, Expires: now.Add(12 * time.Second)}}}}
	var b strings.Builder
	if err := NeighborDetail(&b, ns, now); err != nil {
		t.Fatal(err)
	}
	golden(t, "neighbor detail", b.String(), `
Peer LDP identifier: 2.2.2.2:0
  Session state: OPERATIONAL for 01:00:00, active (this LSR opened the connection)
  Transport address: 2.2.2.2; TCP connection with 2.2.2.2:646
  Authentication: TCP-MD5; GTSM (TTL 255): yes
  KeepAlive time (hold): 3m0s, KeepAlives sent every 1m0s; protocol version 1, max PDU 4096
  Capabilities: Typed Wildcard FEC Capability
  Messages: 12 sent, 34 received; IGP sync: yes
  Adjacency: link zt0 from 10.1.0.2, hold 15s, expires in 12s
`)
}

func TestInterfacesTable(t *testing.T) {
	var b strings.Builder
	err := Interfaces(&b, []api.InterfaceView{
		{Name: "zt0", State: api.InterfaceUp, Index: 4, MTU: 2800, LDP: true, IGPSync: "achieved", MPLSInput: true,
			Addresses: []netip.Prefix{pfx("10.1.0.1/24")}},
		{Name: "eth1", State: api.InterfaceDown, Index: 5, MTU: 1500, LDP: true, Addresses: []netip.Prefix{}},
		{Name: "spare0", State: api.InterfaceMissing, LDP: true, Addresses: []netip.Prefix{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "interfaces", b.String(), `
INTERFACE  STATE    INDEX  MTU   LDP  IGP SYNC  MPLS INPUT  ADDRESSES
zt0        up       4      2800  yes  achieved  yes         10.1.0.1/24
eth1       down     5      1500  yes  -         no          -
spare0     missing  -      -     yes  -         no          -
`)
}

func TestBindingDetail(t *testing.T) {
	var b strings.Builder
	err := BindingDetail(&b, []api.LDPBinding{
		{FEC: fec.Prefix(pfx("2.2.2.2/32")), LocalLabel: 16, HasLocal: true,
			Remote:       []api.LDPRemoteBinding{{Peer: addr("2.2.2.2"), Label: fib.LabelImplicitNull, InUse: true}, {Peer: addr("3.3.3.3"), Label: 20}},
			AdvertisedTo: []netip.Addr{addr("2.2.2.2"), addr("3.3.3.3")}},
		{FEC: fec.Prefix(pfx("10.0.0.0/8"))},
	})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "binding detail", b.String(), `
2.2.2.2/32
  Local binding: label 16
    Advertised to: 2.2.2.2, 3.3.3.3
  Remote bindings:
    Peer 2.2.2.2: label imp-null (in use)
    Peer 3.3.3.3: label 20
10.0.0.0/8
  Local binding: none
    Advertised to: -
  Remote bindings: none
`)
}

func TestBGPNeighborDetail(t *testing.T) {
	var b strings.Builder
	err := BGPNeighborDetail(&b, []api.BGPNeighbor{{
		Address: addr("10.0.0.2"), RemoteAS: 65002, LocalAS: 65001, State: "established", Uptime: 3723 * time.Second,
		Families: []string{"ipv4-unicast"}, Import: "in", EndOfRIB: true, RouterID: addr("2.2.2.2"),
		Local: netip.MustParseAddrPort("10.0.0.1:40123"), Remote: netip.MustParseAddrPort("10.0.0.2:179"),
		HoldTime: 90 * time.Second, Keepalive: 30 * time.Second, ConfiguredHoldTime: 90 * time.Second,
		LastDown: now.Add(-2 * time.Hour), Flaps: 1, MD5: true, TTLSecurityHops: 1,
		PerFamily:          []api.BGPFamilyCounts{{Family: "ipv4-unicast", Received: 2, Accepted: 1, Advertised: 1}},
		MessagesSent:       api.BGPMessages{Open: 1, Update: 2, Keepalive: 10, Total: 13},
		MessagesReceived:   api.BGPMessages{Open: 1, Update: 3, Keepalive: 9, RouteRefresh: 1, Total: 14},
		LocalCapabilities:  []string{"multiprotocol ipv4-unicast", "route-refresh"},
		RemoteCapabilities: []string{"multiprotocol ipv4-unicast"},
	}, {Address: addr("10.0.0.6"), RemoteAS: 65003, LocalAS: 65001, State: "active", AdminDown: true}}, now)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "bgp neighbor detail", b.String(), `
BGP neighbor 10.0.0.2, remote AS 65002, local AS 65001
  State: established for 01:02:03; 1 flaps, last down 02:00:00 ago
  Router ID: 2.2.2.2; TCP connection 10.0.0.1:40123 to 10.0.0.2:179
  Authentication: TCP-MD5; eBGP multihop TTL: off; TTL security hops: 1
  Hold time 1m30s, keepalive 30s (configured hold time 1m30s)
  Capabilities sent: multiprotocol ipv4-unicast, route-refresh
  Capabilities received: multiprotocol ipv4-unicast
  End-of-RIB received: yes; import in, export any; output queue 0
  MESSAGES      OPEN      UPDATE    NOTIFICATION  KEEPALIVE  ROUTE-REFRESH  TOTAL
  sent          1         2         0             10         0              13
  received      1         3         0             9          1              14
  FAMILY        RECEIVED  ACCEPTED  ADVERTISED
  ipv4-unicast  2         1         1

BGP neighbor 10.0.0.6, remote AS 65003, local AS 65001
  State: active (administratively down); 0 flaps
  Router ID: -; TCP connection - to -
  Authentication: none; eBGP multihop TTL: off; TTL security hops: off
  End-of-RIB received: no; import any, export any; output queue 0
  MESSAGES  OPEN      UPDATE    NOTIFICATION  KEEPALIVE  ROUTE-REFRESH  TOTAL
  sent      0         0         0             0          0              0
  received  0         0         0             0          0              0
  FAMILY    RECEIVED  ACCEPTED  ADVERTISED
`)
}
