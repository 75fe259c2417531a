package rib

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

var (
	pfx  = netip.MustParsePrefix
	addr = netip.MustParseAddr
)

func changes(cs []Change) string {
	var b []string
	for _, c := range cs {
		if c.Deleted {
			b = append(b, "-"+c.Prefix.String())
			continue
		}
		var hops []string
		for _, nh := range c.Best.NextHops {
			hops = append(hops, fmt.Sprintf("%v%%%s", nh.Addr, nh.Ifname))
		}
		b = append(b, fmt.Sprintf("+%s %s [%s]", c.Prefix, c.Best.Source, strings.Join(hops, " ")))
	}
	return strings.Join(b, "; ")
}

func TestBestByDistance(t *testing.T) {
	r := New()
	got := changes(r.Update(Route{Prefix: pfx("10.9.0.0/24"), Source: SourceBGP, Distance: DistanceEBGP,
		NextHops: []NextHop{{Addr: addr("10.0.0.2"), Ifname: "eth0"}}}))
	if want := "+10.9.0.0/24 bgp [10.0.0.2%eth0]"; got != want {
		t.Errorf("first route: %s, want %s", got, want)
	}
	got = changes(r.Update(Route{Prefix: pfx("10.9.0.0/24"), Source: SourceStatic, Distance: DistanceStatic,
		NextHops: []NextHop{{Addr: addr("10.0.0.6"), Ifname: "eth1"}}}))
	if want := "+10.9.0.0/24 static [10.0.0.6%eth1]"; got != want {
		t.Errorf("static beats eBGP: %s, want %s", got, want)
	}
	// The losing route changing is no change at all.
	if got := r.Update(Route{Prefix: pfx("10.9.0.0/24"), Source: SourceBGP, Distance: DistanceEBGP,
		NextHops: []NextHop{{Addr: addr("10.0.0.3"), Ifname: "eth0"}}}); len(got) != 0 {
		t.Errorf("a hidden route's change was published: %s", changes(got))
	}
	got = changes(r.Delete(pfx("10.9.0.0/24"), SourceStatic))
	if want := "+10.9.0.0/24 bgp [10.0.0.3%eth0]"; got != want {
		t.Errorf("static gone: %s, want %s", got, want)
	}
	got = changes(r.Delete(pfx("10.9.0.0/24"), SourceBGP))
	if want := "-10.9.0.0/24"; got != want {
		t.Errorf("all gone: %s, want %s", got, want)
	}
}

func TestRecursiveResolution(t *testing.T) {
	r := New()
	// A BGP route via a remote loopback: unusable until the loopback is reachable.
	if got := r.Update(Route{Prefix: pfx("198.51.100.0/24"), Source: SourceBGP, Distance: DistanceIBGP,
		NextHops: []NextHop{{Addr: addr("3.3.3.3")}}}); len(got) != 0 {
		t.Errorf("unresolvable route published: %s", changes(got))
	}
	r.Update(Route{Prefix: pfx("10.1.0.0/24"), Source: SourceConnected, NextHops: []NextHop{{Ifname: "zt0"}}})
	got := changes(r.Update(Route{Prefix: pfx("3.3.3.3/32"), Source: SourceStatic, Distance: DistanceStatic,
		NextHops: []NextHop{{Addr: addr("10.1.0.2")}}}))
	// The static route resolves through the connected subnet, and the BGP
	// route through the static one: two levels.
	if want := "+3.3.3.3/32 static [10.1.0.2%zt0]; +198.51.100.0/24 bgp [10.1.0.2%zt0]"; got != want {
		t.Errorf("static via connected, BGP via static: %s, want %s", got, want)
	}
	got = changes(r.Delete(pfx("3.3.3.3/32"), SourceStatic))
	if want := "-3.3.3.3/32; -198.51.100.0/24"; got != want {
		t.Errorf("losing the loopback route: %s, want %s", got, want)
	}
}

func TestReplaceSource(t *testing.T) {
	r := New()
	r.Update(Route{Prefix: pfx("10.1.0.0/24"), Source: SourceConnected, NextHops: []NextHop{{Ifname: "a"}}})
	r.Update(Route{Prefix: pfx("10.2.0.0/24"), Source: SourceConnected, NextHops: []NextHop{{Ifname: "b"}}})
	got := changes(r.ReplaceSource(SourceConnected, []Route{
		{Prefix: pfx("10.2.0.0/24"), NextHops: []NextHop{{Ifname: "b"}}},
		{Prefix: pfx("10.3.0.1/24"), NextHops: []NextHop{{Ifname: "c"}}},
	}))
	if want := "-10.1.0.0/24; +10.3.0.0/24 connected [invalid IP%c]"; got != want {
		t.Errorf("replace: %s, want %s", got, want)
	}
	if n := len(r.Routes()); n != 2 {
		t.Errorf("%d routes, want 2", n)
	}
}

// Routes that resolve only through each other never resolve.
func TestRecursionLoop(t *testing.T) {
	r := New()
	r.Update(Route{Prefix: pfx("1.1.1.1/32"), Source: SourceStatic, NextHops: []NextHop{{Addr: addr("2.2.2.2")}}})
	if got := r.Update(Route{Prefix: pfx("2.2.2.2/32"), Source: SourceStatic, NextHops: []NextHop{{Addr: addr("1.1.1.1")}}}); len(got) != 0 {
		t.Errorf("a resolution loop was published: %s", changes(got))
	}
}

func TestApplyBatch(t *testing.T) {
	r := New()
	r.Update(Route{Prefix: pfx("10.1.0.0/24"), Source: SourceConnected, NextHops: []NextHop{{Ifname: "eth0"}}})
	got := changes(r.Apply(SourceBGP, []Route{
		{Prefix: pfx("198.51.100.0/24"), Distance: DistanceEBGP, NextHops: []NextHop{{Addr: addr("10.1.0.2")}}},
		{Prefix: pfx("203.0.113.0/24"), Distance: DistanceEBGP, NextHops: []NextHop{{Addr: addr("10.1.0.2")}}},
	}, nil))
	if want := "+198.51.100.0/24 bgp [10.1.0.2%eth0]; +203.0.113.0/24 bgp [10.1.0.2%eth0]"; got != want {
		t.Errorf("batch add: %s, want %s", got, want)
	}
	got = changes(r.Apply(SourceBGP, nil, []netip.Prefix{pfx("198.51.100.0/24")}))
	if want := "-198.51.100.0/24"; got != want {
		t.Errorf("batch delete: %s, want %s", got, want)
	}
}

// A recursive route whose own labels change (a labelled-unicast peer
// relabels) while its next hop stays: the change is published, with the
// new labels.
func TestRecursiveLabelsChange(t *testing.T) {
	r := New()
	r.Update(Route{Prefix: pfx("10.1.0.0/24"), Source: SourceConnected, NextHops: []NextHop{{Ifname: "zt0"}}})
	bgp := Route{Prefix: pfx("198.51.100.0/24"), Source: SourceBGP, Distance: DistanceIBGP,
		NextHops: []NextHop{{Addr: addr("10.1.0.2")}}, Labels: []uint32{100}}
	if cs := r.Update(bgp); len(cs) != 1 || fmt.Sprint(cs[0].Best.Labels) != "[100]" {
		t.Fatalf("first: %+v", cs)
	}
	bgp.Labels = []uint32{200}
	cs := r.Update(bgp)
	if len(cs) != 1 || fmt.Sprint(cs[0].Best.Labels) != "[200]" {
		t.Fatalf("relabelled: %+v, want the route with label 200", cs)
	}
	if best, _ := r.Best(bgp.Prefix); fmt.Sprint(best.Labels) != "[200]" {
		t.Errorf("best route after the relabel: %+v", best)
	}
}
