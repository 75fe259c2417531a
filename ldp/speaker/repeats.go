package speaker

import (
	"context"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/lsrd/lsrd/ldp"
	"github.com/lsrd/lsrd/ldp/transport"
)

// Discovery's fast path (ldp/repeats.go): the hello reader counts the
// hellos that repeat what their adjacency accepted last, and only the
// others go to the engine. An adjacency's repeats wake nothing but the
// reader; their counts reach the engine before the next event it handles.

// repeatKey finds the Repeat a datagram may match: a link hello by the
// interface it came in on and its source, a targeted one by its source.
type repeatKey struct {
	ifindex  int
	src      netip.Addr
	targeted bool
}

// repeatSlot counts one Repeat's repeats; the reader adds, the speaker
// takes.
type repeatSlot struct {
	r     *ldp.Repeat
	count atomic.Uint64
	last  atomic.Int64 // arrival of the latest, Unix nanoseconds
}

// repeatTable is what the reader matches against; replaced whole, never
// changed.
type repeatTable map[repeatKey]*repeatSlot

func keyOf(h transport.Hello) repeatKey {
	k := repeatKey{src: h.Src.Addr(), targeted: h.Targeted()}
	if !k.targeted {
		k.ifindex = h.Ifindex
	}
	return k
}

// repeated counts h and reports true when it repeats its adjacency's last
// accepted hello. It runs on the reader's goroutine.
func (s *Speaker) repeated(h transport.Hello) bool {
	t := s.repeats.Load()
	if t == nil {
		return false
	}
	slot := (*t)[keyOf(h)]
	if slot == nil || !slot.r.Repeats(h.Data, h.TTL) {
		return false
	}
	slot.last.Store(s.opt.Now().UnixNano())
	slot.count.Add(1)
	s.repeatCount.Add(1)
	s.repeatsPending.Store(true)
	return true
}

// HellosRepeated counts the hellos taken by the fast path since the
// speaker started.
func (s *Speaker) HellosRepeated() uint64 { return s.repeatCount.Load() }

// syncRepeats rebuilds the reader's table when the engine's list changed.
// A slot whose Repeat is unchanged is kept, with what it counted.
func (s *Speaker) syncRepeats() {
	gen := s.eng.RepeatsGen()
	if s.repeatsBuilt && gen == s.repeatsGen {
		return
	}
	s.repeatsGen, s.repeatsBuilt = gen, true
	var old repeatTable
	if t := s.repeats.Load(); t != nil {
		old = *t
	}
	t := repeatTable{}
	kept := map[*repeatSlot]bool{}
	for _, r := range s.eng.Repeats() {
		k := repeatKey{src: r.Src, targeted: r.Targeted}
		if !r.Targeted {
			ifc, ok := s.ifaces[r.Ifname]
			if !ok {
				continue
			}
			k.ifindex = ifc.Index
		}
		if o := old[k]; o != nil && o.r.Repeats(r.Hello, r.TTL) && o.r.Ifname == r.Ifname {
			t[k] = o
			kept[o] = true
			continue
		}
		t[k] = &repeatSlot{r: r}
	}
	// What the dropped slots counted still goes to the engine (next
	// flush); a reader that loaded the old table a moment ago may add one
	// more to them, which is lost: its adjacency changed anyway.
	// The old table is never written: the reader may be reading it.
	for _, o := range old {
		if !kept[o] {
			s.retired = append(s.retired, o)
		}
	}
	s.repeats.Store(&t)
}

// flushRepeats hands the engine what the reader counted, if anything.
func (s *Speaker) flushRepeats(ctx context.Context) {
	if !s.repeatsPending.Swap(false) {
		return
	}
	var seen []ldp.SeenHello
	take := func(slot *repeatSlot) {
		if n := slot.count.Swap(0); n > 0 {
			seen = append(seen, ldp.SeenHello{Of: slot.r, Count: n, Last: time.Unix(0, slot.last.Load())})
		}
	}
	if t := s.repeats.Load(); t != nil {
		for _, slot := range *t {
			take(slot)
		}
	}
	for _, slot := range s.retired {
		take(slot)
	}
	s.retired = nil
	if len(seen) == 0 {
		return
	}
	for _, a := range s.eng.Handle(s.opt.Now(), ldp.HellosSeen{Seen: seen}) {
		s.do(ctx, a)
	}
}
