package lib

import (
	"github.com/lsrd/lsrd/ldp/fec"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/ldp/wire"
	"github.com/lsrd/lsrd/rib"
)

func TestNewValidatesConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		err  string // substring; "" means valid
	}{
		{"whole range", Config{LabelMin: 16, LabelMax: 1<<20 - 1}, ""},
		{"one label", Config{LabelMin: 100, LabelMax: 100}, ""},
		{"reserved min", Config{LabelMin: 15, LabelMax: 100}, "LabelMin 15"},
		{"zero range", Config{}, "LabelMin 0"},
		{"max beyond 20 bits", Config{LabelMin: 16, LabelMax: 1 << 20}, "LabelMax 1048576"},
		{"min above max", Config{LabelMin: 200, LabelMax: 100}, "LabelMin 200 above LabelMax 100"},
		{"bad control", Config{LabelMin: 16, LabelMax: 100, Control: 7}, "Control 7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tc.err != "" && err == nil:
				t.Fatalf("New accepted %+v", tc.cfg)
			case tc.err != "" && !strings.Contains(err.Error(), tc.err):
				t.Fatalf("New: %v, want it to name %q", err, tc.err)
			}
		})
	}
}

// step is one input to the LIB under test and what must come out of it.
type step struct {
	name string
	do   func(l *LIB) []Outgoing
	want []Outgoing
	// check, when set, runs after the step (table contents, stats).
	check func(t *testing.T, l *LIB)
}

func run(t *testing.T, l *LIB, steps []step) {
	t.Helper()
	for _, s := range steps {
		expect(t, s.name, s.do(l), s.want...)
		if s.check != nil {
			s.check(t, l)
		}
	}
}

func msg(id netip.Addr, m wire.Message) func(*LIB) []Outgoing {
	return func(l *LIB) []Outgoing { return l.LabelMessage(id, m) }
}

func upd(r rib.Route) func(*LIB) []Outgoing {
	return func(l *LIB) []Outgoing { return l.RouteUpdate(r) }
}

func del(p string) func(*LIB) []Outgoing {
	return func(l *LIB) []Outgoing { return l.RouteDelete(pfx(p)) }
}

func table(lfib []fib.LFIBEntry, ftn ...fib.FTNEntry) func(*testing.T, *LIB) {
	return func(t *testing.T, l *LIB) { t.Helper(); expectTable(t, "table", l, lfib, ftn) }
}

func inUse(n int) func(*testing.T, *LIB) {
	return func(t *testing.T, l *LIB) {
		t.Helper()
		if got := l.Stats().LabelsInUse; got != n {
			t.Errorf("LabelsInUse = %d, want %d", got, n)
		}
	}
}

func lfib(in fib.Label, nhs ...fib.NextHop) fib.LFIBEntry {
	return fib.LFIBEntry{InLabel: in, NextHops: nhs}
}

func ftn(p string, nhs ...fib.NextHop) fib.FTNEntry {
	return fib.FTNEntry{Prefix: pfx(p), NextHops: nhs}
}

const remote = "10.9.0.0/24" // a prefix behind E

// TestTransitOrdered is the middle LSR of the chain I - T - E under
// ordered control: it advertises only once E's mapping is there, and a
// withdraw from E cascades to I.
func TestTransitOrdered(t *testing.T) {
	l := newLIB(t, Config{})
	withPeers(t, l)
	run(t, l, []step{
		{name: "route without downstream mapping: silent", do: upd(route(remote, via(addrE, "eth1"))),
			check: table([]fib.LFIBEntry{lfib(16, nhop(addrE, "eth1"))})},
		{name: "E advertises implicit null", do: msg(peerE, mapping(remote, 3)),
			want:  []Outgoing{to(peerI, mapping(remote, 16)), to(peerE, mapping(remote, 16)), to(peerF, mapping(remote, 16))},
			check: table([]fib.LFIBEntry{lfib(16, nhop(addrE, "eth1"))})},
		{name: "E withdraws: release, then withdraw from everyone", do: msg(peerE, withdraw(remote, 3)),
			want: []Outgoing{to(peerE, release(remote, 3)),
				to(peerI, withdraw(remote, 16)), to(peerE, withdraw(remote, 16)), to(peerF, withdraw(remote, 16))},
			check: inUse(1)},
		{name: "E maps again: held back until the releases", do: msg(peerE, mapping(remote, 3))},
		{name: "I releases: I gets the mapping again", do: msg(peerI, release(remote, 16)),
			want: []Outgoing{to(peerI, mapping(remote, 16))}},
		{name: "E releases with a wildcard", do: msg(peerE, &wire.LabelRelease{FEC: wire.FEC{wire.WildcardFEC{}}}),
			want: []Outgoing{to(peerE, mapping(remote, 16))}},
		{name: "E starts using a real label: swap", do: msg(peerE, mapping(remote, 300)),
			want:  []Outgoing{to(peerE, release(remote, 3))},
			check: table([]fib.LFIBEntry{lfib(16, nhop(addrE, "eth1", 300))}, ftn(remote, nhop(addrE, "eth1", 300)))},
		{name: "route gone: withdraw from holders", do: del(remote),
			want: []Outgoing{to(peerI, withdraw(remote, 16)), to(peerE, withdraw(remote, 16))},
			check: func(t *testing.T, l *LIB) {
				table(nil)(t, l)
				inUse(1)(t, l)
			}},
		{name: "releases free the label", do: func(l *LIB) []Outgoing {
			out := l.LabelMessage(peerI, release(remote, 16))
			out = append(out, l.LabelMessage(peerE, release(remote, 16))...)
			if inUse(1)(t, l); t.Failed() {
				t.Log("F never released the first withdraw and still holds 16")
			}
			return append(out, l.LabelMessage(peerF, release(remote, 16))...)
		}, check: inUse(0)},
	})
}

// TestChain runs three LIBs wired together and delivers their messages,
// checking the LSP that results end to end.
func TestChain(t *testing.T) {
	// Link addresses: I 192.0.2.0 - T 192.0.2.1 ; T 192.0.2.2 - E 192.0.2.3.
	idI, idT, idE := peerI, netip.MustParseAddr("2.2.2.2"), peerE
	tI, tE := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	libs := map[netip.Addr]*LIB{idI: newLIB(t, Config{}), idT: newLIB(t, Config{}), idE: newLIB(t, Config{})}
	type msgFrom struct {
		src netip.Addr
		o   Outgoing
	}
	var q []msgFrom
	push := func(src netip.Addr, os []Outgoing) {
		for _, o := range os {
			q = append(q, msgFrom{src, o})
		}
	}
	deliver := func() int {
		n := 0
		for len(q) > 0 {
			m := q[0]
			q = q[1:]
			n++
			push(m.o.Peer, libs[m.o.Peer].LabelMessage(m.src, m.o.Msg))
		}
		return n
	}
	session := func(a, b netip.Addr, aAddr, bAddr netip.Addr) {
		push(a, libs[a].NeighborUp(b))
		push(b, libs[b].NeighborUp(a))
		push(a, libs[a].NeighborAddresses(b, []netip.Addr{b, bAddr}))
		push(b, libs[b].NeighborAddresses(a, []netip.Addr{a, aAddr}))
	}
	session(idI, idT, addrI, tI)
	session(idT, idE, tE, addrE)
	push(idE, libs[idE].RouteUpdate(connected(remote, "lan0")))
	push(idT, libs[idT].RouteUpdate(route(remote, via(addrE, "eth1"))))
	push(idI, libs[idI].RouteUpdate(route(remote, via(tI, "eth0"))))
	deliver()

	expectTable(t, "egress E", libs[idE], nil, nil)
	expectTable(t, "transit T", libs[idT], []fib.LFIBEntry{lfib(16, nhop(addrE, "eth1"))}, nil)
	expectTable(t, "ingress I", libs[idI], []fib.LFIBEntry{lfib(16, nhop(tI, "eth0", 16))},
		[]fib.FTNEntry{ftn(remote, nhop(tI, "eth0", 16))})

	// The egress loses the prefix: the withdraw cascades, everyone
	// releases, and every label is free again.
	push(idE, libs[idE].RouteDelete(pfx(remote)))
	if n := deliver(); n == 0 {
		t.Fatal("no messages after the egress lost the route")
	}
	expectTable(t, "transit T after withdraw", libs[idT], []fib.LFIBEntry{lfib(16, nhop(addrE, "eth1"))}, nil)
	expectTable(t, "ingress I after withdraw", libs[idI], []fib.LFIBEntry{lfib(16, nhop(tI, "eth0"))}, nil)
	for id, l := range libs {
		if s := l.Stats(); s.Withdrawn != 0 || s.RemoteBindings != 0 {
			t.Errorf("%v: %+v, want no withdrawn or remote bindings left", id, s)
		}
	}
	if b := libs[idT].Bindings(); len(b) != 1 || b[0].HasLocal != true || len(b[0].Remote) != 0 {
		t.Errorf("T bindings %+v", b)
	}
}

func TestEgress(t *testing.T) {
	v6 := "2001:db8:9::/64"
	for _, tc := range []struct {
		name  string
		cfg   Config
		local []netip.Addr
		r     rib.Route
		label uint32
	}{
		{"connected: implicit null", Config{}, nil, connected(remote, "lan0"), 3},
		{"connected: explicit null", Config{ExplicitNull: true}, nil, connected(remote, "lan0"), 0},
		{"IPv6 connected: explicit null is 2", Config{ExplicitNull: true}, nil,
			rib.Route{Prefix: pfx(v6), NextHops: []rib.NextHop{{Ifname: "lan0"}}}, 2},
		{"own loopback through a gateway", Config{}, []netip.Addr{netip.MustParseAddr("10.255.0.2")},
			route("10.255.0.2/32", via(addrE, "eth1")), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLIB(t, tc.cfg)
			l.SetLocalAddresses(tc.local)
			l.NeighborUp(peerI)
			m := &wire.LabelMapping{FEC: wire.FEC{wire.PrefixFEC{Prefix: tc.r.Prefix}}, Label: tc.label}
			expect(t, "route", l.RouteUpdate(tc.r), to(peerI, m))
			expectTable(t, "egress", l, nil, nil)
			if s := l.Stats(); s.LabelsInUse != 0 || s.FECs != 1 {
				t.Errorf("stats %+v: egress must use no label", s)
			}
		})
	}
}

func TestOwnAddressTurnsEgress(t *testing.T) {
	l := newLIB(t, Config{})
	withPeers(t, l)
	lo := "10.255.0.2/32"
	setLocal := func(a ...netip.Addr) func(*LIB) []Outgoing {
		return func(l *LIB) []Outgoing { return l.SetLocalAddresses(a) }
	}
	all := func(m wire.Message) []Outgoing { return []Outgoing{to(peerI, m), to(peerE, m), to(peerF, m)} }
	run(t, l, []step{
		{name: "E maps the loopback, no route yet", do: msg(peerE, mapping(lo, 40))},
		{name: "route via E: label 16", do: upd(route(lo, via(addrE, "eth1"))), want: all(mapping(lo, 16)),
			check: table([]fib.LFIBEntry{lfib(16, nhop(addrE, "eth1", 40))}, ftn(lo, nhop(addrE, "eth1", 40)))},
		{name: "the address becomes ours: 16 withdrawn, implicit null waits for releases",
			do: setLocal(netip.MustParseAddr("10.255.0.2")), want: all(withdraw(lo, 16)),
			check: func(t *testing.T, l *LIB) { table(nil)(t, l); inUse(1)(t, l) }},
		{name: "I releases 16: gets implicit null", do: msg(peerI, release(lo, 16)), want: []Outgoing{to(peerI, mapping(lo, 3))}},
		{name: "the address goes: I's null withdrawn, a new label since E and F hold 16", do: setLocal(),
			want:  []Outgoing{to(peerI, withdraw(lo, 3))},
			check: table([]fib.LFIBEntry{lfib(17, nhop(addrE, "eth1", 40))}, ftn(lo, nhop(addrE, "eth1", 40)))},
		{name: "F releases 16: gets 17", do: msg(peerF, release(lo, 16)), want: []Outgoing{to(peerF, mapping(lo, 17))}},
		{name: "I releases the null: gets 17", do: msg(peerI, release(lo, 3)), want: []Outgoing{to(peerI, mapping(lo, 17))}},
		{name: "E releases 16: gets 17, 16 is free", do: msg(peerE, release(lo, 16)), want: []Outgoing{to(peerE, mapping(lo, 17))},
			check: inUse(1)},
	})
}

func TestIndependentControl(t *testing.T) {
	l := newLIB(t, Config{Control: Independent})
	withPeers(t, l)
	run(t, l, []step{
		{name: "mapping at once", do: upd(route(remote, via(addrE, "eth1"))),
			want: []Outgoing{to(peerI, mapping(remote, 16)), to(peerE, mapping(remote, 16)), to(peerF, mapping(remote, 16))}},
		{name: "downstream mapping changes nothing upstream", do: msg(peerE, mapping(remote, 40)),
			check: table([]fib.LFIBEntry{lfib(16, nhop(addrE, "eth1", 40))}, ftn(remote, nhop(addrE, "eth1", 40)))},
		{name: "downstream withdraw: release only", do: msg(peerE, withdraw(remote, 40)),
			want: []Outgoing{to(peerE, release(remote, 40))}},
	})
}

func TestRouteChangeMovesNextHop(t *testing.T) {
	l := newLIB(t, Config{})
	withPeers(t, l)
	run(t, l, []step{
		{name: "E and F both map; route via E", do: func(l *LIB) []Outgoing {
			l.LabelMessage(peerF, mapping(remote, 50))
			l.LabelMessage(peerE, mapping(remote, 40))
			return l.RouteUpdate(route(remote, via(addrE, "eth1")))
		}, want: []Outgoing{to(peerI, mapping(remote, 16)), to(peerE, mapping(remote, 16)), to(peerF, mapping(remote, 16))},
			check: table([]fib.LFIBEntry{lfib(16, nhop(addrE, "eth1", 40))}, ftn(remote, nhop(addrE, "eth1", 40)))},
		{name: "route moves to F: forwarding follows, mapping stays", do: upd(route(remote, via(addrF, "eth2"))),
			check: table([]fib.LFIBEntry{lfib(16, nhop(addrF, "eth2", 50))}, ftn(remote, nhop(addrF, "eth2", 50)))},
		{name: "route moves to I, which mapped nothing: withdraw", do: upd(route(remote, via(addrI, "eth0"))),
			want:  []Outgoing{to(peerI, withdraw(remote, 16)), to(peerE, withdraw(remote, 16)), to(peerF, withdraw(remote, 16))},
			check: table([]fib.LFIBEntry{lfib(16, nhop(addrI, "eth0"))})},
		{name: "bindings show which remote label is in use", do: upd(route(remote, via(addrF, "eth2"))),
			check: func(t *testing.T, l *LIB) {
				b := l.Bindings()
				want := []Binding{{FEC: fec.Prefix(pfx(remote)), LocalLabel: 16, HasLocal: true, Remote: []RemoteBinding{
					{Peer: peerE, Label: 40}, {Peer: peerF, Label: 50, InUse: true}}}}
				if len(b) != 1 || b[0].FEC != want[0].FEC || b[0].LocalLabel != 16 || len(b[0].Remote) != 2 ||
					b[0].Remote[0] != want[0].Remote[0] || b[0].Remote[1] != want[0].Remote[1] {
					t.Errorf("bindings %+v, want %+v", b, want)
				}
			}},
	})
}

func TestECMP(t *testing.T) {
	l := newLIB(t, Config{})
	withPeers(t, l)
	ecmp := route(remote, via(addrE, "eth1"), via(addrF, "eth2"))
	run(t, l, []step{
		{name: "route over E and F", do: upd(ecmp),
			check: table([]fib.LFIBEntry{lfib(16, nhop(addrE, "eth1"), nhop(addrF, "eth2"))})},
		{name: "F maps implicit null: advertise; F pops, E unlabelled", do: msg(peerF, mapping(remote, 3)),
			want:  []Outgoing{to(peerI, mapping(remote, 16)), to(peerE, mapping(remote, 16)), to(peerF, mapping(remote, 16))},
			check: table([]fib.LFIBEntry{lfib(16, nhop(addrE, "eth1"), nhop(addrF, "eth2"))})},
		{name: "E maps 40: swap on E, FTN pushes on E only", do: msg(peerE, mapping(remote, 40)),
			check: table([]fib.LFIBEntry{lfib(16, nhop(addrE, "eth1", 40), nhop(addrF, "eth2"))},
				ftn(remote, nhop(addrE, "eth1", 40), nhop(addrF, "eth2")))},
		{name: "F maps 50 instead: old label released, both swap", do: msg(peerF, mapping(remote, 50)),
			want: []Outgoing{to(peerF, release(remote, 3))},
			check: table([]fib.LFIBEntry{lfib(16, nhop(addrE, "eth1", 40), nhop(addrF, "eth2", 50))},
				ftn(remote, nhop(addrE, "eth1", 40), nhop(addrF, "eth2", 50)))},
		{name: "F withdraws: still advertised thanks to E", do: msg(peerF, withdraw(remote, 50)),
			want: []Outgoing{to(peerF, release(remote, 50))},
			check: table([]fib.LFIBEntry{lfib(16, nhop(addrE, "eth1", 40), nhop(addrF, "eth2"))},
				ftn(remote, nhop(addrE, "eth1", 40), nhop(addrF, "eth2")))},
	})
}

func TestExplicitNullFromDownstream(t *testing.T) {
	l := newLIB(t, Config{})
	withPeers(t, l)
	l.RouteUpdate(route(remote, via(addrE, "eth1")))
	l.LabelMessage(peerE, mapping(remote, 0))
	expectTable(t, "explicit null swaps and pushes 0", l,
		[]fib.LFIBEntry{lfib(16, nhop(addrE, "eth1", 0))}, []fib.FTNEntry{ftn(remote, nhop(addrE, "eth1", 0))})
}

// A neighbour's explicit null for its own loopback swaps in transit but is
// never pushed at this ingress: the one-hop LSP would lower the TTL of the
// session with that neighbour below what GTSM accepts.
func TestNoPushTowardsNextHopsOwnAddress(t *testing.T) {
	l := newLIB(t, Config{})
	withPeers(t, l)
	l.RouteUpdate(route("3.3.3.3/32", via(addrE, "eth1")))
	l.LabelMessage(peerE, mapping("3.3.3.3/32", 0))
	expectTable(t, "explicit null of the next hop's own address", l,
		[]fib.LFIBEntry{lfib(16, nhop(addrE, "eth1", 0))}, nil)
	// The same label for an address E does not own is pushed.
	l.RouteUpdate(route("5.5.5.5/32", via(addrE, "eth1")))
	l.LabelMessage(peerE, mapping("5.5.5.5/32", 0))
	expectTable(t, "explicit null towards a farther address", l,
		[]fib.LFIBEntry{lfib(16, nhop(addrE, "eth1", 0)), lfib(17, nhop(addrE, "eth1", 0))},
		[]fib.FTNEntry{ftn("5.5.5.5/32", nhop(addrE, "eth1", 0))})
	// Over E and F, E's own address swaps on both in transit and pushes
	// towards F only: the FTN's next hops part from the LFIB's.
	l.RouteUpdate(route("3.3.3.3/32", via(addrE, "eth1"), via(addrF, "eth2")))
	l.LabelMessage(peerF, mapping("3.3.3.3/32", 60))
	expectTable(t, "E's own address over E and F", l,
		[]fib.LFIBEntry{lfib(16, nhop(addrE, "eth1", 0), nhop(addrF, "eth2", 60)), lfib(17, nhop(addrE, "eth1", 0))},
		[]fib.FTNEntry{ftn("3.3.3.3/32", nhop(addrE, "eth1"), nhop(addrF, "eth2", 60)), ftn("5.5.5.5/32", nhop(addrE, "eth1", 0))})
}

// TestValidRemote: each family's explicit null is valid for its own FECs
// only; implicit null and the unreserved range for all; the other reserved
// labels and anything past 20 bits for none (RFC 3032 section 2.1).
func TestValidRemote(t *testing.T) {
	v4, v6 := fec.Prefix(pfx("10.9.0.0/24")), fec.Prefix(pfx("2001:db8:9::/48"))
	for _, c := range []struct {
		label  fib.Label
		v4, v6 bool
	}{
		{fib.LabelIPv4ExplicitNull, true, false},
		{fib.LabelRouterAlert, false, false},
		{fib.LabelIPv6ExplicitNull, false, true},
		{fib.LabelImplicitNull, true, true},
		{4, false, false},
		{15, false, false},
		{fib.FirstUnreserved, true, true},
		{fib.MaxLabel, true, true},
		{fib.MaxLabel + 1, false, false},
	} {
		if got := validRemote(c.label, v4); got != c.v4 {
			t.Errorf("validRemote(%d, %v) = %v, want %v", c.label, v4, got, c.v4)
		}
		if got := validRemote(c.label, v6); got != c.v6 {
			t.Errorf("validRemote(%d, %v) = %v, want %v", c.label, v6, got, c.v6)
		}
	}
}

// TestWrongFamilyExplicitNull: a mapping of label 2 (IPv6 Explicit NULL)
// for an IPv4 FEC is refused, not installed as a push; label 0 then is.
func TestWrongFamilyExplicitNull(t *testing.T) {
	l := newLIB(t, Config{})
	withPeers(t, l)
	run(t, l, []step{
		{name: "route", do: upd(route(remote, via(addrE, "eth1")))},
		{name: "E maps label 2: refused, nothing advertised or pushed", do: msg(peerE, mapping(remote, 2)),
			check: func(t *testing.T, l *LIB) {
				table([]fib.LFIBEntry{lfib(16, nhop(addrE, "eth1"))})(t, l)
				if b := l.Bindings(); len(b) != 1 || len(b[0].Remote) != 0 {
					t.Errorf("bindings %+v, want no remote label kept", b)
				}
			}},
		{name: "E maps label 0: swapped and pushed", do: msg(peerE, mapping(remote, 0)),
			want:  []Outgoing{to(peerI, mapping(remote, 16)), to(peerE, mapping(remote, 16)), to(peerF, mapping(remote, 16))},
			check: table([]fib.LFIBEntry{lfib(16, nhop(addrE, "eth1", 0))}, ftn(remote, nhop(addrE, "eth1", 0)))},
	})
}

// TestMappingNeedsAddress: liberal retention keeps a mapping from a peer
// whose addresses are not known yet; it becomes usable when the Address
// message lists the next hop.
func TestMappingNeedsAddress(t *testing.T) {
	l := newLIB(t, Config{})
	l.NeighborUp(peerI)
	l.NeighborUp(peerE)
	run(t, l, []step{
		{name: "route", do: upd(route(remote, via(addrE, "eth1")))},
		{name: "E maps before its addresses: kept, unused", do: msg(peerE, mapping(remote, 40)),
			check: func(t *testing.T, l *LIB) {
				table([]fib.LFIBEntry{lfib(16, nhop(addrE, "eth1"))})(t, l)
				if b := l.Bindings(); len(b) != 1 || len(b[0].Remote) != 1 || b[0].Remote[0].InUse {
					t.Errorf("bindings %+v, want E's label kept and not in use", b)
				}
			}},
		{name: "E's address arrives: used and advertised", do: func(l *LIB) []Outgoing {
			return l.NeighborAddresses(peerE, []netip.Addr{peerE, addrE})
		}, want: []Outgoing{to(peerI, mapping(remote, 16)), to(peerE, mapping(remote, 16))},
			check: table([]fib.LFIBEntry{lfib(16, nhop(addrE, "eth1", 40))}, ftn(remote, nhop(addrE, "eth1", 40)))},
		{name: "Address Withdraw through LabelMessage: unusable again", do: msg(peerE, &wire.AddressWithdraw{
			Addresses: wire.AddressList{Family: wire.AFIPv4, Addrs: []netip.Addr{addrE}}}),
			want:  []Outgoing{to(peerI, withdraw(remote, 16)), to(peerE, withdraw(remote, 16))},
			check: table([]fib.LFIBEntry{lfib(16, nhop(addrE, "eth1"))})},
	})
}

func TestWildcardWithdraw(t *testing.T) {
	v6 := "2001:db8:9::/64"
	setup := func(t *testing.T) *LIB {
		l := newLIB(t, Config{Control: Independent})
		l.NeighborUp(peerE)
		l.NeighborAddresses(peerE, []netip.Addr{addrE})
		l.LabelMessage(peerE, mapping("10.9.0.0/24", 40))
		l.LabelMessage(peerE, mapping("10.9.1.0/24", 41))
		l.LabelMessage(peerE, mapping(v6, 42))
		return l
	}
	for _, tc := range []struct {
		name string
		wd   *wire.LabelWithdraw
		rel  *wire.LabelRelease
		left int // remote bindings left
	}{
		{"wildcard", &wire.LabelWithdraw{FEC: wire.FEC{wire.WildcardFEC{}}},
			&wire.LabelRelease{FEC: wire.FEC{wire.WildcardFEC{}}}, 0},
		{"wildcard with label", &wire.LabelWithdraw{FEC: wire.FEC{wire.WildcardFEC{}}, Label: u32(41)},
			&wire.LabelRelease{FEC: wire.FEC{wire.WildcardFEC{}}, Label: u32(41)}, 2},
		{"typed wildcard IPv4", &wire.LabelWithdraw{FEC: wire.FEC{wire.TypedWildcardFEC{Type: wire.FECPrefix, Family: wire.AFIPv4}}},
			&wire.LabelRelease{FEC: wire.FEC{wire.TypedWildcardFEC{Type: wire.FECPrefix, Family: wire.AFIPv4}}}, 1},
		{"typed wildcard IPv6", &wire.LabelWithdraw{FEC: wire.FEC{wire.TypedWildcardFEC{Type: wire.FECPrefix, Family: wire.AFIPv6}}},
			&wire.LabelRelease{FEC: wire.FEC{wire.TypedWildcardFEC{Type: wire.FECPrefix, Family: wire.AFIPv6}}}, 2},
		{"prefix without label", &wire.LabelWithdraw{FEC: wire.FEC{wire.PrefixFEC{Prefix: pfx("10.9.1.0/24")}}},
			&wire.LabelRelease{FEC: wire.FEC{wire.PrefixFEC{Prefix: pfx("10.9.1.0/24")}}}, 2},
		{"unknown FEC still answered", withdraw("10.77.0.0/16", 99), release("10.77.0.0/16", 99), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := setup(t)
			expect(t, "withdraw", l.LabelMessage(peerE, tc.wd), to(peerE, tc.rel))
			if got := l.Stats().RemoteBindings; got != tc.left {
				t.Errorf("%d remote bindings left, want %d", got, tc.left)
			}
		})
	}
}

func TestLabelRequest(t *testing.T) {
	req := func(id uint32, p string) *wire.LabelRequest {
		return &wire.LabelRequest{MsgID: id, FEC: wire.FEC{wire.PrefixFEC{Prefix: pfx(p)}}}
	}
	answered := func(p string, label, id uint32) *wire.LabelMapping {
		m := mapping(p, label)
		m.LabelRequestID = u32(id)
		return m
	}
	l := newLIB(t, Config{})
	withPeers(t, l)
	l.RouteUpdate(connected("10.1.0.0/24", "lan0"))
	l.RouteUpdate(route(remote, via(addrE, "eth1")))
	run(t, l, []step{
		{name: "no route", do: msg(peerI, req(7, "10.66.0.0/16")),
			want: []Outgoing{to(peerI, &wire.Notification{Status: wire.NewStatus(wire.StatusNoRoute, 7, wire.MsgLabelRequest)})}},
		{name: "egress FEC: mapping again with the request ID", do: msg(peerI, req(8, "10.1.0.0/24")),
			want: []Outgoing{to(peerI, answered("10.1.0.0/24", 3, 8))}},
		{name: "ordered, no downstream mapping: pending", do: msg(peerI, req(9, remote))},
		{name: "abort of another request ID: ignored", do: msg(peerI, &wire.LabelAbortRequest{MsgID: 10,
			FEC: wire.FEC{wire.PrefixFEC{Prefix: pfx(remote)}}, LabelRequestID: 8})},
		{name: "abort of the pending one: Label Request Aborted", do: msg(peerI, &wire.LabelAbortRequest{MsgID: 11,
			FEC: wire.FEC{wire.PrefixFEC{Prefix: pfx(remote)}}, LabelRequestID: 9}),
			want: []Outgoing{to(peerI, &wire.Notification{
				Status:         wire.NewStatus(wire.StatusLabelRequestAborted, 11, wire.MsgLabelAbortRequest),
				LabelRequestID: u32(9)})}},
		{name: "pending again", do: msg(peerI, req(12, remote))},
		{name: "downstream mapping answers it", do: msg(peerE, mapping(remote, 40)),
			want: []Outgoing{to(peerI, answered(remote, 16, 12)), to(peerE, mapping(remote, 16)), to(peerF, mapping(remote, 16))}},
		{name: "abort after the answer: ignored", do: msg(peerI, &wire.LabelAbortRequest{MsgID: 13,
			FEC: wire.FEC{wire.PrefixFEC{Prefix: pfx(remote)}}, LabelRequestID: 12})},
		{name: "pending request and the route goes: No Route", do: func(l *LIB) []Outgoing {
			l.LabelMessage(peerE, withdraw(remote, 40))
			l.LabelMessage(peerI, release(remote, 16))
			l.LabelMessage(peerE, release(remote, 16))
			l.LabelMessage(peerF, release(remote, 16))
			if out := l.LabelMessage(peerF, req(14, remote)); len(out) != 0 {
				t.Errorf("request should be pending, got\n%s", describeAll(out))
			}
			return l.RouteDelete(pfx(remote))
		}, want: []Outgoing{to(peerF, &wire.Notification{Status: wire.NewStatus(wire.StatusNoRoute, 14, wire.MsgLabelRequest)})}},
	})
}

// TestLabelReuseAfterRelease uses a one-label range: the label withdrawn
// from a FEC goes to another FEC only once every peer released it.
func TestLabelReuseAfterRelease(t *testing.T) {
	l := newLIB(t, Config{LabelMin: 16, LabelMax: 16, Control: Independent})
	withPeers(t, l)
	a, b := "10.10.0.0/16", "10.20.0.0/16"
	stats := func(inUse, starved int, failures uint64) func(*testing.T, *LIB) {
		return func(t *testing.T, l *LIB) {
			t.Helper()
			s := l.Stats()
			if s.LabelsInUse != inUse || s.Starved != starved || s.AllocFailures != failures || s.LabelRange != 1 {
				t.Errorf("stats %+v, want %d in use, %d starved, %d failures", s, inUse, starved, failures)
			}
		}
	}
	all := func(m wire.Message) []Outgoing { return []Outgoing{to(peerI, m), to(peerE, m), to(peerF, m)} }
	run(t, l, []step{
		{name: "a gets 16", do: upd(route(a, via(addrE, "eth1"))), want: all(mapping(a, 16)), check: stats(1, 0, 0)},
		{name: "b: range exhausted", do: upd(route(b, via(addrE, "eth1"))), check: func(t *testing.T, l *LIB) {
			stats(1, 1, 1)(t, l)
			table([]fib.LFIBEntry{lfib(16, nhop(addrE, "eth1"))})(t, l)
		}},
		{name: "request for b: No Label Resources", do: msg(peerI, &wire.LabelRequest{MsgID: 5, FEC: wire.FEC{wire.PrefixFEC{Prefix: pfx(b)}}}),
			want: []Outgoing{to(peerI, &wire.Notification{Status: wire.NewStatus(wire.StatusNoLabelResources, 5, wire.MsgLabelRequest)})}},
		{name: "a deleted: withdrawn, 16 still held", do: del(a), want: all(withdraw(a, 16)), check: stats(1, 1, 1)},
		{name: "I releases", do: msg(peerI, release(a, 16)), check: stats(1, 1, 1)},
		{name: "a release for the wrong label changes nothing", do: msg(peerE, release(a, 17)), check: stats(1, 1, 1)},
		{name: "E releases", do: msg(peerE, release(a, 16)), check: stats(1, 1, 1)},
		{name: "F, the last holder, releases: b gets 16, I hears resources are back", do: msg(peerF, release(a, 16)),
			want: append(all(mapping(b, 16)),
				to(peerI, &wire.Notification{Status: wire.NewStatus(wire.StatusLabelResourcesAvailable, 0, 0)})),
			check: func(t *testing.T, l *LIB) {
				stats(1, 0, 1)(t, l)
				table([]fib.LFIBEntry{lfib(16, nhop(addrE, "eth1"))})(t, l)
			}},
	})
}

func TestNeighborDown(t *testing.T) {
	l := newLIB(t, Config{})
	withPeers(t, l)
	l.RouteUpdate(route(remote, via(addrE, "eth1")))
	l.LabelMessage(peerE, mapping(remote, 40))
	run(t, l, []step{
		{name: "E goes down: its mapping goes, ordered withdraw to the others",
			do:   func(l *LIB) []Outgoing { return l.NeighborDown(peerE) },
			want: []Outgoing{to(peerI, withdraw(remote, 16)), to(peerF, withdraw(remote, 16))},
			check: func(t *testing.T, l *LIB) {
				table([]fib.LFIBEntry{lfib(16, nhop(addrE, "eth1"))})(t, l)
				s := l.Stats()
				if s.RemoteBindings != 0 || s.Peers != 2 || s.Withdrawn != 2 {
					t.Errorf("stats %+v", s)
				}
			}},
		{name: "route deleted; I and F go down without releasing: label free",
			do: func(l *LIB) []Outgoing {
				out := l.RouteDelete(pfx(remote))
				out = append(out, l.NeighborDown(peerI)...)
				return append(out, l.NeighborDown(peerF)...)
			},
			check: func(t *testing.T, l *LIB) {
				if s := l.Stats(); s.LabelsInUse != 0 || s.Withdrawn != 0 || s.Peers != 0 {
					t.Errorf("stats %+v, want everything released", s)
				}
				if len(l.fecs) != 0 {
					t.Errorf("%d FECs left, want none", len(l.fecs))
				}
			}},
		{name: "E comes back: nothing to advertise", do: func(l *LIB) []Outgoing { return l.NeighborUp(peerE) }},
	})
}

func TestNeighborUpAdvertisesAll(t *testing.T) {
	l := newLIB(t, Config{})
	l.RouteUpdate(connected("10.1.0.0/24", "lan0"))
	l.RouteUpdate(route(remote, via(addrE, "eth1"))) // ordered, no downstream: not advertised
	l.RouteUpdate(connected("10.0.0.0/24", "lan1"))
	expect(t, "I up", l.NeighborUp(peerI), to(peerI, mapping("10.0.0.0/24", 3)), to(peerI, mapping("10.1.0.0/24", 3)))
	expect(t, "I up twice", l.NeighborUp(peerI))
}

func TestAllocatePolicy(t *testing.T) {
	l := newLIB(t, Config{Control: Independent, Allocate: func(r rib.Route) bool { return r.Prefix.Bits() == 32 }})
	l.NeighborUp(peerI)
	expect(t, "/24 refused", l.RouteUpdate(route(remote, via(addrE, "eth1"))))
	expect(t, "/32 accepted", l.RouteUpdate(route("10.9.9.9/32", via(addrE, "eth1"))), to(peerI, mapping("10.9.9.9/32", 16)))
	if s := l.Stats(); s.FECs != 1 {
		t.Errorf("FECs = %d, want 1", s.FECs)
	}
}

func TestGeneration(t *testing.T) {
	l := newLIB(t, Config{})
	withPeers(t, l)
	g0 := l.Generation()
	l.RouteUpdate(route(remote, via(addrE, "eth1")))
	g1 := l.Generation()
	if g1 == g0 {
		t.Fatal("generation unchanged by a new LFIB entry")
	}
	l.LabelMessage(peerF, mapping(remote, 50)) // F is not the next hop
	if l.Generation() != g1 {
		t.Error("generation changed though the table did not")
	}
	tb := l.Table()
	tb.LFIB[16].NextHops[0].Ifname = "mangled"
	if l.Table().LFIB[16].NextHops[0].Ifname != "eth1" {
		t.Error("Table shares memory with the LIB")
	}
}

// A session serving one family (RFC 7552 section 7) is sent the FECs of
// that family only, at NeighborUp and when a FEC of the other family
// appears later; a session serving both gets both.
func TestNeighborFamilies(t *testing.T) {
	l := newLIB(t, Config{})
	l.RouteUpdate(connected("10.1.0.0/24", "lan0"))
	l.RouteUpdate(connected("2001:db8:1::/64", "lan0"))
	expect(t, "I up, IPv4 only", l.NeighborUp(peerI, fec.IPv4), to(peerI, mapping("10.1.0.0/24", 3)))
	expect(t, "E up, IPv6 only", l.NeighborUp(peerE, fec.IPv6), to(peerE, mapping("2001:db8:1::/64", 3)))
	expect(t, "F up, both", l.NeighborUp(peerF, fec.IPv4, fec.IPv6),
		to(peerF, mapping("10.1.0.0/24", 3)), to(peerF, mapping("2001:db8:1::/64", 3)))
	expect(t, "an IPv6 FEC appears", l.RouteUpdate(connected("2001:db8:2::/64", "lan1")),
		to(peerE, mapping("2001:db8:2::/64", 3)), to(peerF, mapping("2001:db8:2::/64", 3)))
}

// RouteTo answers with the most specific route held that covers the
// address, and nothing for a route the allocation policy refused.
func TestRouteTo(t *testing.T) {
	l := newLIB(t, Config{Allocate: func(r rib.Route) bool { return r.Prefix.Bits() != 28 }})
	a := netip.MustParseAddr("10.1.2.3")
	if _, ok := l.RouteTo(a); ok {
		t.Fatal("a route before any was given")
	}
	nh1, nh2 := via(netip.MustParseAddr("192.0.2.1"), "eth0"), via(netip.MustParseAddr("192.0.2.2"), "eth1")
	l.RouteUpdate(route("10.0.0.0/8", nh1))
	l.RouteUpdate(route("10.1.2.0/28", nh2)) // refused by Allocate
	l.RouteUpdate(route("10.1.2.0/24", nh2))
	l.RouteUpdate(route("10.1.2.4/32", nh1)) // does not cover a
	for _, c := range []struct {
		del  string
		want string
	}{{"", "10.1.2.0/24"}, {"10.1.2.0/24", "10.0.0.0/8"}, {"10.0.0.0/8", ""}} {
		if c.del != "" {
			l.RouteDelete(pfx(c.del))
		}
		r, ok := l.RouteTo(a)
		if got := r.Prefix.String(); c.want == "" && ok || c.want != "" && (!ok || got != c.want) {
			t.Errorf("after deleting %q: RouteTo(%s) = %s, %v; want %q", c.del, a, got, ok, c.want)
		}
	}
}

// TestSortRun checks sortRun against a plain sort, for sorted runs followed
// by tails of every length, in and out of order.
func TestSortRun(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	fecOf := func(i int) fec.FEC {
		return fec.Prefix(netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24))
	}
	for n := range 40 {
		for run := 0; run <= n; run++ {
			ps := make([]fec.FEC, n)
			for i := range ps {
				ps[i] = fecOf(rnd.IntN(30))
			}
			slices.SortFunc(ps[:run], fec.FEC.Compare)
			want := slices.Clone(ps)
			slices.SortFunc(want, fec.FEC.Compare)
			if got := sortRun(slices.Clone(ps)); !slices.Equal(got, want) {
				t.Fatalf("sortRun(%v) = %v, want %v", ps, got, want)
			}
		}
	}
}
