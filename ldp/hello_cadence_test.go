package ldp

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/lsrd/lsrd/ldp/fec"
	"github.com/lsrd/lsrd/ldp/wire"
)

// TestHelloCadence drives an engine on a shared segment as 40 routers
// starting one after another would (new neighbours, hellos from each every
// interval, adjacencies that expire and come back), with the runtime's
// ticks at NextDeadline, and checks that its own link hellos never go
// further apart than the hello interval.
func TestHelloCadence(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { helloCadence(t, seed) })
	}
}

func helloCadence(t *testing.T, seed uint64) {
	s := newSegmentSim(t, seed)
	s.run(s.now.Add(5*time.Minute), 39,
		func() time.Duration { return time.Duration(500+s.rng.IntN(1500)) * time.Millisecond },
		func() time.Duration {
			if s.rng.IntN(50) == 0 {
				return time.Duration(10+s.rng.IntN(20)) * time.Second
			}
			return 0
		})
	for i := 1; i < len(s.sent); i++ {
		if gap := s.sent[i].Sub(s.sent[i-1]); gap > DefaultLinkHelloInterval {
			t.Fatalf("link hellos %s apart (hello %d at %s, after %d sent)", gap, i, s.sent[i].Sub(t0), i)
		}
	}
	if len(s.sent) < 60 {
		t.Fatalf("%d link hellos in 5 minutes", len(s.sent))
	}
}

// segmentSim drives an engine on a shared segment, zt0, as its neighbours
// would: each sends a link hello every interval (plus up to 200 ms) unless
// it has fallen silent, and the engine's deadlines are ticked as they
// come. It notes the link hellos the engine sends and the adjacencies that
// hellos create.
type segmentSim struct {
	t        *testing.T
	rng      *rand.Rand
	e        *Engine
	now      time.Time
	sent     []time.Time
	nbrs     []*simNbr
	appeared int
}

type simNbr struct {
	id         netip.Addr
	next, mute time.Time // its next hello; silent until mute (its hellos lost)
}

func newSegmentSim(t *testing.T, seed uint64) *segmentSim {
	e, err := New(Config{LSRID: netip.MustParseAddr("172.16.0.1"), Interfaces: []string{"zt0"}}, newFakeLIB())
	if err != nil {
		t.Fatal(err)
	}
	e.BatchFIB(true)
	s := &segmentSim{t: t, rng: rand.New(rand.NewPCG(seed, 1)), e: e, now: t0}
	s.handle(InterfaceUp{Name: "zt0", Addrs: []netip.Prefix{netip.MustParsePrefix("10.77.0.1/24")}})
	return s
}

func (s *segmentSim) handle(ev Event) {
	for _, a := range s.e.Handle(s.now, ev) {
		if h, ok := a.(SendHello); ok && h.Ifname == "zt0" {
			s.sent = append(s.sent, s.now)
		}
	}
}

// add starts a neighbour whose first hello comes at next.
func (s *segmentSim) add(next time.Time) {
	s.nbrs = append(s.nbrs, &simNbr{id: netip.AddrFrom4([4]byte{172, 16, 0, byte(len(s.nbrs) + 2)}), next: next})
}

// run runs the segment until end. Neighbours start until there are most
// of them, startGap apart; before each hello a neighbour sends, silence
// says for how long it falls silent from then (0: it does not).
func (s *segmentSim) run(end time.Time, most int, startGap, silence func() time.Duration) {
	nextStart := s.now
	for s.now.Before(end) {
		// The next thing to happen: a router starting, a neighbour's
		// hello, or our own deadline.
		at := end
		if len(s.nbrs) < most {
			at = nextStart
		}
		var who *simNbr
		for _, n := range s.nbrs {
			if n.next.Before(at) {
				at, who = n.next, n
			}
		}
		if d, ok := s.e.NextDeadline(); ok && !d.After(at) {
			s.now = d
			s.handle(Tick{})
			continue
		}
		s.now = at
		switch {
		case who != nil:
			who.next = s.now.Add(5*time.Second + time.Duration(s.rng.IntN(200))*time.Millisecond)
			if s.now.Before(who.mute) {
				continue
			}
			if d := silence(); d > 0 {
				who.mute = s.now.Add(d)
			}
			if s.e.adjs[adjKey{lsrID: who.id, ifname: "zt0", family: fec.IPv4}] == nil {
				s.appeared++
			}
			s.handle(HelloReceived{Ifname: "zt0", Src: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 77, 0, who.id.As4()[3]}), Port), Dst: AllHellosGroup,
				TTL:  255,
				Data: mustPDU(s.t, wire.LDPID{LSRID: who.id}, &wire.Hello{MsgID: 1, Params: wire.CommonHelloParams{HoldTime: 15, GTSM: true}, TransportAddr: who.id})})
		case len(s.nbrs) < most && !s.now.Before(nextStart):
			s.add(s.now)
			nextStart = s.now.Add(startGap())
		}
	}
}
