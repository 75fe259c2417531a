package speaker_test

import (
	"fmt"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lsrd/lsrd/ldp"
	"github.com/lsrd/lsrd/ldp/lib"
	"github.com/lsrd/lsrd/rib"
)

// slowLIB is a LIB whose route updates take delay each: a backlog of work
// on the speaker's goroutine, as a large table makes one.
type slowLIB struct {
	*lib.LIB
	delay atomic.Int64 // nanoseconds per RouteUpdate
}

func (s *slowLIB) RouteUpdate(r rib.Route) []lib.Outgoing {
	time.Sleep(time.Duration(s.delay.Load()))
	return s.LIB.RouteUpdate(r)
}

// The backlogs: routes of perRoute each.
const routes, perRoute = 12000, time.Millisecond

// slowPair is a pair whose node A has a slowLIB (no delay yet).
func slowPair(t *testing.T) (*pair, *slowLIB) {
	checkNoSpeakerGoroutines(t)
	p := newPair(t, linkHellos, short)
	slow := &slowLIB{LIB: p.a.lib}
	var err error
	if p.a.eng, err = ldp.New(p.a.cfg, slow); err != nil {
		t.Fatal(err)
	}
	p.a.newSpeaker(dialer(p.a.ns))
	return p, slow
}

// backlogRoutes are static routes of n through its link, one per
// /32 of 10.200.0.0/16.
func backlogRoutes(n *node) []rib.Route {
	var rs []rib.Route
	for i := range routes {
		pfx := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 200, byte(i >> 8), byte(i)}), 32)
		rs = append(rs, rib.Route{Prefix: pfx, Source: rib.SourceStatic, Distance: 1,
			NextHops: []rib.NextHop{{Addr: n.peer, Ifname: n.ifname}}})
	}
	return rs
}

// backlogBound counts, through a call (the liveness lane), the backlog's
// routes n's LIB has bound so far.
func backlogBound(t *testing.T, n *node) int {
	t.Helper()
	bound := 0
	if err := n.call(func() {
		for _, b := range n.lib.Bindings() {
			if b.FEC.Prefix().Addr().As4()[1] == 200 {
				bound++
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	return bound
}

// A hello or KeepAlive that arrives on time is judged on time, whatever
// work is queued: A is handed 12 s of route work at once, twice its hello
// hold and KeepAlive times (6 s). Its session with B never leaves
// OPERATIONAL on either side, and calls (operators' queries) keep answering
// within a second throughout, because the speaker serves hellos, arriving
// session bytes and calls between bounded pieces of the work.
func TestLivenessBehindBacklog(t *testing.T) {
	p, slow := slowPair(t)
	p.a.start(t)
	p.b.start(t)
	eventually(t, patience, "session OPERATIONAL on both sides", operational(p.a, p.b))
	seen := func(n *node) int {
		n.mu.Lock()
		defer n.mu.Unlock()
		return len(n.states)
	}
	statesA, statesB := seen(p.a), seen(p.b)

	slow.delay.Store(int64(perRoute))
	start := time.Now()
	p.a.post(t, ldp.RoutesChanged{Updates: backlogRoutes(p.a)})

	var worst time.Duration
	polls, done := 0, false
	for !done {
		if time.Since(start) > routes*perRoute+patience {
			t.Fatalf("the backlog was not worked through within %v", routes*perRoute+patience)
		}
		t0 := time.Now()
		bound := backlogBound(t, p.a)
		worst = max(worst, time.Since(t0))
		polls++
		done = bound == routes
		if err := operational(p.a, p.b)(); err != nil {
			t.Fatalf("%v into the backlog: %v", time.Since(start).Round(time.Millisecond), err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	backlog := time.Since(start)
	t.Logf("backlog of %d routes worked through in %v; %d calls, the slowest answered in %v", routes, backlog.Round(time.Millisecond), polls, worst.Round(time.Millisecond))
	if backlog < 2*short.hold {
		t.Fatalf("the backlog took %v, less than twice the hold time %v: it shows nothing", backlog, short.hold)
	}
	if worst > time.Second {
		t.Errorf("a call took %v behind the backlog, want at most 1s", worst)
	}
	for _, n := range []struct {
		n      *node
		before int
	}{{p.a, statesA}, {p.b, statesB}} {
		n.n.mu.Lock()
		changed := slices.Clone(n.n.states[n.before:])
		n.n.mu.Unlock()
		if len(changed) > 0 {
			t.Errorf("%s: the session changed state during the backlog: %+v", n.n.name, changed)
		}
	}
}

// A session's set-up does not wait behind route work either: A is handed
// 12 s of route work before B starts, so B's hellos, TCP connection and
// Initialization arrive while A works. The session reaches OPERATIONAL in
// a few seconds, long before the work is done; on the work lane with the
// routes, A's answer would wait past B's initialization time.
func TestSessionSetupBehindBacklog(t *testing.T) {
	p, slow := slowPair(t)
	p.a.start(t)
	slow.delay.Store(int64(perRoute))
	start := time.Now()
	p.a.post(t, ldp.RoutesChanged{Updates: backlogRoutes(p.a)})
	p.b.start(t)
	eventually(t, routes*perRoute, "session OPERATIONAL on both sides while A works", operational(p.a, p.b))
	up := time.Since(start)
	bound := backlogBound(t, p.a)
	t.Logf("session OPERATIONAL %v after A was handed %v of route work; %d of %d routes done by then", up.Round(time.Millisecond), routes*perRoute, bound, routes)
	if bound == routes {
		t.Fatalf("the work was done before the session came up: the test shows nothing")
	}
	if up > 6*time.Second {
		t.Errorf("the session took %v to come up behind the work, want at most 6 s", up)
	}
}

// slowDrainLIB is a LIB whose pieces of a closed session's release take
// delay each, and which counts them.
type slowDrainLIB struct {
	*lib.LIB
	delay  time.Duration
	pieces atomic.Int64
}

func (s *slowDrainLIB) Drain() []lib.Outgoing {
	s.pieces.Add(1)
	time.Sleep(s.delay)
	return s.LIB.Drain()
}

// A session that ends while it holds many of A's labels is released in
// pieces (lib.Drain), and operators' calls are answered between them: A
// is the egress of 12,000 FECs whose labels B held, B stops, and A's release of them
// takes at least five pieces of 300 ms each. No call waits for more than
// about one piece, and at the end B holds nothing of A's. (A new session
// with B during a release finishes it first: the LIB's TestRandomEvents.)
func TestClosedSessionReleasedInPieces(t *testing.T) {
	checkNoSpeakerGoroutines(t)
	const pieceDelay = 300 * time.Millisecond
	p := newPair(t, linkHellos, short)
	slow := &slowDrainLIB{LIB: p.a.lib, delay: pieceDelay}
	var err error
	if p.a.eng, err = ldp.New(p.a.cfg, slow); err != nil {
		t.Fatal(err)
	}
	p.a.newSpeaker(dialer(p.a.ns))
	p.a.start(t)
	p.b.start(t)
	eventually(t, patience, "session OPERATIONAL on both sides", operational(p.a, p.b))
	// Routes through the link with no gateway: A is their egress and
	// advertises each to B (ordered control, RFC 5036 section 2.6.1).
	rs := backlogRoutes(p.a)
	for i := range rs {
		rs[i].NextHops = []rib.NextHop{{Ifname: p.a.ifname}}
	}
	p.a.post(t, ldp.RoutesChanged{Updates: rs})
	advertised := func() int {
		n := 0
		if err := p.a.call(func() {
			for _, b := range p.a.lib.Bindings() {
				if len(b.AdvertisedTo) > 0 {
					n++
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	eventually(t, patience, "A's labels for the backlog's routes sent to B", func() error {
		if n := advertised(); n < routes {
			return fmt.Errorf("%d of %d FECs advertised", n, routes)
		}
		return nil
	})

	p.b.stop(t)
	start := time.Now()
	var worst time.Duration
	calls := 0
	for {
		t0 := time.Now()
		draining := false
		if err := p.a.call(func() { draining = p.a.lib.Draining() }); err != nil {
			t.Fatal(err)
		}
		worst = max(worst, time.Since(t0))
		calls++
		if slow.pieces.Load() > 0 && !draining {
			break
		}
		if time.Since(start) > patience+2*short.hold {
			t.Fatalf("the release did not end within %v (%d pieces)", patience+2*short.hold, slow.pieces.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
	pieces := slow.pieces.Load()
	t.Logf("B's session ended and its labels were released in %d pieces after NeighborDown's own; %d calls, the slowest answered in %v",
		pieces, calls, worst.Round(time.Millisecond))
	if want := int64(routes/lib.DrainPiece) - 1; pieces < want {
		t.Fatalf("released in %d pieces, want at least %d", pieces, want)
	}
	if worst > 2*pieceDelay {
		t.Errorf("a call waited %v during the release, want at most about one piece (%v)", worst, pieceDelay)
	}
	if n := advertised(); n != 0 {
		t.Errorf("%d FECs still list a label advertised to B after the release", n)
	}
	if err := p.a.call(func() {
		if st := p.a.lib.Stats(); st.Withdrawn != 0 {
			t.Errorf("A counts %d withdrawn labels after the release", st.Withdrawn)
		}
	}); err != nil {
		t.Fatal(err)
	}

}
