package netlinkfib

import (
	"net/netip"
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
	objects map[uint32]bool // nexthop objects and groups
	at      time.Time
}

// adopt records everything of lsrd's that s holds; nil when it holds
// nothing (a first start, or a clean stop before): there is nothing to keep.
func adopt(s *kernelState, now time.Time) *adoption {
	if len(s.labels)+len(s.routes)+len(s.nexthops)+len(s.groups) == 0 {
		return nil
	}
	a := &adoption{labels: make(map[fib.Label]bool, len(s.labels)), routes: make(map[netip.Prefix]bool, len(s.routes)),
		objects: make(map[uint32]bool, len(s.nexthops)+len(s.groups)), at: now}
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
