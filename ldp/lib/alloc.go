package lib

import (
	"github.com/lsrd/lsrd/ldp/fec"
	"slices"

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
//
// After a graceful restart (RFC 3478) the allocator may be seeded with the
// labels FECs had in the previous run: each is kept for its FEC (reserved,
// counted as in use) until that FEC asks for a label again or the seed is
// dropped, so that the forwarding state the kernel kept stays right.
type allocator struct {
	min, max fib.Label
	next     fib.Label   // lowest label never handed out; max+1 when all were
	free     []fib.Label // released labels, oldest first from head
	head     int
	used     map[fib.Label]labelUse
	// ahead are the labels at or above next that are in use (seeded):
	// next skips them, and one that is freed before next reaches it
	// stays fresh rather than going to the free list.
	ahead map[fib.Label]struct{}
	// seed maps a FEC to the label kept for it, until claimed or dropped.
	seed map[fec.FEC]fib.Label
}

// labelUse is why a label cannot be reused yet.
type labelUse struct {
	fec      fec.FEC // the FEC it was allocated (or is kept) for
	bound    bool    // still that FEC's local label
	holders  int     // peers that got a mapping with it and did not release it
	reserved bool    // seeded: kept for fec, not bound yet
}

func newAllocator(min, max fib.Label, seed map[fec.FEC]fib.Label) allocator {
	a := allocator{min: min, max: max, next: min, used: map[fib.Label]labelUse{},
		ahead: map[fib.Label]struct{}{}, seed: map[fec.FEC]fib.Label{}}
	// In prefix order, so that of two FECs a damaged seed gives one
	// label, the same one always wins.
	ps := make([]fec.FEC, 0, len(seed))
	for p := range seed {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, fec.FEC.Compare)
	for _, p := range ps {
		l := seed[p]
		if l < min || l > max || !p.IsValid() {
			continue
		}
		if _, taken := a.used[l]; taken {
			continue
		}
		a.used[l] = labelUse{fec: p, reserved: true}
		a.ahead[l] = struct{}{}
		a.seed[p] = l
	}
	return a
}

// setRange moves the allocation range to min..max. Labels in use keep
// their state wherever they are; a label outside the new range is never
// handed out again, and is forgotten once its FEC and every holder let it
// go. Inside the new range, every label not in use counts as fresh again,
// handed out from min up, so that the free list (which may hold labels
// outside the range) starts empty.
func (a *allocator) setRange(min, max fib.Label) {
	a.min, a.max, a.next = min, max, min
	a.free, a.head = nil, 0
	clear(a.ahead)
	for l := range a.used {
		if a.inRange(l) {
			a.ahead[l] = struct{}{}
		}
	}
	for p, l := range a.seed {
		if !a.inRange(l) {
			delete(a.seed, p)
			if u := a.used[l]; u.reserved && u.fec == p {
				u.reserved = false
				a.settle(l, u)
			}
		}
	}
}

// inRange tells whether l is in the allocation range.
func (a *allocator) inRange(l fib.Label) bool { return l >= a.min && l <= a.max }

// size is the number of labels in the range.
func (a *allocator) size() int { return int(a.max-a.min) + 1 }

// available is the number of labels get can still hand out.
func (a *allocator) available() int {
	return int(a.max) - int(a.next) + 1 - len(a.ahead) + len(a.free) - a.head
}

// get binds a free label to p, or reports exhaustion. A label kept for p
// by the seed comes first (seeded true).
func (a *allocator) get(p fec.FEC) (l fib.Label, ok, seeded bool) {
	if l, ok := a.seed[p]; ok {
		delete(a.seed, p)
		if u := a.used[l]; u.reserved && u.fec == p {
			a.used[l] = labelUse{fec: p, bound: true}
			return l, true, true
		}
	}
	l, ok = a.fresh(p)
	return l, ok, false
}

// fresh binds a label that was never handed out, or the oldest released.
func (a *allocator) fresh(p fec.FEC) (fib.Label, bool) {
	var l fib.Label
	for {
		switch {
		case a.next <= a.max:
			l = a.next
			a.next++
			if _, skip := a.ahead[l]; skip {
				delete(a.ahead, l)
				continue
			}
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
		break
	}
	a.used[l] = labelUse{fec: p, bound: true}
	return l, true
}

// dropSeed gives the labels still kept for FECs that did not come back to
// the pool, and reports whether any did.
func (a *allocator) dropSeed() bool {
	ps := make([]fec.FEC, 0, len(a.seed))
	for p := range a.seed {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, fec.FEC.Compare)
	freed := false
	for _, p := range ps {
		l := a.seed[p]
		delete(a.seed, p)
		if u := a.used[l]; u.reserved && u.fec == p {
			u.reserved = false
			a.settle(l, u)
			freed = true
		}
	}
	return freed
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
	if u.bound || u.holders > 0 || u.reserved {
		a.used[l] = u
		return
	}
	delete(a.used, l)
	if !a.inRange(l) {
		// From a range the configuration has left (setRange).
		return
	}
	if _, ok := a.ahead[l]; ok {
		// Not reached by next yet: it is fresh again.
		delete(a.ahead, l)
		return
	}
	a.free = append(a.free, l)
}
