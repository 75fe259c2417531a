package lib

import (
	"net/netip"

	"github.com/lsrd/lsrd/fib"
)

// allocator hands out local labels from the configured range. A label is in
// use while it is bound to a FEC or while any peer still holds it: RFC 5036
// section 3.5.10 lets a peer keep using a withdrawn label until it answers
// with a Label Release, so the label may only be reused after the last
// holder released it (appendix A.1.6) or its session went down.
//
// Fresh labels are handed out before released ones, and released ones in
// the order they were freed, so that a label lingers unused as long as the
// range allows: stale traffic still carrying it then finds no LSP rather
// than the wrong one.
type allocator struct {
	min, max fib.Label
	next     fib.Label   // lowest label never handed out; max+1 when all were
	free     []fib.Label // released labels, oldest first from head
	head     int
	used     map[fib.Label]labelUse
}

// labelUse is why a label cannot be reused yet.
type labelUse struct {
	fec     netip.Prefix // the FEC it was allocated for
	bound   bool         // still that FEC's local label
	holders int          // peers that got a mapping with it and did not release it
}

func newAllocator(min, max fib.Label) allocator {
	return allocator{min: min, max: max, next: min, used: map[fib.Label]labelUse{}}
}

// size is the number of labels in the range.
func (a *allocator) size() int { return int(a.max-a.min) + 1 }

// available is the number of labels get can still hand out.
func (a *allocator) available() int {
	return int(a.max) - int(a.next) + 1 + len(a.free) - a.head
}

// get binds a free label to p, or reports exhaustion.
func (a *allocator) get(p netip.Prefix) (fib.Label, bool) {
	var l fib.Label
	switch {
	case a.next <= a.max:
		l = a.next
		a.next++
	case a.head < len(a.free):
		l = a.free[a.head]
		a.head++
		if a.head > 64 && a.head*2 > len(a.free) {
			a.free = append(a.free[:0], a.free[a.head:]...)
			a.head = 0
		}
	default:
		return 0, false
	}
	a.used[l] = labelUse{fec: p, bound: true}
	return l, true
}

// unbind records that l is no longer its FEC's local label; it returns to
// the pool once no peer holds it.
func (a *allocator) unbind(l fib.Label) {
	u, ok := a.used[l]
	if !ok {
		return
	}
	u.bound = false
	a.settle(l, u)
}

// hold records that one more peer got a mapping carrying l.
func (a *allocator) hold(l fib.Label) {
	if u, ok := a.used[l]; ok {
		u.holders++
		a.used[l] = u
	}
}

// drop records that a peer no longer holds l (Label Release, or its session
// went down).
func (a *allocator) drop(l fib.Label) {
	u, ok := a.used[l]
	if !ok || u.holders == 0 {
		return
	}
	u.holders--
	a.settle(l, u)
}

func (a *allocator) settle(l fib.Label, u labelUse) {
	if u.bound || u.holders > 0 {
		a.used[l] = u
		return
	}
	delete(a.used, l)
	a.free = append(a.free, l)
}
