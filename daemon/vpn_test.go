package daemon

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/ldp"
	"github.com/lsrd/lsrd/rib"
	"github.com/lsrd/lsrd/vpn"
)

// vpnDaemon is a daemon with just what the provider edge's glue reads.
func vpnDaemon(t *testing.T) *Daemon {
	t.Helper()
	d := &Daemon{fwd: newForwarding(false, rib.New().Best)}
	st, err := vpn.New(vpn.Config{LocalAddress: netip.MustParseAddr("1.1.1.1"), LabelMin: 1000000, LabelMax: 1000100},
		func(a netip.Addr) ([]fib.NextHop, bool) { return d.vpnLSP(a) })
	if err != nil {
		t.Fatal(err)
	}
	d.vpn = &vpnPart{st: st, adjacent: map[netip.Addr][]fib.NextHop{}, fibs: map[string]*vrfFIB{}}
	return d
}

var (
	pe3   = netip.MustParseAddr("3.3.3.3")
	toP   = fib.NextHop{Addr: netip.MustParseAddr("10.0.1.2"), Ifname: "zt1", Labels: []fib.Label{17}}
	toPE3 = fib.NextHop{Addr: netip.MustParseAddr("10.0.9.3"), Ifname: "zt2"}
)

// A provider edge next door, OPERATIONAL over a link, is reached over the
// link's next hops; one whose session is not up, or one known only by a
// targeted adjacency, is not.
func TestVPNAdjacencies(t *testing.T) {
	d := vpnDaemon(t)
	view := func(state string, adjs ...api.LDPAdjacency) {
		d.ldpView.Store(&ldpView{Time: time.Now(), Neighbors: []ldp.NeighborInfo{{LSRID: pe3, Transport: pe3, State: state, Adjacencies: adjs}}})
		d.vpnAdjacencies()
	}
	link := api.LDPAdjacency{Interface: "zt2", Source: toPE3.Addr}
	view("OPENSENT", link)
	if hops, ok := d.vpnLSP(pe3); ok {
		t.Errorf("session not up: reached over %v", hops)
	}
	view("OPERATIONAL", api.LDPAdjacency{Targeted: true, Source: pe3})
	if hops, ok := d.vpnLSP(pe3); ok {
		t.Errorf("targeted adjacency only: reached over %v", hops)
	}
	d.vpn.dirty = false
	view("OPERATIONAL", link)
	hops, ok := d.vpnLSP(pe3)
	if !ok || !slices.EqualFunc(hops, []fib.NextHop{toPE3}, fib.NextHop.Equal) {
		t.Errorf("next door: %v %v, want %v", hops, ok, toPE3)
	}
	if !d.vpn.dirty {
		t.Error("the provider edge came next door and nothing is to be recomputed")
	}
	d.vpn.dirty = false
	view("OPERATIONAL", link)
	if d.vpn.dirty {
		t.Error("the same view again marked the provider edge changed")
	}
}

// In an LSP with several next hops, one without a label is used only when
// it is the provider edge next door: elsewhere the VPN label alone would be
// read as that LSR's own.
func TestVPNLSPUnlabelledHop(t *testing.T) {
	d := vpnDaemon(t)
	other := fib.NextHop{Addr: netip.MustParseAddr("10.0.3.2"), Ifname: "zt3"} // no label yet
	d.fwd.ldp = fib.NewTable()
	host := netip.PrefixFrom(pe3, 32)
	d.fwd.ldp.FTN[host] = fib.FTNEntry{Prefix: host, NextHops: []fib.NextHop{toP, other}}
	hops, ok := d.vpnLSP(pe3)
	if !ok || !slices.EqualFunc(hops, []fib.NextHop{toP}, fib.NextHop.Equal) {
		t.Errorf("got %v %v, want the labelled next hop alone", hops, ok)
	}
	d.fwd.ldp.FTN[host] = fib.FTNEntry{Prefix: host, NextHops: []fib.NextHop{toP, toPE3}}
	d.vpn.adjacent[pe3] = []fib.NextHop{toPE3}
	hops, ok = d.vpnLSP(pe3)
	if !ok || !slices.EqualFunc(hops, []fib.NextHop{toP, toPE3}, fib.NextHop.Equal) {
		t.Errorf("got %v %v, want both: the unlabelled one is the provider edge next door", hops, ok)
	}
	d.fwd.ldp.FTN[host] = fib.FTNEntry{Prefix: host, NextHops: []fib.NextHop{other}}
	if hops, ok := d.vpnLSP(pe3); ok {
		t.Errorf("an unlabelled next hop that is not the provider edge: %v", hops)
	}
}
