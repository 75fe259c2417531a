package bgp

import (
	"net/netip"
	"reflect"
	"testing"
)

func TestDiffConfig(t *testing.T) {
	n := func(addr string, as uint32) Neighbor {
		return Neighbor{Address: netip.MustParseAddr(addr), RemoteAS: as}
	}
	p := netip.MustParsePrefix
	old := Config{
		AS:        65001,
		Neighbors: []Neighbor{n("10.0.0.2", 65002), n("10.0.0.6", 65003), n("10.0.0.10", 65004)},
		Networks:  []netip.Prefix{p("1.1.1.1/32"), p("10.1.0.0/24")},
	}
	changed := n("10.0.0.6", 65003)
	changed.Password = "secret"
	reordered := n("10.0.0.10", 65004)
	reordered.Families = []string{"ipv4-unicast"} // the default, spelled out
	cfg := Config{
		AS:        65001,
		Neighbors: []Neighbor{n("10.0.0.14", 65005), changed, reordered},
		Networks:  []netip.Prefix{p("1.1.1.1/32"), p("10.2.0.0/24")},
	}
	got := diffConfig(old, cfg)
	want := configDiff{
		addNeighbors:    []Neighbor{n("10.0.0.14", 65005)},
		removeNeighbors: []Neighbor{n("10.0.0.2", 65002)},
		changeNeighbors: []Neighbor{changed},
		addNetworks:     []netip.Prefix{p("10.2.0.0/24")},
		removeNetworks:  []netip.Prefix{p("10.1.0.0/24")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("diffConfig() =\n%+v\nwant\n%+v", got, want)
	}
	if d := diffConfig(cfg, cfg); !d.empty() {
		t.Fatalf("diffConfig(cfg, cfg) = %+v, want empty", d)
	}
	if d := diffConfig(Config{}, old); len(d.addNeighbors) != 3 || len(d.addNetworks) != 2 || len(d.removeNeighbors)+len(d.changeNeighbors)+len(d.removeNetworks) != 0 {
		t.Fatalf("diffConfig(empty, old) = %+v", d)
	}
}

func TestSameNeighbor(t *testing.T) {
	a := Neighbor{Address: netip.MustParseAddr("10.0.0.2"), RemoteAS: 65002, Families: []string{"ipv4-unicast", "ipv6-unicast"}}
	b := a
	b.Families = []string{"ipv6-unicast", "ipv4-unicast"}
	if !sameNeighbor(a, b) {
		t.Error("family order made neighbours differ")
	}
	b.Import, b.Export = "in", "out"
	if !sameNeighbor(a, b) {
		t.Error("prefix lists made neighbours differ: a list change must not reset the session")
	}
	for name, change := range map[string]func(*Neighbor){
		"as":       func(n *Neighbor) { n.RemoteAS = 65003 },
		"password": func(n *Neighbor) { n.Password = "x" },
		"passive":  func(n *Neighbor) { n.Passive = true },
		"multihop": func(n *Neighbor) { n.MultihopTTL = 2 },
		"families": func(n *Neighbor) { n.Families = nil },
		"ttl sec":  func(n *Neighbor) { n.TTLSecurityHops = 1 },
	} {
		c := a
		change(&c)
		if sameNeighbor(a, c) {
			t.Errorf("%s change not seen", name)
		}
	}
}

// Graceful restart is negotiated in the OPEN: changing it resets every
// neighbour's session, and only then.
func TestDiffConfigGracefulRestart(t *testing.T) {
	n := Neighbor{Address: netip.MustParseAddr("10.0.0.2"), RemoteAS: 65002}
	old := Config{AS: 65001, Neighbors: []Neighbor{n}}
	cfg := old
	cfg.GracefulRestart = GracefulRestart{Enabled: true}
	d := diffConfig(old, cfg)
	if !reflect.DeepEqual(d.changeNeighbors, []Neighbor{n}) || len(d.addNeighbors)+len(d.removeNeighbors) != 0 {
		t.Fatalf("enabling graceful restart: %+v, want neighbour 10.0.0.2 changed", d)
	}
	// The neighbours added again get the new configuration's capability.
	if d := diffConfig(cfg, old); d.gr.Enabled {
		t.Fatalf("disabling graceful restart: the changed neighbours would get %+v", d.gr)
	}
	if d := diffConfig(cfg, cfg); !d.empty() {
		t.Fatalf("same graceful restart: %+v, want no change", d)
	}
}
