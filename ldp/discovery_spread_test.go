package ldp

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/lsrd/lsrd/ldp/fec"
	"github.com/lsrd/lsrd/ldp/wire"
)

// The early hellos a new neighbour gets on a shared segment are spread:
// no delay on a point-to-point link, and on a 40-router segment the 39
// answering LSRs' delays cover the window instead of landing together.
func TestTriggeredHelloSpread(t *testing.T) {
	newNbr := netip.MustParseAddr("172.16.0.40")
	engine := func(id string) *Engine {
		e, err := New(Config{LSRID: netip.MustParseAddr(id), Interfaces: []string{"zt0"}}, newFakeLIB())
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	if d := engine("172.16.0.1").triggeredHelloDelay(1, newNbr); d != 0 {
		t.Errorf("one adjacency: delay %s, want none", d)
	}
	buckets := map[time.Duration]bool{}
	for i := 1; i <= 39; i++ {
		e := engine(netip.AddrFrom4([4]byte{172, 16, 0, byte(i)}).String())
		d := e.triggeredHelloDelay(40, newNbr)
		if d < 0 || d >= triggeredHelloSpread {
			t.Fatalf("LSR %d: delay %s outside [0, %s)", i, d, triggeredHelloSpread)
		}
		if again := e.triggeredHelloDelay(40, newNbr); again != d {
			t.Fatalf("LSR %d: delay %s then %s: not a function of the IDs", i, d, again)
		}
		buckets[d.Truncate(100*time.Millisecond)] = true
	}
	// 39 delays over 1 s: a spread, not a clump (all ten 100 ms buckets
	// are hit with overwhelming likelihood; 7 leaves room for the hash).
	if len(buckets) < 7 {
		t.Errorf("39 delays fall in %d of the ten 100 ms buckets: %v", len(buckets), buckets)
	}
	// A small segment gets a small window: 3 adjacencies, under 50 ms.
	if d := engine("172.16.0.1").triggeredHelloDelay(3, newNbr); d >= 2*triggeredHelloStep {
		t.Errorf("3 adjacencies: delay %s, want under %s", d, 2*triggeredHelloStep)
	}
}

// The early hellos of a busy segment stay bounded: 59 neighbours on one
// interface whose adjacencies keep expiring and coming back (each falls
// silent past its hold time now and then) get, on top of the periodic
// hellos, early ones no closer than triggeredGap of the adjacencies
// there. With the 200 ms gap alone, every returning adjacency drew one:
// 60 such routers put out hundreds a second.
func TestTriggeredHelloBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 1))
	e, err := New(Config{LSRID: netip.MustParseAddr("172.16.0.1"), Interfaces: []string{"zt0"}}, newFakeLIB())
	if err != nil {
		t.Fatal(err)
	}
	e.BatchFIB(true)
	now := t0
	var sent []time.Time
	handle := func(ev Event) {
		for _, a := range e.Handle(now, ev) {
			if h, ok := a.(SendHello); ok && h.Ifname == "zt0" {
				sent = append(sent, now)
			}
		}
	}
	handle(InterfaceUp{Name: "zt0", Addrs: []netip.Prefix{netip.MustParsePrefix("10.77.0.1/24")}})
	type nbr struct {
		id         netip.Addr
		next, mute time.Time
	}
	var nbrs []*nbr
	for i := range 59 {
		nbrs = append(nbrs, &nbr{id: netip.AddrFrom4([4]byte{172, 16, 0, byte(i + 2)}), next: now.Add(time.Duration(rng.IntN(5000)) * time.Millisecond)})
	}
	const run = 5 * time.Minute
	end := now.Add(run)
	appeared := 0
	for now.Before(end) {
		at, who := end, (*nbr)(nil)
		for _, n := range nbrs {
			if n.next.Before(at) {
				at, who = n.next, n
			}
		}
		if d, ok := e.NextDeadline(); ok && !d.After(at) {
			now = d
			handle(Tick{})
			continue
		}
		now = at
		if who == nil {
			break
		}
		who.next = now.Add(5*time.Second + time.Duration(rng.IntN(200))*time.Millisecond)
		if now.Before(who.mute) {
			continue
		}
		if rng.IntN(4) == 0 {
			// Silent past the 15 s hold time: the adjacency expires
			// and comes back with the next hello.
			who.mute = now.Add(time.Duration(16+rng.IntN(5)) * time.Second)
		}
		if e.adjs[adjKey{lsrID: who.id, ifname: "zt0", family: fec.IPv4}] == nil {
			appeared++
		}
		handle(HelloReceived{Ifname: "zt0", Src: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 77, 0, who.id.As4()[3]}), Port), Dst: AllHellosGroup,
			TTL:  255,
			Data: mustPDU(t, wire.LDPID{LSRID: who.id}, &wire.Hello{MsgID: 1, Params: wire.CommonHelloParams{HoldTime: 15, GTSM: true}, TransportAddr: who.id})})
	}
	if appeared < 300 {
		t.Fatalf("only %d adjacencies appeared in %s: not the churn this test is about", appeared, run)
	}
	for i := 1; i < len(sent); i++ {
		if gap := sent[i].Sub(sent[i-1]); gap < triggeredHelloGap {
			t.Fatalf("hellos %s apart (hello %d at %s), want at least %s", gap, i, sent[i].Sub(t0), triggeredHelloGap)
		}
	}
	// About one early hello per periodic one at this size, where the
	// returning adjacencies (more than one a second) drew one each before.
	if most := 2 * int(run/DefaultLinkHelloInterval) * 11 / 10; len(sent) > most {
		t.Fatalf("%d hellos in %s for %d returning adjacencies, want at most %d", len(sent), run, appeared, most)
	}
	t.Logf("%d hellos in %s, %d adjacencies appeared", len(sent), run, appeared)
}
