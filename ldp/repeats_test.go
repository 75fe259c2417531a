package ldp

import (
	"net/netip"
	"testing"
	"time"

	"github.com/lsrd/lsrd/ldp/wire"
)

// The fast path's contract with the engine (repeats.go): only adjacencies
// of OPERATIONAL sessions are listed, with the hello they accepted; a
// datagram repeats it only with the same bytes but the message ID and the
// same TTL; HellosSeen counts and restarts the hold timer from the latest
// arrival, before the timers due at now fire; and RepeatsGen moves when
// the list does.
func TestRepeats(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e, err := New(Config{LSRID: netip.MustParseAddr("1.1.1.1"), Interfaces: []string{"eth0"}}, newFakeLIB())
	if err != nil {
		t.Fatal(err)
	}
	e.Handle(t0, InterfaceUp{Name: "eth0", Index: 2, Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.12.1/24")}})
	peer := wire.LDPID{LSRID: netip.MustParseAddr("2.2.2.2")}
	src := netip.AddrPortFrom(netip.MustParseAddr("10.0.12.2"), Port)
	hello := func(id uint32, hold uint16) []byte {
		return mustPDU(t, peer, &wire.Hello{MsgID: id, Params: wire.CommonHelloParams{HoldTime: hold}, TransportAddr: peer.LSRID})
	}
	e.Handle(t0, HelloReceived{Ifname: "eth0", Src: src, Dst: AllHellosGroup, Data: hello(1, 15), TTL: 255})
	if rs := e.Repeats(); len(rs) != 0 {
		t.Fatalf("%d repeats listed before the session is up", len(rs))
	}
	gen := e.RepeatsGen()
	e.Handle(t0, ConnAccepted{Conn: 1, Local: netip.MustParseAddrPort("1.1.1.1:646"), Remote: netip.AddrPortFrom(peer.LSRID, 40000)})
	e.Handle(t0, ConnData{Conn: 1, Data: mustPDU(t, peer,
		&wire.Initialization{MsgID: 1, Session: wire.CommonSessionParams{ProtocolVersion: 1, KeepAliveTime: 180, MaxPDULength: 4096, ReceiverID: wire.LDPID{LSRID: e.cfg.LSRID}}},
		&wire.KeepAlive{MsgID: 2})})
	if e.RepeatsGen() == gen {
		t.Error("RepeatsGen did not move when the session came up")
	}
	rs := e.Repeats()
	if len(rs) != 1 || rs[0].Ifname != "eth0" || rs[0].Src != src.Addr() || rs[0].Targeted || rs[0].TTL != 255 {
		t.Fatalf("repeats %+v, want the one link adjacency on eth0 from %s with TTL 255", rs, src.Addr())
	}
	r := rs[0]
	for _, c := range []struct {
		data []byte
		ttl  int
		want bool
	}{
		{hello(7, 15), 255, true},  // another message ID only
		{hello(7, 15), 254, false}, // another TTL
		{hello(7, 30), 255, false}, // another hold time
		{hello(7, 15)[:20], 255, false},
	} {
		if got := r.Repeats(c.data, c.ttl); got != c.want {
			t.Errorf("Repeats(% x, ttl %d) = %v, want %v", c.data, c.ttl, got, c.want)
		}
	}

	// The adjacency's hold timer (15 s) runs from the latest repeat's
	// arrival: at 14 s the engine is told of a repeat that arrived at
	// 10 s, at 24 s (past the first expiry, 15 s) it is still up, and
	// it expires at 25 s without more.
	received := func() uint64 {
		for _, h := range e.Counters().Hellos {
			if h.Interface == "eth0" && !h.Targeted {
				return h.Received
			}
		}
		return 0
	}
	before := received()
	e.Handle(t0.Add(14*time.Second), HellosSeen{Seen: []SeenHello{{Of: r, Last: t0.Add(10 * time.Second), Count: 2}}})
	if got := received() - before; got != 2 {
		t.Errorf("HellosSeen counted %d hellos received, want 2", got)
	}
	up := func() bool { return len(e.Repeats()) == 1 }
	e.Handle(t0.Add(24*time.Second), Tick{})
	if !up() {
		t.Fatal("adjacency gone at 24 s: the repeat at 10 s did not restart its hold timer")
	}
	// A repeat that arrived at 20 s, told only at 26 s, after the hold
	// timer's 25 s: it is applied before the timers fire.
	e.Handle(t0.Add(26*time.Second), HellosSeen{Seen: []SeenHello{{Of: r, Last: t0.Add(20 * time.Second), Count: 1}}})
	if !up() {
		t.Fatal("adjacency expired before the repeat that arrived in time was applied")
	}
	e.Handle(t0.Add(35*time.Second), Tick{})
	if up() {
		t.Fatal("adjacency still up 15 s after its last hello")
	}
	// Gone now: a late count for it changes nothing and fails nothing.
	e.Handle(t0.Add(36*time.Second), HellosSeen{Seen: []SeenHello{{Of: r, Last: t0.Add(36 * time.Second), Count: 1}}})
	if up() {
		t.Error("a count for a gone adjacency brought it back")
	}
}
