package ldp

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

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
	rng := rand.New(rand.NewPCG(seed, 1))
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
		id   netip.Addr
		next time.Time
		mute time.Time // silent until then (its hellos lost)
	}
	var nbrs []*nbr
	end := now.Add(5 * time.Minute)
	nextStart := now
	for now.Before(end) {
		// The next thing to happen: a router starting, a neighbour's
		// hello, or our own deadline.
		at := end
		if len(nbrs) < 39 {
			at = nextStart
		}
		var who *nbr
		for _, n := range nbrs {
			if n.next.Before(at) {
				at, who = n.next, n
			}
		}
		deadline, ok := e.NextDeadline()
		if ok && !deadline.After(at) {
			now = deadline
			handle(Tick{})
			continue
		}
		now = at
		switch {
		case who != nil:
			who.next = now.Add(5*time.Second + time.Duration(rng.IntN(200))*time.Millisecond)
			if now.Before(who.mute) {
				continue
			}
			if rng.IntN(50) == 0 {
				who.mute = now.Add(time.Duration(10+rng.IntN(20)) * time.Second)
			}
			id := wire.LDPID{LSRID: who.id}
			handle(HelloReceived{Ifname: "zt0", Src: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 77, 0, who.id.As4()[3]}), Port), Dst: AllHellosGroup,
				TTL:  255,
				Data: mustPDU(t, id, &wire.Hello{MsgID: 1, Params: wire.CommonHelloParams{HoldTime: 15, GTSM: true}, TransportAddr: who.id})})
		case len(nbrs) < 39 && !now.Before(nextStart):
			nbrs = append(nbrs, &nbr{id: netip.AddrFrom4([4]byte{172, 16, 0, byte(len(nbrs) + 2)}), next: now})
			nextStart = now.Add(time.Duration(500+rng.IntN(1500)) * time.Millisecond)
		}
	}
	for i := 1; i < len(sent); i++ {
		if gap := sent[i].Sub(sent[i-1]); gap > DefaultLinkHelloInterval {
			t.Fatalf("link hellos %s apart (hello %d at %s, after %d sent)", gap, i, sent[i].Sub(t0), i)
		}
	}
	if len(sent) < 60 {
		t.Fatalf("%d link hellos in 5 minutes", len(sent))
	}
}
