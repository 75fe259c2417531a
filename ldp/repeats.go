package ldp

import (
	"bytes"
	"net/netip"
	"slices"
	"time"

	"github.com/lsrd/lsrd/ldp/wire"
)

// Discovery's fast path: hellos the runtime takes without the engine.
//
// OpenBSD/FRR ldpd read hellos in ldpe, a process of their own, where a
// hello costs a read and a timer. Here every hello went from the socket's
// goroutine to the speaker's and through the engine: on a segment of 60
// routers, 12 a second on each, every one waking two threads of an
// otherwise idle process, and the routers' CPU at rest grew with the
// square of their number. At rest nearly every hello repeats, byte for byte
// but its message ID, the hello its adjacency accepted last, and all the
// engine does with it is count it and restart the adjacency's hold timer.
//
// So the engine lists the adjacencies whose next hello may be taken that
// way (Repeats: every adjacency of an OPERATIONAL session, with the hello
// it accepted last and that hello's TTL). The runtime compares each
// datagram with the list; a repeat is counted where it arrived, with its
// arrival time, and the counts reach the engine as one HellosSeen before
// the next event it handles (and before the view is taken). HellosSeen is
// applied before any timer fires: the hellos it carries arrived before
// now, and an adjacency is judged by when they arrived. Anything else (a
// new or changed hello, another TTL, an adjacency not listed) takes the
// engine's path as before. RepeatsGen changes whenever the list would, so
// the runtime rebuilds its copy only then.

// Repeat is an adjacency whose hellos the runtime may count itself: those
// from Src (on interface Ifname for a link hello) that repeat Hello.
type Repeat struct {
	Ifname   string // a link hello's interface; "" for a targeted hello
	Src      netip.Addr
	Targeted bool
	TTL      int
	Hello    []byte // the PDU accepted last; read only
	key      adjKey
}

// helloIDAt is where a PDU's first message carries its message ID: after
// the PDU header (version, length, LDP ID: 10 bytes) and the message's type
// and length (4 bytes).
const helloIDAt = wire.HeaderLen + 4

// sameHello reports whether the PDUs a and b are the same but for the
// message ID of their first message.
func sameHello(a, b []byte) bool {
	if len(a) != len(b) || len(a) < helloIDAt+4 {
		return false
	}
	return bytes.Equal(a[:helloIDAt], b[:helloIDAt]) && bytes.Equal(a[helloIDAt+4:], b[helloIDAt+4:])
}

// Repeats reports whether the datagram b, received with ttl, repeats r's
// hello.
func (r *Repeat) Repeats(b []byte, ttl int) bool { return ttl == r.TTL && sameHello(r.Hello, b) }

// SeenHello counts the repeats of one Repeat the runtime took: Count of
// them, the latest arriving at Last.
type SeenHello struct {
	Of    *Repeat
	Last  time.Time
	Count uint64
}

// HellosSeen hands the engine the repeats the runtime counted since the
// last HellosSeen.
type HellosSeen struct{ Seen []SeenHello }

func (HellosSeen) isEvent() {}

// Repeats lists the adjacencies whose hellos the runtime may count itself,
// in a stable order.
func (e *Engine) Repeats() []*Repeat {
	var out []*Repeat
	for k, a := range e.adjs {
		if a.hello == nil || a.nbr == nil || a.nbr.sess == nil || a.nbr.sess.state != Operational {
			continue
		}
		out = append(out, &Repeat{Ifname: k.ifname, Src: a.source, Targeted: k.targeted, TTL: a.helloTTL, Hello: a.hello, key: k})
	}
	slices.SortFunc(out, func(a, b *Repeat) int {
		if a.key.less(b.key) {
			return -1
		}
		return 1
	})
	return out
}

// RepeatsGen changes whenever Repeats would answer differently.
func (e *Engine) RepeatsGen() uint64 { return e.shape + e.repeatGen }

// acceptedHello records the hello a accepted last, for Repeats.
func (e *Engine) acceptedHello(a *adjacency, data []byte, ttl int) {
	if ttl == a.helloTTL && sameHello(a.hello, data) {
		return
	}
	a.hello, a.helloTTL = slices.Clone(data), ttl
	e.repeatGen++
}

// hellosSeen applies what the runtime counted: what helloReceived does with
// a hello that repeats the one its adjacency accepted last, the hold timer
// restarted from the latest one's arrival. An adjacency gone since is
// skipped: its next hello takes the engine's path.
func (e *Engine) hellosSeen(ev HellosSeen) {
	for _, s := range ev.Seen {
		if s.Of == nil || s.Count == 0 {
			continue
		}
		k := s.Of.key
		a := e.adjs[k]
		if a == nil || a.source != s.Of.Src {
			continue
		}
		e.counts.hello(k.targeted, k.ifname).Received += s.Count
		e.counts.peer(k.lsrID).Received[wire.MsgHello] += s.Count
		if a.hold != InfiniteHold {
			if at := s.Last.Add(a.hold); at.After(a.expires) {
				e.arm(&a.expires, at)
			}
		}
		e.maybeConnect(a.nbr)
	}
}
