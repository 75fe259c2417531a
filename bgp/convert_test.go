package bgp

import (
	"fmt"
	"log/slog"
	"net/netip"
	"reflect"
	"testing"

	api "github.com/osrg/gobgp/v3/api"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/lsrd/lsrd/rib"
)

func mustAny(t testing.TB, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

var (
	v4Unicast = &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}
	v6Unicast = &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}
)

func v4Path(t testing.TB, prefix string, plen uint32, nh, neighbor string, asn uint32) *api.Path {
	return &api.Path{
		Family: v4Unicast,
		Nlri:   mustAny(t, &api.IPAddressPrefix{Prefix: prefix, PrefixLen: plen}),
		Pattrs: []*anypb.Any{
			mustAny(t, &api.OriginAttribute{Origin: 0}),
			mustAny(t, &api.AsPathAttribute{Segments: []*api.AsSegment{{Type: 2, Numbers: []uint32{asn}}}}),
			mustAny(t, &api.NextHopAttribute{NextHop: nh}),
		},
		NeighborIp: neighbor,
		SourceAsn:  asn,
	}
}

func TestPathToUpdate(t *testing.T) {
	const local = 65001
	bgpRoute := func(prefix string, distance uint8, nh string) rib.Route {
		return rib.Route{Prefix: netip.MustParsePrefix(prefix), Source: rib.SourceBGP, Distance: distance,
			NextHops: []rib.NextHop{{Addr: netip.MustParseAddr(nh)}}}
	}
	withdrawn := func(prefix string) Update {
		return Update{Withdrawn: true, Route: rib.Route{Prefix: netip.MustParsePrefix(prefix), Source: rib.SourceBGP}}
	}
	v6 := &api.Path{
		Family: v6Unicast,
		Nlri:   mustAny(t, &api.IPAddressPrefix{Prefix: "2001:db8:1::", PrefixLen: 48}),
		Pattrs: []*anypb.Any{
			mustAny(t, &api.OriginAttribute{Origin: 0}),
			mustAny(t, &api.MpReachNLRIAttribute{Family: v6Unicast, NextHops: []string{"2001:db8::2", "fe80::2"},
				Nlris: []*anypb.Any{mustAny(t, &api.IPAddressPrefix{Prefix: "2001:db8:1::", PrefixLen: 48})}}),
		},
		NeighborIp: "2001:db8::2",
		SourceAsn:  65002,
	}
	withdraw := v4Path(t, "10.9.0.0", 16, "10.0.0.2", "10.0.0.2", 65002)
	withdraw.IsWithdraw = true
	evpn := v4Path(t, "10.9.0.0", 16, "10.0.0.2", "10.0.0.2", 65002)
	evpn.Family = &api.Family{Afi: api.Family_AFI_L2VPN, Safi: api.Family_SAFI_EVPN}
	labelled := v4Path(t, "10.9.0.0", 16, "10.0.0.2", "10.0.0.2", 65002)
	labelled.Family = &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_MPLS_LABEL}
	labelled.Nlri = mustAny(t, &api.LabeledIPAddressPrefix{Labels: []uint32{16001}, Prefix: "10.9.0.0", PrefixLen: 16})
	labelledNull := v4Path(t, "10.9.0.0", 16, "10.0.0.2", "10.0.0.2", 65002)
	labelledNull.Family = labelled.Family
	labelledNull.Nlri = mustAny(t, &api.LabeledIPAddressPrefix{Labels: []uint32{3}, Prefix: "10.9.0.0", PrefixLen: 16})
	labelledBad := v4Path(t, "10.9.0.0", 16, "10.0.0.2", "10.0.0.2", 65002)
	labelledBad.Family = labelled.Family
	labelledBad.Nlri = mustAny(t, &api.LabeledIPAddressPrefix{Labels: []uint32{1 << 20}, Prefix: "10.9.0.0", PrefixLen: 16})
	withLabels := func(r rib.Route, ls ...uint32) rib.Route { r.Labels = ls; return r }
	eor := &api.Path{Family: v4Unicast, NeighborIp: "10.0.0.2"}
	noNextHop := v4Path(t, "10.9.0.0", 16, "10.0.0.2", "10.0.0.2", 65002)
	noNextHop.Pattrs = noNextHop.Pattrs[:2]

	tests := []struct {
		name    string
		path    *api.Path
		want    Update
		ok      bool
		wantErr bool
	}{
		{"eBGP", v4Path(t, "10.9.0.0", 16, "10.0.0.2", "10.0.0.2", 65002), Update{Route: bgpRoute("10.9.0.0/16", 20, "10.0.0.2")}, true, false},
		{"iBGP third-party next hop", v4Path(t, "10.8.0.0", 24, "192.0.2.7", "10.0.0.3", local), Update{Route: bgpRoute("10.8.0.0/24", 200, "192.0.2.7")}, true, false},
		{"host route", v4Path(t, "2.2.2.2", 32, "10.0.0.2", "10.0.0.2", 65002), Update{Route: bgpRoute("2.2.2.2/32", 20, "10.0.0.2")}, true, false},
		{"IPv6 global next hop", v6, Update{Route: bgpRoute("2001:db8:1::/48", 20, "2001:db8::2")}, true, false},
		{"withdrawal", withdraw, withdrawn("10.9.0.0/16"), true, false},
		{"local best path", v4Path(t, "1.1.1.1", 32, "0.0.0.0", "<nil>", 0), withdrawn("1.1.1.1/32"), true, false},
		{"EVPN ignored", evpn, Update{}, false, false},
		{"labelled unicast", labelled, Update{Route: withLabels(bgpRoute("10.9.0.0/16", 20, "10.0.0.2"), 16001)}, true, false},
		{"labelled implicit null", labelledNull, Update{Route: bgpRoute("10.9.0.0/16", 20, "10.0.0.2")}, true, false},
		{"labelled beyond 20 bits", labelledBad, Update{}, false, true},
		{"end of RIB ignored", eor, Update{}, false, false},
		{"no next hop", noNextHop, Update{}, false, true},
		{"bad NLRI", &api.Path{Family: v4Unicast, Nlri: mustAny(t, &api.OriginAttribute{}), NeighborIp: "10.0.0.2"}, Update{}, false, true},
		{"bad prefix length", v4Path(t, "10.0.0.0", 33, "10.0.0.2", "10.0.0.2", 65002), Update{}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := pathToUpdate(tt.path, local)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("pathToUpdate() = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestLocalPathRoundTrip(t *testing.T) {
	for _, s := range []string{"1.1.1.1/32", "2001:db8::1/128"} {
		p := netip.MustParsePrefix(s)
		path, err := localPath(p)
		if err != nil {
			t.Fatal(err)
		}
		path.NeighborIp = "192.0.2.1" // as if learned, to read it back
		u, ok, err := pathToUpdate(path, 65001)
		if err != nil || !ok || u.Route.Prefix != p || len(u.Route.NextHops) != 1 || !u.Route.NextHops[0].Addr.IsUnspecified() {
			t.Fatalf("%s: read back as %+v, %v, %v", s, u, ok, err)
		}
	}
}

// A best path as a full table carries them: AS path, MED, local
// preference and communities besides the next hop.
func BenchmarkPathToUpdate(b *testing.B) {
	p := v4Path(b, "198.51.100.0", 24, "10.0.0.2", "10.0.0.2", 65002)
	p.Pattrs = append(p.Pattrs[:2:2], mustAny(b, &api.MultiExitDiscAttribute{Med: 100}),
		mustAny(b, &api.LocalPrefAttribute{LocalPref: 200}),
		mustAny(b, &api.CommunitiesAttribute{Communities: []uint32{65002<<16 | 1, 65002<<16 | 2, 65002<<16 | 3}}),
		p.Pattrs[2])
	for b.Loop() {
		if _, ok, err := pathToUpdate(p, 65001); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// Best paths with the same next hop, in one event, give routes that share
// one next-hop slice (the RIB keeps 100,000 of them).
func TestOnEventSharesNextHops(t *testing.T) {
	s := &Speaker{log: slog.Default(), queue: newUpdateQueue(), localAS: 65001}
	var paths []*api.Path
	for i := range 10 {
		nh := "4.4.4.4"
		if i == 5 {
			nh = "5.5.5.5"
		}
		paths = append(paths, v4Path(t, fmt.Sprintf("20.0.%d.0", i), 24, nh, "10.0.0.1", 65001))
	}
	s.onEvent(&api.WatchEventResponse{Event: &api.WatchEventResponse_Table{Table: &api.WatchEventResponse_TableEvent{Paths: paths}}})
	us := s.queue.take()
	if len(us) != 10 {
		t.Fatalf("%d updates, want 10", len(us))
	}
	for i, u := range us {
		want := "4.4.4.4"
		if i == 5 {
			want = "5.5.5.5"
		}
		if len(u.Route.NextHops) != 1 || u.Route.NextHops[0].Addr != netip.MustParseAddr(want) {
			t.Fatalf("%s: next hops %v, want %s", u.Route.Prefix, u.Route.NextHops, want)
		}
	}
	if &us[0].Route.NextHops[0] != &us[4].Route.NextHops[0] || &us[6].Route.NextHops[0] != &us[9].Route.NextHops[0] {
		t.Error("routes with the same next hop in a row hold copies, not one slice")
	}
}
