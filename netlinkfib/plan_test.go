package netlinkfib

import (
	"fmt"
	"net/netip"
	"reflect"
	"testing"

	"github.com/lsrd/lsrd/fib"
)

var (
	gwA = netip.MustParseAddr("10.0.0.2")
	gwB = netip.MustParseAddr("10.0.1.2")
)

func kh(gw netip.Addr, ifindex int, labels ...fib.Label) hop {
	return hop{gw: gw, ifindex: ifindex, labels: labels}
}

func pfx(i int) netip.Prefix { return netip.MustParsePrefix(fmt.Sprintf("198.18.%d.0/24", i)) }

var id0 = blockOf(DefaultProtocol).first

func TestDiffLabels(t *testing.T) {
	have := newKernelState()
	have.labels[100] = labelRoute{in: 100, hops: []hop{kh(gwA, 2, 200)}}
	have.labels[101] = labelRoute{in: 101, hops: []hop{kh(gwA, 2)}}
	have.labels[102] = labelRoute{in: 102, hops: []hop{kh(gwA, 2, 1)}}
	have.foreignLabels[500] = 4
	want := desiredState{labels: map[fib.Label]labelRoute{
		100: {in: 100, hops: []hop{kh(gwA, 2, 200)}},        // unchanged
		101: {in: 101, hops: []hop{kh(gwA, 2, 0)}},          // PHP -> explicit-null
		103: {in: 103, hops: []hop{kh(gwA, 2), kh(gwB, 3)}}, // new, ECMP
		500: {in: 500, hops: []hop{kh(gwA, 2, 7)}},          // another protocol's
	}}
	p := diff(want, have, &idAllocator{used: map[uint32]bool{}}, nil)
	if got := p.labelAdd; len(got) != 1 || got[0].in != 103 {
		t.Errorf("add %v", got)
	}
	if got := p.labelReplace; len(got) != 1 || got[0].in != 101 {
		t.Errorf("replace %v", got)
	}
	if got := p.labelDelete; !reflect.DeepEqual(got, []fib.Label{102}) {
		t.Errorf("delete %v", got)
	}
	if len(p.conflicts) != 1 || p.conflicts[0].Item != "label 500" {
		t.Errorf("conflicts %v", p.conflicts)
	}
}

// Prefixes behind the same labelled next hop share one object; a second
// stack gets a second object; routes point at them.
func TestDiffFTNSharing(t *testing.T) {
	want := desiredState{ftn: map[netip.Prefix][]hop{}}
	for i := range 100 {
		want.ftn[pfx(i)] = []hop{kh(gwA, 2, 300)}
	}
	want.ftn[pfx(200)] = []hop{kh(gwA, 2, 301)}
	have := newKernelState()
	have.usedIDs[id0] = true // a foreign object sits on our first ID
	p := diff(want, have, &idAllocator{used: have.usedIDs}, nil)
	if len(p.nexthopAdd) != 2 || p.nexthopAdd[0].id != id0+1 || p.nexthopAdd[1].id != id0+2 {
		t.Fatalf("nexthop add %v", p.nexthopAdd)
	}
	if len(p.routeAdd) != 101 || p.routeAdd[0].nhid != id0+1 || p.routeAdd[100].nhid != id0+2 {
		t.Errorf("routes %v", p.routeAdd)
	}
}

// Relabelling an LSP replaces its object in place: no route changes.
func TestDiffFTNRelabelInPlace(t *testing.T) {
	have := newKernelState()
	have.nexthops[id0] = kh(gwA, 2, 300)
	have.nexthops[id0+1] = kh(gwB, 3, 400)
	want := desiredState{ftn: map[netip.Prefix][]hop{}}
	for i := range 50 {
		have.setRoute(pfx(i), id0)
		want.ftn[pfx(i)] = []hop{kh(gwA, 2, 301)}
	}
	for i := 50; i < 60; i++ {
		have.setRoute(pfx(i), id0+1)
		want.ftn[pfx(i)] = []hop{kh(gwB, 3, 400)}
	}
	p := diff(want, have, &idAllocator{used: map[uint32]bool{id0: true, id0 + 1: true}}, nil)
	wantPlan := &plan{nexthopReplace: []nexthopObject{{id: id0, hop: kh(gwA, 2, 301)}}}
	if !reflect.DeepEqual(p, wantPlan) {
		t.Errorf("plan %+v, want %+v", p, wantPlan)
	}
}

// When the old stack is still wanted by some prefixes, the object stays and
// the moved prefixes get a new one.
func TestDiffFTNSplit(t *testing.T) {
	have := newKernelState()
	have.nexthops[id0] = kh(gwA, 2, 300)
	want := desiredState{ftn: map[netip.Prefix][]hop{}}
	for i := range 4 {
		have.setRoute(pfx(i), id0)
		want.ftn[pfx(i)] = []hop{kh(gwA, 2, fib.Label(300+i%2))}
	}
	p := diff(want, have, &idAllocator{used: map[uint32]bool{id0: true}}, nil)
	if len(p.nexthopReplace) != 0 || len(p.nexthopAdd) != 1 || p.nexthopAdd[0].id != id0+1 {
		t.Fatalf("nexthops: add %v replace %v", p.nexthopAdd, p.nexthopReplace)
	}
	if len(p.routeReplace) != 2 || p.routeReplace[0].prefix != pfx(1) || p.routeReplace[1].prefix != pfx(3) {
		t.Errorf("routes %v", p.routeReplace)
	}
	if len(p.nexthopDelete) != 0 {
		t.Errorf("collected %v", p.nexthopDelete)
	}
}

// ECMP: one group per member set, shared; a leg relabel is a member
// replace; shrinking to one leg moves routes and collects the group and the
// unused member.
func TestDiffFTNGroups(t *testing.T) {
	want := desiredState{ftn: map[netip.Prefix][]hop{}}
	for i := range 10 {
		want.ftn[pfx(i)] = []hop{kh(gwA, 2, 500), kh(gwB, 3, 600)}
	}
	have := newKernelState()
	p := diff(want, have, &idAllocator{used: have.usedIDs}, nil)
	if len(p.nexthopAdd) != 2 || len(p.groupAdd) != 1 || !reflect.DeepEqual(p.groupAdd[0].members, []uint32{id0, id0 + 1}) {
		t.Fatalf("add %v groups %v", p.nexthopAdd, p.groupAdd)
	}
	if len(p.routeAdd) != 10 || p.routeAdd[0].nhid != id0+2 {
		t.Errorf("routes %v", p.routeAdd)
	}

	have.nexthops[id0], have.nexthops[id0+1] = kh(gwA, 2, 500), kh(gwB, 3, 600)
	have.setGroup(id0+2, []uint32{id0, id0 + 1})
	for i := range 10 {
		have.setRoute(pfx(i), id0+2)
		want.ftn[pfx(i)] = []hop{kh(gwA, 2, 500), kh(gwB, 3, 601)}
	}
	p = diff(want, have, &idAllocator{used: map[uint32]bool{id0: true, id0 + 1: true, id0 + 2: true}}, nil)
	wantPlan := &plan{nexthopReplace: []nexthopObject{{id: id0 + 1, hop: kh(gwB, 3, 601)}}}
	if !reflect.DeepEqual(p, wantPlan) {
		t.Errorf("leg relabel: %+v", p)
	}

	for i := range 10 {
		want.ftn[pfx(i)] = []hop{kh(gwA, 2, 500)}
	}
	p = diff(want, have, &idAllocator{used: map[uint32]bool{id0: true, id0 + 1: true, id0 + 2: true}}, nil)
	if len(p.routeReplace) != 10 || p.routeReplace[0].nhid != id0 {
		t.Errorf("routes %v", p.routeReplace)
	}
	if !reflect.DeepEqual(p.groupDelete, []uint32{id0 + 2}) || !reflect.DeepEqual(p.nexthopDelete, []uint32{id0 + 1}) {
		t.Errorf("garbage: groups %v nexthops %v", p.groupDelete, p.nexthopDelete)
	}
}

// Everything of ours and nothing desired: delete it all (Flush); foreign
// routes are not in the state at all, so never in the plan.
func TestDiffFlush(t *testing.T) {
	have := newKernelState()
	have.labels[100] = labelRoute{in: 100, hops: []hop{kh(gwA, 2, 200)}}
	have.nexthops[id0] = kh(gwA, 2, 300)
	have.setGroup(id0+1, []uint32{id0})
	have.setRoute(pfx(1), id0+1)
	have.foreignRoutes[pfx(2)] = 4
	p := diff(desiredState{}, have, &idAllocator{used: map[uint32]bool{}}, nil)
	want := &plan{labelDelete: []fib.Label{100}, routeDelete: []prefixRoute{{prefix: pfx(1)}},
		groupDelete: []uint32{id0 + 1}, nexthopDelete: []uint32{id0}}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("plan %+v, want %+v", p, want)
	}
}

func TestResolve(t *testing.T) {
	tab := fib.NewTable()
	tab.LFIB[100] = fib.LFIBEntry{InLabel: 100, NextHops: []fib.NextHop{
		{Addr: gwB, Ifname: "b", Labels: []fib.Label{7}},
		{Addr: gwA, Ifname: "a", Labels: []fib.Label{fib.LabelImplicitNull}},
		{Addr: gwB, Ifname: "b", Labels: []fib.Label{7}},
	}}
	tab.LFIB[101] = fib.LFIBEntry{InLabel: 101, NextHops: []fib.NextHop{{Addr: gwA, Ifname: "nope"}}}
	tab.LFIB[3] = fib.LFIBEntry{InLabel: 3, NextHops: []fib.NextHop{{Addr: gwA, Ifname: "a"}}}
	tab.FTN[netip.MustParsePrefix("10.1.1.1/24")] = fib.FTNEntry{NextHops: []fib.NextHop{{Addr: gwA, Ifname: "a"}}}
	d, errs := resolve(tab, func(name string) (int, bool) {
		idx, ok := map[string]int{"a": 2, "b": 3}[name]
		return idx, ok
	}, true)
	// Sorted, deduplicated, implicit-null dropped.
	if got := d.labels[100].hops; !reflect.DeepEqual(got, []hop{{gw: gwA, ifindex: 2}, kh(gwB, 3, 7)}) {
		t.Errorf("label 100 hops %v", got)
	}
	if len(errs) != 3 {
		t.Fatalf("errors %v", errs)
	}
	for i, want := range []string{
		`resolve label 101: next hop 10.0.0.2 dev nope: interface "nope" not found`,
		`resolve label implicit-null: incoming label 3 is reserved or beyond 20 bits`,
		`resolve prefix 10.1.1.1/24: prefix has host bits set or is invalid`,
	} {
		if errs[i].Error() != want {
			t.Errorf("error %d: %q, want %q", i, errs[i].Error(), want)
		}
	}
}

// An LSP goes and comes back while a route to its next hop itself uses the
// unlabelled gateway: the LSP's object is relabelled to plain IP and back in
// place, beside the other object with the same hop; no prefix moves.
func TestDiffFTNFallbackInPlace(t *testing.T) {
	have := newKernelState()
	have.nexthops[id0] = kh(gwA, 2)        // the next hop's own route (PHP)
	have.nexthops[id0+1] = kh(gwA, 2, 300) // the LSP the BGP prefixes use
	want := desiredState{ftn: map[netip.Prefix][]hop{}}
	have.setRoute(pfx(200), id0)
	want.ftn[pfx(200)] = []hop{kh(gwA, 2)}
	for i := range 100 {
		have.setRoute(pfx(i), id0+1)
		want.ftn[pfx(i)] = []hop{kh(gwA, 2)} // the LSP is gone: plain IP
	}
	used := map[uint32]bool{id0: true, id0 + 1: true}
	p := diff(want, have, &idAllocator{used: used}, nil)
	wantPlan := &plan{nexthopReplace: []nexthopObject{{id: id0 + 1, hop: kh(gwA, 2)}}}
	if !reflect.DeepEqual(p, wantPlan) {
		t.Fatalf("LSP gone: %+v, want %+v", p, wantPlan)
	}
	have.nexthops[id0+1] = kh(gwA, 2)
	if p := diff(want, have, &idAllocator{used: used}, nil); !p.empty() {
		t.Fatalf("two objects with the same hop, nothing changed: %+v", p)
	}
	// A new prefix takes the lowest object with its hop.
	want.ftn[pfx(201)] = []hop{kh(gwA, 2)}
	if p := diff(want, have, &idAllocator{used: used}, nil); len(p.routeAdd) != 1 || p.routeAdd[0].nhid != id0 || len(p.routeReplace) != 0 {
		t.Fatalf("new prefix: %+v", p)
	}
	delete(want.ftn, pfx(201))
	for i := range 100 {
		want.ftn[pfx(i)] = []hop{kh(gwA, 2, 301)} // back, with a new label
	}
	p = diff(want, have, &idAllocator{used: used}, nil)
	wantPlan = &plan{nexthopReplace: []nexthopObject{{id: id0 + 1, hop: kh(gwA, 2, 301)}}}
	if !reflect.DeepEqual(p, wantPlan) {
		t.Fatalf("LSP back: %+v, want %+v", p, wantPlan)
	}
}
