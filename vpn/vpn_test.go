package vpn

import (
	"bytes"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/lsrd/lsrd/bgp"
	"github.com/lsrd/lsrd/fib"
)

var (
	pe1 = netip.MustParseAddr("1.1.1.1") // us
	pe3 = netip.MustParseAddr("3.3.3.3")
	pe4 = netip.MustParseAddr("4.4.4.4")
)

// lsps is LDP's FTN as the tests set it: next hops per provider edge.
type lsps map[netip.Addr][]fib.NextHop

func (l lsps) get(a netip.Addr) ([]fib.NextHop, bool) {
	h, ok := l[a]
	return h, ok
}

func lsp(label fib.Label) []fib.NextHop {
	return []fib.NextHop{{Addr: netip.MustParseAddr("10.0.1.2"), Ifname: "core0", Labels: []fib.Label{label}}}
}

func newState(t *testing.T, l lsps, log *bytes.Buffer, vrfs ...VRF) *State {
	t.Helper()
	cfg := Config{LocalAddress: pe1, LabelMin: 1000, LabelMax: 1009}
	if log != nil {
		cfg.Log = slog.New(slog.NewTextHandler(log, nil))
	}
	s, err := New(cfg, l.get)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetVRFs(vrfs); err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	red  = VRF{Name: "red", Table: 10, RD: "65000:1", ImportRTs: []string{"65000:100"}, ExportRTs: []string{"65000:100"}, ExportConnected: true, ExportStatic: true}
	blue = VRF{Name: "blue", Table: 20, RD: "65000:2", ImportRTs: []string{"65000:200"}, ExportRTs: []string{"65000:200"}, ExportConnected: true}
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func remote(rd, prefix string, label uint32, pe netip.Addr, rts ...string) bgp.VPNRoute {
	return bgp.VPNRoute{RD: rd, Prefix: pfx(prefix), Label: label, NextHop: pe, RTs: rts, Neighbor: pe}
}

func TestExportsAndVRFLabel(t *testing.T) {
	s := newState(t, lsps{}, nil, red, blue)
	must(t, s.SetLocal("red", []LocalRoute{{Prefix: pfx("10.10.1.0/24"), Connected: true}, {Prefix: pfx("192.0.2.0/24")}}))
	must(t, s.SetLocal("blue", []LocalRoute{{Prefix: pfx("10.10.1.0/24"), Connected: true}, {Prefix: pfx("198.51.100.0/24")}}))
	if !s.ExportsChanged() {
		t.Fatal("ExportsChanged false after local routes came")
	}
	ex := s.Exports()
	got := map[string]bgp.VPNRoute{}
	for _, r := range ex {
		got[r.RD+" "+r.Prefix.String()] = r
	}
	// blue exports connected routes only.
	if len(ex) != 3 {
		t.Fatalf("exports %v, want 3 (red's two, blue's connected one)", ex)
	}
	r, b := got["65000:1 10.10.1.0/24"], got["65000:2 10.10.1.0/24"]
	if r.Label == 0 || b.Label == 0 || r.Label == b.Label {
		t.Fatalf("red's label %d, blue's %d: want one label each", r.Label, b.Label)
	}
	if got["65000:1 192.0.2.0/24"].Label != r.Label {
		t.Errorf("per-vrf: red's routes carry labels %d and %d", r.Label, got["65000:1 192.0.2.0/24"].Label)
	}
	if r.NextHop != pe1 || !slices.Equal(r.RTs, []string{"65000:100"}) {
		t.Errorf("red's export %+v: want next hop %s and RT 65000:100", r, pe1)
	}
	if _, ok := got["65000:2 198.51.100.0/24"]; ok {
		t.Error("blue exported a static route; it exports connected ones only")
	}
	lfib := s.LFIB()
	for _, c := range []struct {
		vrf   string
		label uint32
	}{{"red", r.Label}, {"blue", b.Label}} {
		e, ok := lfib[fib.Label(c.label)]
		if !ok || len(e.NextHops) != 1 || e.NextHops[0].Ifname != c.vrf || e.NextHops[0].Addr.IsValid() || len(e.NextHops[0].Labels) != 0 {
			t.Errorf("label %d: %+v, want a pop into %s", c.label, e, c.vrf)
		}
	}
	if s.ExportsChanged() || s.LFIBChanged() {
		t.Error("changed flags still set after Exports and LFIB")
	}
}

func TestPerPrefixLabels(t *testing.T) {
	v := red
	v.PerPrefix = true
	s := newState(t, lsps{}, nil, v)
	must(t, s.SetLocal("red", []LocalRoute{{Prefix: pfx("10.10.1.0/24"), Connected: true}, {Prefix: pfx("10.10.2.0/24"), Connected: true}}))
	ex := s.Exports()
	if len(ex) != 2 || ex[0].Label == ex[1].Label {
		t.Fatalf("exports %v: want two prefixes with a label each", ex)
	}
	if n := len(s.LFIB()); n != 2 {
		t.Fatalf("%d label routes, want 2", n)
	}
	must(t, s.SetLocal("red", []LocalRoute{{Prefix: pfx("10.10.2.0/24"), Connected: true}}))
	if !s.LFIBChanged() {
		t.Fatal("a prefix went and LFIB did not change")
	}
	lfib := s.LFIB()
	if _, ok := lfib[fib.Label(ex[0].Label)]; ok || len(lfib) != 1 {
		t.Errorf("label routes %v after 10.10.1.0/24 went: want %d alone", lfib, ex[1].Label)
	}
}

// TestLabelsRepeatable: two starts with the same configuration and tables
// hand out the same labels (a restart re-advertises what the other
// provider edges already push).
func TestLabelsRepeatable(t *testing.T) {
	labels := func() map[string]uint32 {
		pp := red
		pp.PerPrefix = true
		s := newState(t, lsps{}, nil, blue, pp)
		var local []LocalRoute
		for i := range 8 { // the range holds 10: blue's label and 8 of red's
			local = append(local, LocalRoute{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(7 - i), 0}), 24), Connected: true})
		}
		must(t, s.SetLocal("red", local))
		must(t, s.SetLocal("blue", local[:3]))
		out := map[string]uint32{}
		for _, r := range s.Exports() {
			out[r.RD+" "+r.Prefix.String()] = r.Label
		}
		return out
	}
	a, b := labels(), labels()
	if len(a) != 11 || !maps.Equal(a, b) {
		t.Errorf("two starts gave %v and %v", a, b)
	}
}

func TestLabelRangeExhausted(t *testing.T) {
	v := red
	v.PerPrefix = true
	s := newState(t, lsps{}, nil, v)
	var local []LocalRoute
	for i := range 11 { // the range holds 10
		local = append(local, LocalRoute{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(i), 0}), 24), Connected: true})
	}
	err := s.SetLocal("red", local)
	if err == nil || !strings.Contains(err.Error(), "exhausted") {
		t.Fatalf("11 per-prefix labels from a range of 10: err %v, want exhausted", err)
	}
	if n := len(s.Exports()); n != 10 {
		t.Errorf("%d exports, want the 10 that got a label", n)
	}
}

func TestImportByRouteTarget(t *testing.T) {
	var log bytes.Buffer
	l := lsps{pe3: lsp(300), pe4: lsp(400)}
	s := newState(t, l, &log, red, blue)
	s.TakeChanges()
	// The same customer prefix in two VPNs: each VRF takes its own.
	s.Update([]bgp.VPNRoute{
		remote("65000:31", "10.20.0.0/24", 31, pe3, "65000:100"),
		remote("65000:32", "10.20.0.0/24", 32, pe3, "65000:200"),
		remote("65000:41", "10.30.0.0/24", 41, pe4, "65000:999"), // nobody's
	})
	ch := s.TakeChanges()
	wantRoute := func(vrf string, label fib.Label, lspLabel fib.Label) {
		t.Helper()
		e, ok := s.Route(vrf, pfx("10.20.0.0/24"))
		if !ok {
			t.Fatalf("%s has no route for 10.20.0.0/24", vrf)
		}
		if len(e.NextHops) != 1 || !slices.Equal(e.NextHops[0].Labels, []fib.Label{lspLabel, label}) || e.NextHops[0].Ifname != "core0" {
			t.Errorf("%s: %v, want labels %d/%d on core0", vrf, e.NextHops, lspLabel, label)
		}
		if d := ch[vrf].Delta[pfx("10.20.0.0/24")]; d == nil || !d.Equal(e) {
			t.Errorf("%s's changes lack the prefix: %v", vrf, ch[vrf])
		}
	}
	wantRoute("red", 31, 300)
	wantRoute("blue", 32, 300)
	for _, vrf := range []string{"red", "blue"} {
		if _, ok := s.Route(vrf, pfx("10.30.0.0/24")); ok {
			t.Errorf("%s imported a route whose only target is 65000:999", vrf)
		}
	}
	if !strings.Contains(log.String(), "no VRF imports") || !strings.Contains(log.String(), "65000:999") {
		t.Errorf("no log line for the route no VRF imports:\n%s", log.String())
	}
	// Withdrawn: the prefix leaves red's table, as a delta.
	s.Update([]bgp.VPNRoute{{RD: "65000:31", Prefix: pfx("10.20.0.0/24"), Withdrawn: true}})
	ch = s.TakeChanges()
	if e, ok := ch["red"].Delta[pfx("10.20.0.0/24")]; !ok || e != nil || ch["red"].Full {
		t.Errorf("after the withdrawal red's changes are %+v, want the prefix removed", ch["red"])
	}
	if _, ok := ch["blue"]; ok {
		t.Errorf("blue changed with a route it does not import: %+v", ch["blue"])
	}
}

func TestLSPFollowed(t *testing.T) {
	l := lsps{}
	s := newState(t, l, nil, red)
	s.TakeChanges()
	s.Update([]bgp.VPNRoute{remote("65000:31", "10.20.0.0/24", 31, pe3, "65000:100")})
	if _, ok := s.Route("red", pfx("10.20.0.0/24")); ok {
		t.Fatal("a route is installed with no LSP to its provider edge")
	}
	if v := s.View(); v[0].Imported != 1 || v[0].Installed != 0 {
		t.Errorf("view %+v: want 1 imported, 0 installed", v[0])
	}
	s.TakeChanges()
	// The LSP comes, with implicit null (the PE next door): the VPN label
	// alone.
	l[pe3] = lsp(fib.LabelImplicitNull)
	s.LSPChanged(pe3)
	ch := s.TakeChanges()
	e := ch["red"].Delta[pfx("10.20.0.0/24")]
	if e == nil || !slices.Equal(e.NextHops[0].Labels, []fib.Label{31}) {
		t.Fatalf("after the LSP came: %+v, want the VPN label 31 alone", e)
	}
	l[pe3] = lsp(500)
	s.LSPChanged(pe3)
	e = s.TakeChanges()["red"].Delta[pfx("10.20.0.0/24")]
	if e == nil || !slices.Equal(e.NextHops[0].Labels, []fib.Label{500, 31}) {
		t.Fatalf("after the LSP's label changed: %+v, want 500/31", e)
	}
	s.LSPChanged(pe4) // nobody behind it
	if ch := s.TakeChanges(); len(ch) != 0 {
		t.Errorf("an LSP with no VRF route behind it changed %v", ch)
	}
	delete(l, pe3)
	s.LSPChanged(pe3)
	if e, ok := s.TakeChanges()["red"].Delta[pfx("10.20.0.0/24")]; !ok || e != nil {
		t.Errorf("after the LSP went: %v %v, want the route removed", e, ok)
	}
}

func TestChooseAndLocalWins(t *testing.T) {
	l := lsps{pe4: lsp(400)}
	s := newState(t, l, nil, red)
	// Two provider edges for one prefix: the one with an LSP wins; with
	// both, the lower address.
	s.Update([]bgp.VPNRoute{
		remote("65000:31", "10.20.0.0/24", 31, pe3, "65000:100"),
		remote("65000:41", "10.20.0.0/24", 41, pe4, "65000:100"),
	})
	if e, _ := s.Route("red", pfx("10.20.0.0/24")); e.NextHops == nil || e.NextHops[0].Labels[1] != 41 {
		t.Errorf("with an LSP to pe4 only: %+v, want pe4's label 41", e)
	}
	l[pe3] = lsp(300)
	s.LSPChanged(pe3)
	if e, _ := s.Route("red", pfx("10.20.0.0/24")); e.NextHops == nil || e.NextHops[0].Labels[1] != 31 {
		t.Errorf("with LSPs to both: %+v, want the lower provider edge's label 31", e)
	}
	must(t, s.SetLocal("red", []LocalRoute{{Prefix: pfx("10.20.0.0/24")}}))
	if _, ok := s.Route("red", pfx("10.20.0.0/24")); ok {
		t.Error("an imported route is installed over the VRF's own route for the prefix")
	}
}

func TestRefused(t *testing.T) {
	var log bytes.Buffer
	l := lsps{pe3: lsp(300), pe1: lsp(100)}
	s := newState(t, l, &log, red)
	s.Update([]bgp.VPNRoute{
		remote("65000:1", "10.20.0.0/24", 31, pe3, "65000:100"), // red's own RD
		remote("65000:9", "10.21.0.0/24", 31, pe1, "65000:100"), // our own address
	})
	for _, p := range []string{"10.20.0.0/24", "10.21.0.0/24"} {
		if _, ok := s.Route("red", pfx(p)); ok {
			t.Errorf("%s imported", p)
		}
	}
	if !strings.Contains(log.String(), "route distinguisher of a local VRF") {
		t.Errorf("no log line for the RD clash:\n%s", log.String())
	}
	if n := len(s.Routes()); n != 0 {
		t.Errorf("%d routes listed, want none", n)
	}
}

func TestSixVPE(t *testing.T) {
	l := lsps{pe3: lsp(300)}
	s := newState(t, l, nil, red)
	s.Update([]bgp.VPNRoute{remote("65000:31", "2001:db8:20::/48", 31, pe3, "65000:100")})
	e, ok := s.Route("red", pfx("2001:db8:20::/48"))
	if !ok {
		t.Fatal("no route for the IPv6 prefix")
	}
	h := e.NextHops[0]
	if h.Addr != netip.MustParseAddr("::ffff:10.0.1.2") || !slices.Equal(h.Labels, []fib.Label{300, 31}) {
		t.Errorf("IPv6 over IPv4: %v, want ::ffff:10.0.1.2 with 300/31", h)
	}
}

func TestVRFRemovedAndReimported(t *testing.T) {
	l := lsps{pe3: lsp(300)}
	s := newState(t, l, nil, red, blue)
	must(t, s.SetLocal("red", []LocalRoute{{Prefix: pfx("10.10.1.0/24"), Connected: true}}))
	s.Update([]bgp.VPNRoute{remote("65000:31", "10.20.0.0/24", 31, pe3, "65000:200")})
	s.Exports()
	s.LFIB()
	if _, ok := s.Route("red", pfx("10.20.0.0/24")); ok {
		t.Fatal("red imported a route of 65000:200")
	}
	r2 := red
	r2.ImportRTs = []string{"65000:100", "65000:200"}
	must(t, s.SetVRFs([]VRF{r2}))
	if _, ok := s.Route("red", pfx("10.20.0.0/24")); !ok {
		t.Error("red does not import 65000:200 after it was added to its import targets")
	}
	if _, ok := s.TakeChanges()["red"]; !ok {
		t.Error("red's table did not change with its import targets")
	}
	if names := s.VRFNames(); !slices.Equal(names, []string{"red"}) {
		t.Errorf("VRFs %v after blue was removed", names)
	}
	if n := len(s.LFIB()); n != 1 {
		t.Errorf("%d label routes after blue was removed, want red's", n)
	}
	if len(s.byPE[pe3]) != 1 {
		t.Errorf("index by provider edge %v: want red's prefix alone", s.byPE)
	}
}

// TestChangesMatchTable applies random events and checks that the tables
// built from TakeChanges equal each VRF's table built whole.
func TestChangesMatchTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pes := []netip.Addr{pe3, pe4, netip.MustParseAddr("5.5.5.5")}
	l := lsps{}
	vrfs := []VRF{red, blue}
	s := newState(t, l, nil, vrfs...)
	applied := map[string]map[netip.Prefix]fib.FTNEntry{}
	apply := func() {
		for name, c := range s.TakeChanges() {
			if c.Full {
				applied[name] = maps.Clone(c.Table)
				continue
			}
			for p, e := range c.Delta {
				if e == nil {
					delete(applied[name], p)
				} else {
					applied[name][p] = *e
				}
			}
		}
	}
	rts := []string{"65000:100", "65000:200", "65000:300"}
	for i := range 3000 {
		switch rng.IntN(6) {
		case 0, 1, 2:
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(rng.IntN(8)), 0}), 24)
			r := remote(fmt.Sprintf("65000:%d", rng.IntN(3)+10), p.String(), uint32(16+rng.IntN(100)), pes[rng.IntN(3)], rts[rng.IntN(3)])
			r.Withdrawn = rng.IntN(4) == 0
			s.Update([]bgp.VPNRoute{r})
		case 3:
			pe := pes[rng.IntN(3)]
			if rng.IntN(2) == 0 {
				delete(l, pe)
			} else {
				l[pe] = lsp(fib.Label(16 + rng.IntN(50)))
			}
			s.LSPChanged(pe)
		case 4:
			v := vrfs[rng.IntN(2)]
			var local []LocalRoute
			for range rng.IntN(3) {
				local = append(local, LocalRoute{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(rng.IntN(8)), 0}), 24)})
			}
			must(t, s.SetLocal(v.Name, local))
		case 5:
			v := vrfs[rng.IntN(2)]
			v.ImportRTs = []string{rts[rng.IntN(3)]}
			vrfs[slices.IndexFunc(vrfs, func(x VRF) bool { return x.Name == v.Name })] = v
			must(t, s.SetVRFs(vrfs))
		}
		if rng.IntN(3) == 0 || i == 2999 {
			apply()
			for _, name := range s.VRFNames() {
				want := s.Table(name)
				if !maps.EqualFunc(applied[name], want, fib.FTNEntry.Equal) {
					t.Fatalf("step %d, %s: tables from the changes %v, built whole %v", i, name, applied[name], want)
				}
			}
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestPerPrefixLabelForwardsToGateways: a per-prefix label of a route
// through a gateway pops to that gateway; a connected prefix's label pops
// into the VRF for a lookup; a new gateway moves the label route.
func TestPerPrefixLabelForwardsToGateways(t *testing.T) {
	v := red
	v.PerPrefix = true
	s := newState(t, lsps{}, nil, v)
	ce := []fib.NextHop{{Addr: netip.MustParseAddr("10.10.1.2"), Ifname: "ce1"}}
	must(t, s.SetLocal("red", []LocalRoute{
		{Prefix: pfx("10.10.1.0/24"), Connected: true, NextHops: []fib.NextHop{{Ifname: "ce1"}}},
		{Prefix: pfx("192.168.1.0/24"), NextHops: ce},
	}))
	labels := map[string]fib.Label{}
	for _, e := range s.Exports() {
		labels[e.Prefix.String()] = fib.Label(e.Label)
	}
	lfib := s.LFIB()
	if got := lfib[labels["192.168.1.0/24"]].NextHops; !slices.EqualFunc(got, ce, fib.NextHop.Equal) {
		t.Errorf("192.168.1.0/24's label pops to %v, want the CE %v", got, ce)
	}
	if got := lfib[labels["10.10.1.0/24"]].NextHops; len(got) != 1 || got[0].Ifname != "red" || got[0].Addr.IsValid() {
		t.Errorf("10.10.1.0/24's label pops to %v, want a lookup in red", got)
	}
	ce2 := []fib.NextHop{{Addr: netip.MustParseAddr("10.10.1.3"), Ifname: "ce1"}}
	must(t, s.SetLocal("red", []LocalRoute{
		{Prefix: pfx("10.10.1.0/24"), Connected: true, NextHops: []fib.NextHop{{Ifname: "ce1"}}},
		{Prefix: pfx("192.168.1.0/24"), NextHops: ce2},
	}))
	if !s.LFIBChanged() {
		t.Fatal("the gateway moved and LFIB did not change")
	}
	if got := s.LFIB()[labels["192.168.1.0/24"]].NextHops; !slices.EqualFunc(got, ce2, fib.NextHop.Equal) {
		t.Errorf("after the move 192.168.1.0/24's label pops to %v, want %v", got, ce2)
	}
}

// Among the routes a VRF imports for one prefix under several RDs (a site
// multihomed to two provider edges), BGP's attributes decide before the
// provider edge's address: LOCAL_PREF, AS_PATH length, ORIGIN, then MED
// between paths from the same neighbouring AS; an LSP comes first of all.
// The choice does not depend on the order the routes came in.
func TestChooseByAttributes(t *testing.T) {
	pe5 := netip.MustParseAddr("5.5.5.5")
	route := func(label uint32, pe netip.Addr, change func(*bgp.VPNRoute)) bgp.VPNRoute {
		r := remote(fmt.Sprintf("65000:%d", label), "10.20.0.0/24", label, pe, "65000:100")
		r.LocalPref, r.FirstAS, r.ASPathLen = 100, 65010, 1
		if change != nil {
			change(&r)
		}
		return r
	}
	chosen := func(l lsps, rs ...bgp.VPNRoute) uint32 {
		t.Helper()
		s := newState(t, l, nil, red)
		s.Update(rs)
		e, ok := s.Route("red", pfx("10.20.0.0/24"))
		if !ok {
			t.Fatalf("no route for %+v", rs)
		}
		return uint32(e.NextHops[0].Labels[1])
	}
	all := lsps{pe3: lsp(300), pe4: lsp(400), pe5: lsp(500)}
	for _, c := range []struct {
		name string
		l    lsps
		rs   []bgp.VPNRoute
		want uint32
	}{
		{"equal: the lower provider edge", all, []bgp.VPNRoute{route(31, pe3, nil), route(41, pe4, nil)}, 31},
		{"higher LOCAL_PREF", all, []bgp.VPNRoute{route(31, pe3, nil), route(41, pe4, func(r *bgp.VPNRoute) { r.LocalPref = 200 })}, 41},
		{"an LSP before LOCAL_PREF", lsps{pe3: lsp(300)}, []bgp.VPNRoute{route(31, pe3, nil), route(41, pe4, func(r *bgp.VPNRoute) { r.LocalPref = 200 })}, 31},
		{"shorter AS_PATH", all, []bgp.VPNRoute{route(31, pe3, func(r *bgp.VPNRoute) { r.ASPathLen = 3 }), route(41, pe4, nil)}, 41},
		{"lower ORIGIN", all, []bgp.VPNRoute{route(31, pe3, func(r *bgp.VPNRoute) { r.Origin = 2 }), route(41, pe4, nil)}, 41},
		{"lower MED, same AS", all, []bgp.VPNRoute{route(31, pe3, func(r *bgp.VPNRoute) { r.MED = 20 }), route(41, pe4, func(r *bgp.VPNRoute) { r.MED = 10 })}, 41},
		{"MED of another AS not compared", all, []bgp.VPNRoute{route(31, pe3, func(r *bgp.VPNRoute) { r.MED = 20 }), route(41, pe4, func(r *bgp.VPNRoute) { r.MED, r.FirstAS = 10, 65020 })}, 31},
	} {
		if got := chosen(c.l, c.rs...); got != c.want {
			t.Errorf("%s: chose label %d, want %d", c.name, got, c.want)
		}
	}
	// Compared pairwise as they come, A (AS 65010, MED 10, pe3), B (AS
	// 65020, MED 5, pe4) and C (AS 65010, MED 5, pe5) give a winner that
	// depends on their order (A, B, C: A beats B by address, then C beats
	// A by MED). Per AS first: C over A, then B over C by address, in
	// every order.
	a := route(31, pe3, func(r *bgp.VPNRoute) { r.MED = 10 })
	b := route(41, pe4, func(r *bgp.VPNRoute) { r.MED, r.FirstAS = 5, 65020 })
	c := route(51, pe5, func(r *bgp.VPNRoute) { r.MED = 5 })
	for _, order := range [][]bgp.VPNRoute{{a, b, c}, {a, c, b}, {b, a, c}, {b, c, a}, {c, a, b}, {c, b, a}} {
		if got := chosen(all, order...); got != 41 {
			t.Errorf("routes in the order %d, %d, %d: chose label %d, want 41", order[0].Label, order[1].Label, order[2].Label, got)
		}
	}
}

// TestCustomerRoutes checks the routes learned from a customer's router
// over BGP (LocalRoute.BGP): exported only when the VRF exports kind bgp,
// and never advertised back to the customers, who are told the VRF's
// other local routes and the VPN routes it installs.
func TestCustomerRoutes(t *testing.T) {
	green := VRF{Name: "green", Table: 30, RD: "65000:3", ImportRTs: []string{"65000:300"}, ExportRTs: []string{"65000:300"},
		ExportConnected: true, ExportBGP: true}
	s := newState(t, lsps{pe3: lsp(20)}, nil, red, green)
	ce := LocalRoute{Prefix: pfx("192.168.1.0/24"), BGP: true,
		NextHops: []fib.NextHop{{Addr: netip.MustParseAddr("10.10.1.2"), Ifname: "eth1"}}}
	conn := LocalRoute{Prefix: pfx("10.10.1.0/24"), Connected: true}
	must(t, s.SetLocal("red", []LocalRoute{conn, ce}))
	must(t, s.SetLocal("green", []LocalRoute{conn, ce}))
	s.Update([]bgp.VPNRoute{remote("65000:33", "10.10.2.0/24", 5000, pe3, "65000:300", "65000:100"),
		remote("65000:34", "10.10.9.0/24", 5001, pe4, "65000:300")}) // pe4: no LSP
	exported := map[string]bool{}
	for _, r := range s.Exports() {
		exported[r.RD+" "+r.Prefix.String()] = true
	}
	// red (as in the other tests) exports connected and static routes,
	// not bgp; green exports connected and bgp.
	for k, want := range map[string]bool{
		"65000:1 10.10.1.0/24": true, "65000:1 192.168.1.0/24": false,
		"65000:3 10.10.1.0/24": true, "65000:3 192.168.1.0/24": true,
	} {
		if exported[k] != want {
			t.Errorf("export of %s: %v, want %v (exports %v)", k, exported[k], want, exported)
		}
	}
	for _, name := range []string{"red", "green"} {
		want := []netip.Prefix{pfx("10.10.1.0/24"), pfx("10.10.2.0/24")}
		if got := s.Advertised(name); !slices.Equal(got, want) {
			t.Errorf("%s advertises %v to its customers, want %v (not the customer's own route, nor one without an LSP)", name, got, want)
		}
	}
}
