package bgp

import (
	"context"
	api "github.com/osrg/gobgp/v3/api"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lsrd/lsrd/rib"
)

// collector records what a Speaker hands to onRoutes.
type collector struct {
	mu      sync.Mutex
	updates []Update
}

func (c *collector) onRoutes(us []Update) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.updates = append(c.updates, us...)
}

// waitFor waits until an update for prefix arrived that satisfies ok.
func (c *collector) waitFor(t *testing.T, prefix string, ok func(Update) bool) Update {
	t.Helper()
	p := netip.MustParsePrefix(prefix)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for _, u := range c.updates {
			if u.Route.Prefix == p && ok(u) {
				c.mu.Unlock()
				return u
			}
		}
		c.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no update for %s; got %+v", prefix, c.updates)
	return Update{}
}

// goroutines counts live goroutines, leaving out GoBGP's Serve loop, which
// cannot be stopped in GoBGP v3 (see Speaker.Start).
func goroutines() (int, string) {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	var kept []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "(*BgpServer).Serve(") {
			continue
		}
		n++
		kept = append(kept, g)
	}
	return n, strings.Join(kept, "\n\n")
}

func TestSpeakerLifecycle(t *testing.T) {
	before, _ := goroutines()
	var c collector
	cfg := Config{
		AS:         65001,
		RouterID:   netip.MustParseAddr("1.1.1.1"),
		ListenPort: -1,
		Networks:   []netip.Prefix{netip.MustParsePrefix("1.1.1.1/32")},
	}
	s, err := New(cfg, nil, c.onRoutes)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err == nil {
		t.Error("second Start succeeded")
	}
	// Our own network is best in GoBGP but is no BGP route for the RIB.
	c.waitFor(t, "1.1.1.1/32", func(u Update) bool { return u.Withdrawn && u.Route.Source == rib.SourceBGP })

	cfg2 := cfg
	cfg2.Networks = []netip.Prefix{netip.MustParsePrefix("10.1.0.0/24")}
	// TEST-NET-1: the dial never succeeds, the neighbour stays configured.
	cfg2.Neighbors = []Neighbor{{Address: netip.MustParseAddr("192.0.2.1"), RemoteAS: 65002}}
	if err := s.Apply(ctx, cfg2); err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, "10.1.0.0/24", func(u Update) bool { return u.Withdrawn })
	ns, err := s.Neighbors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != 1 || ns[0].Address != netip.MustParseAddr("192.0.2.1") || ns[0].RemoteAS != 65002 || ns[0].State == "established" || ns[0].State == "unknown" {
		t.Fatalf("Neighbors() = %+v", ns)
	}
	// Both families' paths of the old network are gone, the new one's are there.
	for _, fam := range []string{FamilyIPv4Unicast, FamilyIPv4LabeledUnicast} {
		var got []string
		err := s.server.ListPath(ctx, &api.ListPathRequest{TableType: api.TableType_GLOBAL, Family: apiFamily(fam)},
			func(d *api.Destination) { got = append(got, d.GetPrefix()) })
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, []string{"10.1.0.0/24"}) {
			t.Fatalf("%s paths after Apply: %v, want [10.1.0.0/24]", fam, got)
		}
	}

	for name, change := range map[string]func(*Config){
		"as":          func(c *Config) { c.AS = 65009 },
		"router_id":   func(c *Config) { c.RouterID = netip.MustParseAddr("9.9.9.9") },
		"listen_port": func(c *Config) { c.ListenPort = 0 },
		"invalid":     func(c *Config) { c.Neighbors = append(c.Neighbors, c.Neighbors[0]) },
	} {
		bad := cfg2
		bad.Neighbors = append([]Neighbor{}, cfg2.Neighbors...)
		change(&bad)
		if err := s.Apply(ctx, bad); err == nil {
			t.Errorf("Apply with a new %s succeeded", name)
		}
	}
	// Removing the neighbour again.
	if err := s.Apply(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if ns, err := s.Neighbors(ctx); err != nil || len(ns) != 0 {
		t.Fatalf("Neighbors() after removal = %+v, %v", ns, err)
	}

	s.Stop()
	s.Stop() // idempotent
	if _, err := s.Neighbors(ctx); err == nil {
		t.Error("Neighbors after Stop succeeded")
	}
	var after int
	var dump string
	for range 200 {
		if after, dump = goroutines(); after <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%d goroutines before, %d after Stop:\n%s", before, after, dump)
}

func TestNewRejectsInvalid(t *testing.T) {
	if _, err := New(Config{}, nil, nil); err == nil {
		t.Fatal("New(Config{}) succeeded")
	}
}

func TestQueueCoalesces(t *testing.T) {
	q := newUpdateQueue()
	p := netip.MustParsePrefix("10.0.0.0/8")
	p2 := netip.MustParsePrefix("10.1.0.0/16")
	q.put([]Update{{Route: rib.Route{Prefix: p, Distance: 20}}, {Route: rib.Route{Prefix: p2}}})
	q.put([]Update{{Route: rib.Route{Prefix: p}, Withdrawn: true}})
	got := q.take()
	if len(got) != 2 || got[0].Route.Prefix != p || !got[0].Withdrawn || got[1].Route.Prefix != p2 {
		t.Fatalf("take() = %+v", got)
	}
	if got := q.take(); len(got) != 0 {
		t.Fatalf("second take() = %+v", got)
	}
}

// End-of-RIB markers never overtake an update put before them, and two
// markers are both kept (they are not keyed by prefix).
func TestQueueMarkersFollowUpdates(t *testing.T) {
	q := newUpdateQueue()
	p := netip.MustParsePrefix("10.0.0.0/8")
	n := netip.MustParseAddr("10.0.0.1")
	q.put([]Update{{Route: rib.Route{Prefix: p}}, {EndOfRIB: &EndOfRIB{Neighbor: n, Family: FamilyIPv4Unicast}}})
	q.put([]Update{{EndOfRIB: &EndOfRIB{Neighbor: n, Family: FamilyIPv6Unicast}},
		{Route: rib.Route{Prefix: p}, Withdrawn: true}})
	got := q.take()
	if len(got) != 3 || got[0].Route.Prefix != p || !got[0].Withdrawn ||
		got[1].EndOfRIB == nil || got[1].EndOfRIB.Family != FamilyIPv4Unicast ||
		got[2].EndOfRIB == nil || got[2].EndOfRIB.Family != FamilyIPv6Unicast {
		t.Fatalf("take() = %+v", got)
	}
	if got := q.take(); len(got) != 0 {
		t.Fatalf("second take() = %+v", got)
	}
}

func TestPathToEndOfRIB(t *testing.T) {
	eor, ok := pathToEndOfRIB(&api.Path{NeighborIp: "::ffff:10.0.0.1",
		Family: &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_MPLS_LABEL}})
	if !ok || eor.Neighbor != netip.MustParseAddr("10.0.0.1") || eor.Family != FamilyIPv4LabeledUnicast {
		t.Fatalf("pathToEndOfRIB = %+v %v", eor, ok)
	}
	for _, p := range []*api.Path{
		{NeighborIp: "10.0.0.1", Family: &api.Family{Afi: api.Family_AFI_L2VPN, Safi: api.Family_SAFI_EVPN}},
		{Family: &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}},
	} {
		if eor, ok := pathToEndOfRIB(p); ok {
			t.Errorf("pathToEndOfRIB(%v) = %+v", p, eor)
		}
	}
}
