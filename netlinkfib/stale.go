package netlinkfib

import (
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/lsrd/lsrd/fib"
)

// adoption is what the FIB found of lsrd's in the kernel when it started:
// a previous run's forwarding, kept on purpose (keep-routes-on-shutdown) or
// left by a crash. Every object in it is stale, in zebra's sense
// (rib_sweep_table) and GoBGP's (StaleAll, DropStale): it forwards, and no
// pass deletes it, until the parent declares that its producers have
// re-published what they want (SweepStale). A stale object the desired
// table wants with other contents is replaced in place (NLM_F_REPLACE),
// never deleted and added again. Objects this run installed itself are not
// in it: withdrawing them is an ordinary delete.
//
// The sets are keys, not contents: they survive the kernel being re-read,
// and a stale object that a producer confirmed and withdrew again before
// the sweep is kept too (the producer may still be catching up).
type adoption struct {
	labels  map[fib.Label]bool
	routes  map[netip.Prefix]bool
	throws  map[netip.Prefix]bool
	objects map[uint32]bool // nexthop objects and groups
	at      time.Time
}

// adopt records everything of lsrd's that s holds; nil when it holds
// nothing (a first start, or a clean stop before): there is nothing to keep.
func adopt(s *kernelState, now time.Time) *adoption {
	if len(s.labels)+len(s.routes)+len(s.nexthops)+len(s.groups)+len(s.throws) == 0 {
		return nil
	}
	a := &adoption{labels: make(map[fib.Label]bool, len(s.labels)), routes: make(map[netip.Prefix]bool, len(s.routes)),
		throws:  make(map[netip.Prefix]bool, len(s.throws)),
		objects: make(map[uint32]bool, len(s.nexthops)+len(s.groups)), at: now}
	for p := range s.throws {
		a.throws[p] = true
	}
	for l := range s.labels {
		a.labels[l] = true
	}
	for p := range s.routes {
		a.routes[p] = true
	}
	for id := range s.nexthops {
		a.objects[id] = true
	}
	for id := range s.groups {
		a.objects[id] = true
	}
	return a
}

// keepsLabel, keepsRoute and keepsObject say whether a pass must leave the
// object in place even though nothing wants it. A nil adoption keeps
// nothing: after the sweep, or when nothing was adopted.
func (a *adoption) keepsLabel(l fib.Label) bool    { return a != nil && a.labels[l] }
func (a *adoption) keepsRoute(p netip.Prefix) bool { return a != nil && a.routes[p] }
func (a *adoption) keepsObject(id uint32) bool     { return a != nil && a.objects[id] }
func (a *adoption) keepsThrow(p netip.Prefix) bool { return a != nil && a.throws[p] }

// stale counts the adopted label routes and IP routes the kernel still holds
// and the desired state does not want: what a sweep now would delete.
func (a *adoption) stale(want desiredState, have *kernelState) int {
	if a == nil {
		return 0
	}
	n := 0
	for l := range a.labels {
		if _, held := have.labels[l]; held {
			if _, wanted := want.labels[l]; !wanted {
				n++
			}
		}
	}
	for p := range a.routes {
		if _, held := have.routes[p]; held {
			if _, wanted := want.ftn[p]; !wanted {
				n++
			}
		}
	}
	return n
}

// Adopted is what the FIB found of a previous run's in the kernel at start.
type Adopted struct {
	Labels   int `json:"labels"`   // MPLS label routes
	Prefixes int `json:"prefixes"` // IP routes
	Nexthops int `json:"nexthops"` // nexthop objects and groups
}

// Routes is the number of label routes and IP routes adopted.
func (a Adopted) Routes() int { return a.Labels + a.Prefixes }

// Empty reports whether nothing was adopted.
func (a Adopted) Empty() bool { return a.Routes()+a.Nexthops == 0 }

// holdDowngrades leaves out of want the IP routes that would replace a
// stale route pushing a label with one that pushes none, until the sweep.
// After a restart a route resolved over an LSP (a BGP route in a BGP-free
// core, a route to a remote loopback) is published before LDP has learned
// the LSP's label again; replaced as it is, the traffic would leave
// unlabelled, which the core drops. Left out, the previous run's route
// forwards until the producer publishes the label or the sweep. A route the
// kernel no longer holds (its link went) is not held: nothing forwards in
// its place, and LDP may need it to reach a neighbour.
func (a *adoption) holdDowngrades(want desiredState, have *kernelState) desiredState {
	if a == nil {
		return want
	}
	var ftn map[netip.Prefix][]hop
	for p := range a.routes {
		hops, wanted := want.ftn[p]
		if !wanted || slices.ContainsFunc(hops, func(h hop) bool { return len(h.labels) > 0 }) {
			continue
		}
		if id, held := have.routes[p]; !held || !have.pushes(id) {
			continue
		}
		if ftn == nil {
			ftn = maps.Clone(want.ftn)
		}
		delete(ftn, p)
	}
	if ftn != nil {
		want.ftn = ftn
	}
	return want
}

// pushes reports whether the nexthop object or group id pushes a label.
func (s *kernelState) pushes(id uint32) bool {
	if h, ok := s.nexthops[id]; ok {
		return len(h.labels) > 0
	}
	for _, m := range s.groups[id] {
		if len(s.nexthops[m].labels) > 0 {
			return true
		}
	}
	return false
}
