package bgp

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/apiutil"
	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
)

func received(t *testing.T, r VPNRoute, from string) *api.Path {
	t.Helper()
	p, err := VPNPath(r, false)
	if err != nil {
		t.Fatal(err)
	}
	p.NeighborIp = from
	return p
}

func TestVPNPathRoundTrip(t *testing.T) {
	for _, r := range []VPNRoute{
		{RD: "65000:1", Prefix: netip.MustParsePrefix("10.20.0.0/24"), Label: 1000000,
			NextHop: netip.MustParseAddr("3.3.3.3"), RTs: []string{"65000:100", "65000:200"}},
		{RD: "192.0.2.1:7", Prefix: netip.MustParsePrefix("2001:db8:20::/48"), Label: 17,
			NextHop: netip.MustParseAddr("3.3.3.3"), RTs: []string{"65000:100"}},
	} {
		got, ok, err := pathToVPN(received(t, r, "3.3.3.3"))
		if err != nil || !ok {
			t.Fatalf("%+v: ok %v, err %v", r, ok, err)
		}
		r.Neighbor = netip.MustParseAddr("3.3.3.3")
		if !sameVPNRoute(got, r) || got.Neighbor != r.Neighbor || got.Withdrawn {
			t.Errorf("round trip of %+v gave %+v", r, got)
		}
	}
	// Our own path (GoBGP's "<nil>" source) withdraws its key.
	r := VPNRoute{RD: "65000:1", Prefix: netip.MustParsePrefix("10.20.0.0/24"), Label: 20, NextHop: netip.MustParseAddr("1.1.1.1")}
	got, ok, err := pathToVPN(received(t, r, "<nil>"))
	if err != nil || !ok || !got.Withdrawn || got.Key() != r.Key() {
		t.Errorf("local path: %+v ok %v err %v, want a withdrawal of its key", got, ok, err)
	}
}

func TestVPNPathRefused(t *testing.T) {
	base := VPNRoute{RD: "65000:1", Prefix: netip.MustParsePrefix("10.20.0.0/24"), Label: 100,
		NextHop: netip.MustParseAddr("3.3.3.3"), RTs: []string{"65000:100"}}
	for name, change := range map[string]func(*VPNRoute){
		"label beyond 20 bits": func(r *VPNRoute) { r.Label = 1 << 20 },
		"reserved label":       func(r *VPNRoute) { r.Label = 3 },
		"IPv6 provider edge":   func(r *VPNRoute) { r.NextHop = netip.MustParseAddr("2001:db8::3") },
		"unspecified next hop": func(r *VPNRoute) { r.NextHop = netip.IPv4Unspecified() },
	} {
		r := base
		change(&r)
		got, ok, err := pathToVPN(received(t, r, "3.3.3.3"))
		if !errors.Is(err, errVPNPath) || !ok || !got.Withdrawn || got.Key() != base.Key() {
			t.Errorf("%s: %+v ok %v err %v, want a refusal that withdraws %v", name, got, ok, err, base.Key())
		}
	}
}

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{"65000:1": "65000:1", "192.0.2.1:7": "192.0.2.1:7", "64086.59904:5": "64086.59904:5"} {
		if got, err := CanonicalRD(in); err != nil || got != want {
			t.Errorf("CanonicalRD(%q) = %q, %v", in, got, err)
		}
		if got, err := CanonicalRT(in); err != nil || got != want {
			t.Errorf("CanonicalRT(%q) = %q, %v", in, got, err)
		}
	}
	// GoBGP's parser would cut 70000:1 down to 65535:1 and 192.0.2.1:70000
	// to 192.0.2.1:4464.
	for _, bad := range []string{"", "65000", "x:1", "1.2.3:4", "70000:1", "192.0.2.1:70000", "4200000000:5"} {
		if _, err := CanonicalRD(bad); err == nil {
			t.Errorf("CanonicalRD(%q) accepted", bad)
		}
	}
}

// FuzzPathToVPN feeds arbitrary NLRI and attribute bytes, as GoBGP's
// binary paths carry them, to the conversion: it must never panic, and
// what it accepts must be a usable route.
func FuzzPathToVPN(f *testing.F) {
	p, err := VPNPath(VPNRoute{RD: "65000:1", Prefix: netip.MustParsePrefix("10.20.0.0/24"), Label: 100,
		NextHop: netip.MustParseAddr("3.3.3.3"), RTs: []string{"65000:100"}}, false)
	if err != nil {
		f.Fatal(err)
	}
	// The seed: the binary NLRI of a VPNv4 route (8-byte RD, label, /24).
	f.Add([]byte{24 + 88, 0x00, 0x06, 0x41, 0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 10, 20, 0}, []byte{0x40, 1, 1, 2}, false)
	f.Fuzz(func(t *testing.T, nlri, attr []byte, v6 bool) {
		q := &api.Path{Family: p.Family, NlriBinary: nlri, PattrsBinary: [][]byte{attr}, NeighborIp: "3.3.3.3"}
		if v6 {
			q.Family = &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_MPLS_VPN}
		}
		r, ok, err := pathToVPN(q)
		if err != nil || !ok || r.Withdrawn {
			return
		}
		if r.Label < 16 || r.Label > maxLabel || !r.NextHop.Is4() || !r.Prefix.IsValid() || !slices.IsSorted(r.RTs) {
			t.Fatalf("accepted %+v", r)
		}
	})
}

// A VPN path's LOCAL_PREF, AS_PATH, ORIGIN and MED come through for the
// choice among RDs (vpn.State); a path without LOCAL_PREF or MED gets 100
// and 0.
func TestVPNPathAttributes(t *testing.T) {
	rd, _ := bgp.ParseRouteDistinguisher("65000:1")
	nlri := bgp.NewLabeledVPNIPAddrPrefix(24, "10.20.0.0", *bgp.NewMPLSLabelStack(100), rd)
	base := []bgp.PathAttributeInterface{
		bgp.NewPathAttributeMpReachNLRI("3.3.3.3", []bgp.AddrPrefixInterface{nlri}),
	}
	full := append(slices.Clone(base),
		bgp.NewPathAttributeOrigin(bgp.BGP_ORIGIN_ATTR_TYPE_EGP),
		bgp.NewPathAttributeLocalPref(200),
		bgp.NewPathAttributeMultiExitDisc(50),
		bgp.NewPathAttributeAsPath([]bgp.AsPathParamInterface{
			bgp.NewAs4PathParam(bgp.BGP_ASPATH_ATTR_TYPE_SEQ, []uint32{65010, 65020}),
			bgp.NewAs4PathParam(bgp.BGP_ASPATH_ATTR_TYPE_SET, []uint32{1, 2, 3}),
		}))
	for _, c := range []struct {
		attrs []bgp.PathAttributeInterface
		want  VPNRoute
	}{
		{base, VPNRoute{LocalPref: 100}},
		{full, VPNRoute{LocalPref: 200, MED: 50, Origin: 1, ASPathLen: 3, FirstAS: 65010}},
	} {
		p, err := apiutil.NewPath(nlri, false, c.attrs, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		p.NeighborIp = "3.3.3.3"
		r, ok, err := pathToVPN(p)
		if err != nil || !ok {
			t.Fatalf("ok %v, err %v", ok, err)
		}
		if r.LocalPref != c.want.LocalPref || r.MED != c.want.MED || r.Origin != c.want.Origin || r.ASPathLen != c.want.ASPathLen || r.FirstAS != c.want.FirstAS {
			t.Errorf("attributes %+v, want %+v", r, c.want)
		}
	}
}

// TestMembershipPath checks the Route Target membership lsrd originates
// for a route target its VRFs import (RFC 4684 section 4): AS and route
// target in the NLRI, in GoBGP's Route Target family.
func TestMembershipPath(t *testing.T) {
	p, err := membershipPath(65000, "65000:100", false)
	if err != nil {
		t.Fatal(err)
	}
	if f := familyName(p.GetFamily()); f != FamilyRouteTarget {
		t.Errorf("family %v (%q), want %q", p.GetFamily(), f, FamilyRouteTarget)
	}
	n, err := apiutil.GetNativeNlri(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := n.String(); got != "65000:65000:100" {
		t.Errorf("NLRI %q, want 65000:65000:100", got)
	}
	if _, err := membershipPath(65000, "not-a-target", false); err == nil {
		t.Error("a malformed route target gave a path")
	}
}
