package daemon

import (
	"net/netip"
	"testing"

	"github.com/lsrd/lsrd/config"
	"github.com/lsrd/lsrd/rib"
	"go.yaml.in/yaml/v3"
)

func yamlInto(s string, v any) error { return yaml.Unmarshal([]byte(s), v) }

func labels(policy string, bgpHosts bool) config.Labels {
	return config.Labels{Allocate: policy, BGPHostRoutes: bgpHosts}
}

func TestAllocatePolicy(t *testing.T) {
	route := func(src rib.Source, p string) rib.Route {
		return rib.Route{Source: src, Prefix: netip.MustParsePrefix(p)}
	}
	routes := map[string]rib.Route{
		"connected /24": route(rib.SourceConnected, "10.0.0.0/24"),
		"static /32":    route(rib.SourceStatic, "2.2.2.2/32"),
		"static /24":    route(rib.SourceStatic, "10.9.0.0/24"),
		"kernel /128":   route(rib.SourceKernel, "2001:db8::1/128"),
		"bgp /32":       route(rib.SourceBGP, "3.3.3.3/32"),
		"bgp /24":       route(rib.SourceBGP, "198.51.100.0/24"),
		"bgp /0":        route(rib.SourceBGP, "0.0.0.0/0"),
	}
	tests := []struct {
		policy   string
		bgpHosts bool
		labelled []string
	}{
		{"host-routes", false, []string{"connected /24", "static /32", "kernel /128"}},
		{"host-routes", true, []string{"connected /24", "static /32", "kernel /128", "bgp /32"}},
		{"all", false, []string{"connected /24", "static /32", "static /24", "kernel /128"}},
		{"all", true, []string{"connected /24", "static /32", "static /24", "kernel /128", "bgp /32"}},
	}
	for _, tt := range tests {
		f, err := allocatePolicy(labels(tt.policy, tt.bgpHosts))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for _, n := range tt.labelled {
			want[n] = true
		}
		for name, r := range routes {
			if got := f(r); got != want[name] {
				t.Errorf("%s (bgp-host-routes %v): %s gets a label: %v, want %v", tt.policy, tt.bgpHosts, name, got, want[name])
			}
		}
	}
	if _, err := allocatePolicy(labels("everything", false)); err == nil {
		t.Error("unknown policy accepted")
	}
}

// Labels by the IGP that installed a kernel route, and by prefix list: what
// operators write as "label only the loopbacks OSPF learned".
func TestAllocatePolicyByProtocolAndPrefixList(t *testing.T) {
	kernel := func(proto uint8, p string) rib.Route {
		return rib.Route{Source: rib.SourceKernel, Protocol: proto, Prefix: netip.MustParsePrefix(p)}
	}
	var lb config.Labels
	if err := yamlInto(`
allocate: all
protocols: [ospf, 12]
prefix-list:
  - {prefix: 10.255.0.0/16, le: 32}
  - {prefix: 192.0.2.0/24}
`, &lb); err != nil {
		t.Fatal(err)
	}
	f, err := allocatePolicy(lb)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		r    rib.Route
		want bool
	}{
		{kernel(188, "10.255.0.4/32"), true},  // zebra's OSPF loopback
		{kernel(12, "10.255.1.0/24"), true},   // BIRD's, in the list
		{kernel(187, "10.255.0.5/32"), false}, // IS-IS: not a listed protocol
		{kernel(188, "10.254.0.4/32"), false}, // outside the prefix list
		{kernel(188, "192.0.2.0/24"), true},   // exact entry
		{kernel(188, "192.0.2.0/25"), false},  // an exact entry matches only itself
		{rib.Route{Source: rib.SourceConnected, Prefix: netip.MustParsePrefix("10.255.9.0/24")}, true}, // protocols do not apply
		{rib.Route{Source: rib.SourceConnected, Prefix: netip.MustParsePrefix("10.0.9.0/24")}, false},  // the prefix list does
	} {
		if got := f(c.r); got != c.want {
			t.Errorf("%v protocol %d: labelled %v, want %v", c.r.Prefix, c.r.Protocol, got, c.want)
		}
	}
}
