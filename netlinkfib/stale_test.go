package netlinkfib

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/lsrd/lsrd/fib"
)

// A previous run's label routes are replaced when wanted otherwise and kept
// when not wanted yet; the sweep deletes them. A label this run installed
// itself is deleted as usual.
func TestDiffKeepsAdoptedLabels(t *testing.T) {
	have := newKernelState()
	have.labels[100] = labelRoute{in: 100, hops: []hop{kh(gwA, 2, 200)}}
	have.labels[101] = labelRoute{in: 101, hops: []hop{kh(gwA, 2, 201)}}
	keep := adopt(have, time.Now())
	have.labels[102] = labelRoute{in: 102, hops: []hop{kh(gwB, 3)}} // installed by this run
	want := desiredState{labels: map[fib.Label]labelRoute{
		100: {in: 100, hops: []hop{kh(gwB, 3, 300)}}, // wanted otherwise
	}}
	p := diff(want, have, &idAllocator{used: map[uint32]bool{}}, keep)
	if len(p.labelReplace) != 1 || p.labelReplace[0].in != 100 || len(p.labelAdd) != 0 {
		t.Errorf("label 100 wanted otherwise: add %v replace %v, want one replace", p.labelAdd, p.labelReplace)
	}
	if !reflect.DeepEqual(p.labelDelete, []fib.Label{102}) {
		t.Errorf("before the sweep, delete %v, want only 102 (this run's)", p.labelDelete)
	}
	if n := keep.stale(want, have); n != 1 {
		t.Errorf("stale %d, want 1 (label 101)", n)
	}
	p = diff(want, have, &idAllocator{used: map[uint32]bool{}}, nil)
	if !reflect.DeepEqual(p.labelDelete, []fib.Label{101, 102}) {
		t.Errorf("after the sweep, delete %v, want 101 and 102", p.labelDelete)
	}
}

// A stale prefix nothing wants yet keeps its route and forwards as before,
// even when it shares its nexthop object with a prefix that is relabelled:
// the wanted stack gets an object of its own instead of the shared one
// being replaced. Adopted objects nobody uses are not collected. After the
// sweep the relabel goes in place as usual, and the garbage goes.
func TestDiffKeepsAdoptedRoutes(t *testing.T) {
	have := newKernelState()
	have.nexthops[id0] = kh(gwA, 2, 300)
	have.nexthops[id0+1] = kh(gwB, 3, 400) // used by nothing
	have.nexthops[id0+2] = kh(gwA, 2, 500)
	have.nexthops[id0+3] = kh(gwB, 3, 501)
	have.setGroup(id0+4, []uint32{id0 + 2, id0 + 3})
	have.setRoute(pfx(0), id0)
	have.setRoute(pfx(1), id0)
	have.setRoute(pfx(2), id0+4)
	have.setRoute(pfx(3), id0+4)
	used := map[uint32]bool{id0: true, id0 + 1: true, id0 + 2: true, id0 + 3: true, id0 + 4: true}
	keep := adopt(have, time.Now())
	want := desiredState{ftn: map[netip.Prefix][]hop{
		pfx(0): {kh(gwA, 2, 301)},                  // relabelled
		pfx(2): {kh(gwA, 2, 500), kh(gwB, 3, 502)}, // an ECMP leg relabelled
	}}
	p := diff(want, have, &idAllocator{used: used}, keep)
	if len(p.nexthopReplace) != 0 || len(p.groupReplace) != 0 {
		t.Errorf("objects stale routes use were replaced: nexthops %v groups %v", p.nexthopReplace, p.groupReplace)
	}
	if len(p.routeDelete)+len(p.labelDelete)+len(p.nexthopDelete)+len(p.groupDelete) != 0 {
		t.Errorf("deletes before the sweep: %+v", p)
	}
	if len(p.routeReplace) != 2 || p.routeReplace[0].prefix != pfx(0) || p.routeReplace[1].prefix != pfx(2) || len(p.routeAdd) != 0 {
		t.Errorf("route replace %v add %v, want pfx 0 and 2 moved in place", p.routeReplace, p.routeAdd)
	}
	if n := keep.stale(want, have); n != 2 {
		t.Errorf("stale %d, want 2", n)
	}

	// The sweep: nothing kept. Relabelling in place is allowed again, and
	// the routes and objects nothing wants go.
	p = diff(want, have, &idAllocator{used: used}, nil)
	if !reflect.DeepEqual(p.routeDelete, []prefixRoute{{prefix: pfx(1)}, {prefix: pfx(3)}}) {
		t.Errorf("after the sweep, route delete %v", p.routeDelete)
	}
	if len(p.nexthopReplace) != 2 || len(p.routeReplace) != 0 {
		t.Errorf("after the sweep, want both relabels in place: nexthop replace %v route replace %v", p.nexthopReplace, p.routeReplace)
	}
	if !reflect.DeepEqual(p.nexthopDelete, []uint32{id0 + 1}) {
		t.Errorf("after the sweep, collected %v, want the unused adopted object", p.nexthopDelete)
	}
}

// Nothing of lsrd's in the kernel: nothing to keep (a first start).
func TestAdoptNothing(t *testing.T) {
	if a := adopt(newKernelState(), time.Now()); a != nil {
		t.Errorf("adopted %+v from an empty kernel", a)
	}
	var a *adoption
	if a.keepsLabel(16) || a.keepsRoute(pfx(0)) || a.keepsObject(id0) || a.stale(desiredState{}, newKernelState()) != 0 {
		t.Error("a nil adoption keeps something")
	}
}

// Before the sweep a stale route that pushes a label is never replaced by
// one that pushes none (an LSP's label not learned again yet after a
// restart); one that pushed none, a labelled replacement, and a route the
// kernel no longer holds go as wanted. After the sweep the unlabelled route
// goes in.
func TestHoldDowngrades(t *testing.T) {
	have := newKernelState()
	have.nexthops[id0] = kh(gwA, 2, 300)
	have.nexthops[id0+1] = kh(gwB, 3)
	have.setRoute(pfx(0), id0)   // labelled
	have.setRoute(pfx(1), id0+1) // unlabelled
	have.setRoute(pfx(2), id0)   // labelled
	have.setRoute(pfx(3), id0)   // labelled, gone from the kernel below
	keep := adopt(have, time.Now())
	delete(have.routes, pfx(3))
	want := desiredState{ftn: map[netip.Prefix][]hop{
		pfx(0): {kh(gwA, 2)},      // would lose its label: held
		pfx(1): {kh(gwA, 2)},      // had none: goes
		pfx(2): {kh(gwA, 2, 301)}, // relabelled: goes
		pfx(3): {kh(gwA, 2)},      // not held: nothing forwards in its place
	}}
	got := keep.holdDowngrades(want, have)
	if _, held := got.ftn[pfx(0)]; held || len(got.ftn) != 3 {
		t.Errorf("before the sweep %v, want all but prefix 0", got.ftn)
	}
	if len(want.ftn) != 4 {
		t.Errorf("the desired state itself changed: %v", want.ftn)
	}
	var none *adoption
	if got := none.holdDowngrades(want, have); len(got.ftn) != 4 {
		t.Errorf("after the sweep %v, want every route", got.ftn)
	}
}
