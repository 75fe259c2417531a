package daemon

import (
	"net/netip"
	"testing"

	"github.com/lsrd/lsrd/rib"
)

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
		f, err := allocatePolicy(tt.policy, tt.bgpHosts)
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
	if _, err := allocatePolicy("everything", false); err == nil {
		t.Error("unknown policy accepted")
	}
}
