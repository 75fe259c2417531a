package daemon

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/lsrd/lsrd/config"
	"github.com/lsrd/lsrd/rib"
)

// BGP routes never reach the LDP engine under the default policy, except
// to take away a route the engine holds for the same prefix.
func TestLDPRoutesFilter(t *testing.T) {
	pfx := netip.MustParsePrefix
	alloc, err := allocatePolicy(config.Labels{Allocate: "host-routes"})
	if err != nil {
		t.Fatal(err)
	}
	held := map[netip.Prefix]struct{}{}
	static := rib.Route{Prefix: pfx("3.3.3.3/32"), Source: rib.SourceStatic}
	bgpHost := rib.Route{Prefix: pfx("3.3.3.3/32"), Source: rib.SourceBGP}
	bgpNet := rib.Route{Prefix: pfx("198.51.100.0/24"), Source: rib.SourceBGP}
	for _, c := range []struct {
		cs   []rib.Change
		want string
	}{
		{[]rib.Change{{Prefix: static.Prefix, Best: static}, {Prefix: bgpNet.Prefix, Best: bgpNet}}, "updates [3.3.3.3/32] deletes []"},
		// The BGP route replaces the static one: LDP must drop its route.
		{[]rib.Change{{Prefix: bgpHost.Prefix, Best: bgpHost}}, "updates [] deletes [3.3.3.3/32]"},
		{[]rib.Change{{Prefix: bgpHost.Prefix, Deleted: true}, {Prefix: bgpNet.Prefix, Deleted: true}}, "updates [] deletes []"},
		{[]rib.Change{{Prefix: static.Prefix, Best: static}}, "updates [3.3.3.3/32] deletes []"},
		{[]rib.Change{{Prefix: static.Prefix, Deleted: true}}, "updates [] deletes [3.3.3.3/32]"},
	} {
		ev := ldpRoutes(c.cs, alloc, held)
		var ups []netip.Prefix
		for _, r := range ev.Updates {
			ups = append(ups, r.Prefix)
		}
		if got := fmt.Sprintf("updates %v deletes %v", ups, ev.Deletes); got != c.want {
			t.Errorf("%v: %s, want %s", c.cs, got, c.want)
		}
	}
	// With "all", every route goes.
	if ev := ldpRoutes([]rib.Change{{Prefix: bgpNet.Prefix, Best: bgpNet}}, nil, held); len(ev.Updates) != 1 {
		t.Errorf("allocate all: %v", ev)
	}
}
