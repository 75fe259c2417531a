package bgp

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"

	api "github.com/osrg/gobgp/v3/api"

	"github.com/lsrd/lsrd/rib"
)

func TestPrefixListPermits(t *testing.T) {
	pfx := netip.MustParsePrefix
	l := PrefixList{Name: "customers", Rules: []PrefixRule{
		{Prefix: pfx("198.51.100.0/24"), Deny: true},   // exactly the /24
		{Prefix: pfx("198.51.100.0/22"), LE: 26},       // /22../26 inside
		{Prefix: pfx("10.0.0.0/8"), GE: 32},            // host routes only
		{Prefix: pfx("2001:db8::/32"), GE: 48, LE: 56}, // IPv6 /48../56
		{Prefix: pfx("0.0.0.0/0"), LE: 32, Deny: true}, // the rest, said aloud
		{Prefix: pfx("203.0.113.0/24")},                // never reached
	}}
	tests := []struct {
		prefix string
		want   bool
	}{
		{"198.51.100.0/24", false}, // first rule denies
		{"198.51.101.0/24", true},
		{"198.51.100.0/22", true},
		{"198.51.100.64/26", true},
		{"198.51.100.64/27", false}, // longer than le 26: falls to the deny-all
		{"10.1.2.3/32", true},
		{"10.1.2.0/24", false},
		{"2001:db8:1::/48", true},
		{"2001:db8:1::/64", false}, // no IPv4 rule matches IPv6, no rule left: denied
		{"203.0.113.0/24", false},  // the deny-all came first
		{"::/0", false},
	}
	for _, tt := range tests {
		if got := l.Permits(pfx(tt.prefix)); got != tt.want {
			t.Errorf("Permits(%s) = %v, want %v", tt.prefix, got, tt.want)
		}
	}
}

func TestPrefixListValidate(t *testing.T) {
	pfx := netip.MustParsePrefix
	tests := []struct {
		name string
		cfg  func(*Config)
		want string
	}{
		{"valid", func(*Config) {}, ""},
		{"unnamed list", func(c *Config) { c.PrefixLists[0].Name = "" }, "bgp.prefix_lists[0].name: missing"},
		{"two lists one name", func(c *Config) { c.PrefixLists = append(c.PrefixLists, c.PrefixLists[0]) }, `bgp.prefix_lists[1].name: "in" is also prefix_lists[0]`},
		{"host bits", func(c *Config) { c.PrefixLists[0].Rules[0].Prefix = pfx("10.1.2.3/8") }, "bgp.prefix_lists[0].rules[0].prefix: 10.1.2.3/8 has host bits set"},
		{"no prefix", func(c *Config) { c.PrefixLists[0].Rules[0].Prefix = netip.Prefix{} }, "bgp.prefix_lists[0].rules[0].prefix: missing"},
		{"ge not longer", func(c *Config) { c.PrefixLists[0].Rules[0].GE = 8 }, "bgp.prefix_lists[0].rules[0].ge: 8 must be longer than the prefix's /8"},
		{"ge too long", func(c *Config) { c.PrefixLists[0].Rules[0].GE = 33 }, "rules[0].ge: 33"},
		{"le shorter", func(c *Config) { c.PrefixLists[0].Rules[0].LE = 7 }, "bgp.prefix_lists[0].rules[0].le: 7"},
		{"le under ge", func(c *Config) { c.PrefixLists[0].Rules[0].GE, c.PrefixLists[0].Rules[0].LE = 24, 16 }, "le: 16 is shorter than ge 24"},
		{"unknown import", func(c *Config) { c.Neighbors[0].Import = "nope" }, `bgp.neighbors[0].import: no prefix list named "nope"`},
		{"unknown export", func(c *Config) { c.Neighbors[1].Export = "nope" }, `bgp.neighbors[1].export: no prefix list named "nope"`},
		{"labelled unicast", func(c *Config) { c.Neighbors[0].Families = []string{"ipv4-labeled-unicast"} }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			c.PrefixLists = []PrefixList{{Name: "in", Rules: []PrefixRule{{Prefix: pfx("10.0.0.0/8"), LE: 24}}}}
			c.Neighbors[0].Import = "in"
			tt.cfg(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate() = %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

// The policy lsrd builds is one GoBGP accepts, with each list's rules in
// order for the neighbours that name it.
func TestPoliciesAcceptedByGoBGP(t *testing.T) {
	pfx := netip.MustParsePrefix
	cfg := validConfig()
	cfg.ListenPort = -1
	cfg.PrefixLists = []PrefixList{
		{Name: "in", Rules: []PrefixRule{{Prefix: pfx("10.0.0.0/8"), LE: 24}, {Prefix: pfx("10.0.0.0/8"), GE: 25, Deny: true}}},
		{Name: "out", Rules: []PrefixRule{{Prefix: pfx("1.1.1.1/32")}}},
	}
	cfg.Neighbors[0].Import, cfg.Neighbors[0].Export = "in", "out"
	cfg.Neighbors[1].Address = netip.MustParseAddr("192.0.2.9")
	cfg.Neighbors[1].Families = nil
	s, err := New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	statements := func(name string) []string {
		var out []string
		err := s.server.ListPolicy(ctx, &api.ListPolicyRequest{Name: name}, func(p *api.Policy) {
			for _, st := range p.Statements {
				out = append(out, st.Name+":"+st.GetActions().GetRouteAction().String())
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	wantImport := []string{
		"neighbor-10.0.0.2-list-in-0:ACCEPT", "neighbor-10.0.0.2-list-in-1:REJECT", "neighbor-10.0.0.2-list-in-end:REJECT",
	}
	if got := statements(importPolicy); !slices.Equal(got, wantImport) {
		t.Errorf("import statements %v, want %v", got, wantImport)
	}
	wantExport := []string{"no-labeled-transit-1:REJECT", "no-labeled-transit-2:REJECT",
		"neighbor-10.0.0.2-list-out-0:ACCEPT", "neighbor-10.0.0.2-list-out-end:REJECT"}
	if got := statements(exportPolicy); !slices.Equal(got, wantExport) {
		t.Errorf("export statements %v, want %v", got, wantExport)
	}

	// A reload changing a list re-installs the policy.
	cfg2 := cfg
	cfg2.PrefixLists = []PrefixList{cfg.PrefixLists[0], {Name: "out", Rules: []PrefixRule{{Prefix: pfx("1.1.1.1/32")}, {Prefix: pfx("10.7.0.0/16")}}}}
	if err := s.Apply(ctx, cfg2); err != nil {
		t.Fatal(err)
	}
	wantExport = slices.Insert(wantExport, 3, "neighbor-10.0.0.2-list-out-1:ACCEPT")
	if got := statements(exportPolicy); !slices.Equal(got, wantExport) {
		t.Errorf("export statements after reload %v, want %v", got, wantExport)
	}
	if got := policyNeighbors(cfg, cfg2); !slices.Equal(got, []netip.Addr{netip.MustParseAddr("10.0.0.2")}) {
		t.Errorf("policyNeighbors = %v, want the neighbour using list out", got)
	}
}

func TestFamilyMerge(t *testing.T) {
	p := netip.MustParsePrefix("10.9.0.0/16")
	uni := Update{Route: bgpTestRoute(p, "10.0.0.2")}
	lu := Update{Route: bgpTestRoute(p, "10.0.0.3")}
	lu.Route.Labels = []uint32{100}
	gone := Update{Withdrawn: true, Route: bgpTestRoute(p, "")}
	m := newFamilyMerge()
	steps := []struct {
		name    string
		in      Update
		labeled bool
		want    Update
		ok      bool
	}{
		{"unicast alone", uni, false, uni, true},
		{"labelled wins", lu, true, lu, true},
		{"unicast again: hidden", uni, false, Update{}, false},
		{"unicast withdrawn: hidden", gone, false, Update{}, false},
		{"labelled withdrawn: nothing left", gone, true, gone, true},
		{"unicast back", uni, false, uni, true},
		{"labelled back", lu, true, lu, true},
		{"labelled withdrawn: unicast again", gone, true, uni, true},
	}
	for _, s := range steps {
		got, ok := m.put(s.in, s.labeled)
		if ok != s.ok || !slices.Equal(got.Route.Labels, s.want.Route.Labels) || got.Withdrawn != s.want.Withdrawn ||
			!slices.Equal(got.Route.NextHops, s.want.Route.NextHops) {
			t.Fatalf("%s: put = %+v, %v; want %+v, %v", s.name, got, ok, s.want, s.ok)
		}
	}
}

func bgpTestRoute(p netip.Prefix, nh string) rib.Route {
	r := rib.Route{Prefix: p, Source: rib.SourceBGP, Distance: 20}
	if nh != "" {
		r.NextHops = []rib.NextHop{{Addr: netip.MustParseAddr(nh)}}
	}
	return r
}
