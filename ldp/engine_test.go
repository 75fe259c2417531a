package ldp

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/ldp/lib"
	"github.com/lsrd/lsrd/ldp/wire"
)

func TestNegotiateHelloHold(t *testing.T) {
	for _, c := range []struct {
		local    time.Duration
		remote   uint16
		targeted bool
		want     time.Duration
	}{
		{15 * time.Second, 0, false, 15 * time.Second},      // 0: the link default
		{60 * time.Second, 0, false, 15 * time.Second},      // the default still caps ours
		{60 * time.Second, 0, true, 45 * time.Second},       // targeted default
		{15 * time.Second, 30, false, 15 * time.Second},     // ours smaller
		{30 * time.Second, 9, false, 9 * time.Second},       // theirs smaller
		{InfiniteHold, 0xffff, false, InfiniteHold},         // both infinite
		{InfiniteHold, 20, true, 20 * time.Second},          // one finite side wins
		{45 * time.Second, 0xffff, true, 45 * time.Second},  // infinite against finite
		{3 * time.Second, 1, false, 1 * time.Second},        // tiny but legal
		{InfiniteHold, 0, true, DefaultTargetedHelloHold},   // 0 is never infinite
		{InfiniteHold, 0, false, DefaultLinkHelloHold},      // nor for links
		{DefaultLinkHelloHold, 15, false, 15 * time.Second}, // equal
	} {
		if got := negotiateHelloHold(c.local, c.remote, c.targeted); got != c.want {
			t.Errorf("negotiateHelloHold(%v, %d, %v) = %v, want %v", c.local, c.remote, c.targeted, got, c.want)
		}
	}
}

func TestActiveRole(t *testing.T) {
	a := netip.MustParseAddr
	for _, c := range []struct {
		local, remote string
		want          bool
	}{
		{"3.3.3.3", "2.2.2.2", true},
		{"2.2.2.2", "3.3.3.3", false},
		{"10.0.0.1", "9.255.255.255", true}, // compared as unsigned integers, not strings
		{"128.0.0.1", "127.255.255.255", true},
		{"1.1.1.1", "1.1.1.1", false}, // equal: nobody dials
	} {
		if got := activeRole(a(c.local), a(c.remote)); got != c.want {
			t.Errorf("activeRole(%s, %s) = %v, want %v", c.local, c.remote, got, c.want)
		}
	}
}

func TestNegotiateKeepAlive(t *testing.T) {
	for _, c := range []struct {
		local  time.Duration
		remote uint16
		want   time.Duration
	}{
		{180 * time.Second, 180, 180 * time.Second},
		{180 * time.Second, 30, 30 * time.Second},
		{30 * time.Second, 180, 30 * time.Second},
		{180 * time.Second, 0xffff, 180 * time.Second},
	} {
		if got := negotiateKeepAlive(c.local, c.remote); got != c.want {
			t.Errorf("negotiateKeepAlive(%v, %d) = %v, want %v", c.local, c.remote, got, c.want)
		}
	}
	for _, c := range []struct {
		local, remote uint16
		want          int
	}{
		{4096, 0, 4096}, {4096, 255, 4096}, {4096, 256, 256}, {1500, 9000, 1500}, {9000, 255, 4096},
	} {
		if got := negotiateMaxPDU(c.local, c.remote); got != c.want {
			t.Errorf("negotiateMaxPDU(%d, %d) = %d, want %d", c.local, c.remote, got, c.want)
		}
	}
}

func TestBackoffSchedule(t *testing.T) {
	n := &neighbor{backoff: initialBackoff}
	e := &Engine{now: t0}
	var got []time.Duration
	for range 6 {
		e.holdBack(n)
		got = append(got, n.retryAt.Sub(e.now))
		e.now = n.retryAt
	}
	want := []time.Duration{15 * time.Second, 30 * time.Second, 60 * time.Second, 120 * time.Second, 120 * time.Second, 120 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("backoff schedule %v, want %v", got, want)
		}
	}
	e.resetBackoff(n)
	if e.holdBack(n); n.retryAt.Sub(e.now) != initialBackoff {
		t.Errorf("after reset: %v, want %v", n.retryAt.Sub(e.now), initialBackoff)
	}
}

func TestConfigValidation(t *testing.T) {
	ok := Config{LSRID: netip.MustParseAddr("1.1.1.1")}
	if err := ok.Validate(); err != nil {
		t.Fatalf("minimal config: %v", err)
	}
	for _, c := range []struct {
		mod  func(*Config)
		want string // field and value named in the error
	}{
		{func(c *Config) { c.LSRID = netip.Addr{} }, "LSRID invalid IP"},
		{func(c *Config) { c.LSRID = netip.MustParseAddr("2001:db8::1") }, "LSRID 2001:db8::1"},
		{func(c *Config) { c.TransportAddr = netip.MustParseAddr("224.0.0.5") }, "TransportAddr 224.0.0.5"},
		{func(c *Config) { c.Interfaces = []string{"eth0", "eth0"} }, "Interfaces[1] eth0"},
		{func(c *Config) { c.Targets = []netip.Addr{netip.MustParseAddr("1.1.1.1")} }, "Targets[0] 1.1.1.1"},
		{func(c *Config) { c.LinkHelloHold = 1500 * time.Millisecond }, "LinkHelloHold 1.5s"},
		{func(c *Config) { c.LinkHelloInterval = 20 * time.Second }, "LinkHelloInterval 20s"},
		{func(c *Config) { c.TargetedHelloHold = 70000 * time.Second }, "TargetedHelloHold 19h26m40s"},
		{func(c *Config) { c.KeepAlive = time.Second }, "KeepAlive 1s"},
		{func(c *Config) { c.MaxPDULength = 255 }, "MaxPDULength 255"},
		{func(c *Config) { c.AcceptTargeted = []netip.Prefix{netip.MustParsePrefix("2001:db8::/32")} }, "AcceptTargeted[0] 2001:db8::/32"},
	} {
		cfg := ok
		c.mod(&cfg)
		_, err := New(cfg, newFakeLIB())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New: error %v, want one naming %q", err, c.want)
		}
	}
	if _, err := New(ok, nil); err == nil {
		t.Error("New with nil LabelManager succeeded")
	}
}

// bringUp drives a passive session with peer to OPERATIONAL on conn and
// returns the actions of the last step.
func bringUp(t testing.TB, e *Engine, now time.Time, peer string, conn ConnID, initMsgs ...wire.Message) []Action {
	id := wire.LDPID{LSRID: netip.MustParseAddr(peer)}
	hello := mustPDU(t, id, &wire.Hello{MsgID: 1, Params: wire.CommonHelloParams{HoldTime: 0xffff}, TransportAddr: id.LSRID})
	e.Handle(now, HelloReceived{Ifname: "eth0", Src: netip.AddrPortFrom(id.LSRID, Port), Dst: AllHellosGroup, Data: hello})
	e.Handle(now, ConnAccepted{Conn: conn, Local: netip.MustParseAddrPort("1.1.1.1:646"), Remote: netip.AddrPortFrom(id.LSRID, 40000)})
	if initMsgs == nil {
		initMsgs = []wire.Message{
			&wire.Initialization{MsgID: 1, Session: wire.CommonSessionParams{ProtocolVersion: 1, KeepAliveTime: 180, MaxPDULength: 4096, ReceiverID: wire.LDPID{LSRID: e.cfg.LSRID}}},
			&wire.KeepAlive{MsgID: 2},
		}
	}
	return e.Handle(now, ConnData{Conn: conn, Data: mustPDU(t, id, initMsgs...)})
}

func mustPDU(t testing.TB, id wire.LDPID, msgs ...wire.Message) []byte {
	b, err := (&wire.PDU{ID: id, Messages: msgs}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPacking checks that the LIB's messages are packed into PDUs no longer
// than the negotiated Max PDU Length, in order, with fresh Message IDs.
func TestPacking(t *testing.T) {
	fl := newFakeLIB()
	peer := netip.MustParseAddr("2.2.2.2")
	for i := range 40 {
		fl.replies["NeighborUp 2.2.2.2"] = append(fl.replies["NeighborUp 2.2.2.2"], lib.Outgoing{Peer: peer, Msg: &wire.LabelMapping{
			FEC: wire.FEC{wire.PrefixFEC{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), 0, 0}), 16)}}, Label: uint32(100 + i),
		}})
	}
	e, err := New(Config{LSRID: netip.MustParseAddr("1.1.1.1"), Interfaces: []string{"eth0"}, MaxPDULength: 4096}, fl)
	if err != nil {
		t.Fatal(err)
	}
	e.Handle(t0, InterfaceUp{Name: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.12.1/24")}})
	acts := bringUp(t, e, t0, "2.2.2.2", 1,
		&wire.Initialization{MsgID: 1, Session: wire.CommonSessionParams{ProtocolVersion: 1, KeepAliveTime: 180, MaxPDULength: 300, ReceiverID: wire.LDPID{LSRID: netip.MustParseAddr("1.1.1.1")}}},
		&wire.KeepAlive{MsgID: 2})
	var labels []uint32
	lastID := uint32(0)
	for _, a := range acts {
		s, ok := a.(Send)
		if !ok {
			continue
		}
		if len(s.Data)-4 > 300 {
			t.Errorf("PDU of length %d exceeds the negotiated 300", len(s.Data)-4)
		}
		p, err := wire.DecodePDU(s.Data)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range p.Messages {
			if m.MessageID() <= lastID {
				t.Errorf("message ID %d after %d", m.MessageID(), lastID)
			}
			lastID = m.MessageID()
			if lm, ok := m.(*wire.LabelMapping); ok {
				labels = append(labels, lm.Label)
			}
		}
	}
	if len(labels) != 40 {
		t.Fatalf("%d mappings sent, want 40", len(labels))
	}
	for i, l := range labels {
		if l != uint32(100+i) {
			t.Fatalf("mappings out of order: %v", labels)
		}
	}
}

// TestDeterministic runs the same events twice and expects the same
// actions: nothing may depend on map order or the wall clock.
func TestDeterministic(t *testing.T) {
	run := func() string {
		e, _ := New(Config{LSRID: netip.MustParseAddr("1.1.1.1"), Interfaces: []string{"eth0"}, LinkHelloHold: InfiniteHold}, newFakeLIB())
		e.Handle(t0, InterfaceUp{Name: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.12.1/24")}})
		var out []string
		for i, p := range []string{"2.2.2.2", "4.4.4.4", "5.5.5.5", "6.6.6.6"} {
			for _, a := range bringUp(t, e, t0, p, ConnID(2*i+1)) {
				out = append(out, renderAction(a)...)
			}
		}
		for _, a := range e.Handle(t0.Add(time.Hour), Tick{}) {
			out = append(out, renderAction(a)...)
		}
		return strings.Join(out, "\n")
	}
	if a, b := run(), run(); a != b {
		t.Errorf("two runs differ:\n%s\n---\n%s", a, b)
	}
}

func TestAuthKeyLongestMatch(t *testing.T) {
	c := Config{Auth: []AuthKey{
		{Peers: netip.MustParsePrefix("10.0.0.0/8"), Key: "wide"},
		{Peers: netip.MustParsePrefix("10.1.0.0/16"), Key: "narrow"},
		{Peers: netip.MustParsePrefix("10.1.2.3/32"), Key: "one"},
	}}
	for id, want := range map[string]string{"10.1.2.3": "one", "10.1.2.4": "narrow", "10.9.0.1": "wide", "192.0.2.1": ""} {
		if got := c.authKey(netip.MustParseAddr(id)); got != want {
			t.Errorf("authKey(%s) = %q, want %q", id, got, want)
		}
	}
	base := Config{LSRID: netip.MustParseAddr("1.1.1.1")}
	for _, bad := range [][]AuthKey{
		{{Peers: netip.MustParsePrefix("10.0.0.1/8"), Key: "k"}},
		{{Peers: netip.MustParsePrefix("2001:db8::/32"), Key: "k"}},
		{{Peers: netip.MustParsePrefix("10.0.0.0/8"), Key: ""}},
		{{Peers: netip.MustParsePrefix("10.0.0.0/8"), Key: strings.Repeat("k", MaxAuthKeyLen+1)}},
		{{Peers: netip.MustParsePrefix("10.0.0.0/8"), Key: "a"}, {Peers: netip.MustParsePrefix("10.0.0.0/8"), Key: "b"}},
	} {
		c := base
		c.Auth = bad
		if err := c.Validate(); err == nil {
			t.Errorf("Validate accepted Auth %+v", bad)
		}
	}
}

// LDP-IGP synchronisation (RFC 5443): a neighbour that signals End-of-LIB
// is synced on its link only once its End-of-LIB arrives; one that does not
// signal it, once OPERATIONAL; a link without neighbours has no peer.
func TestIGPSync(t *testing.T) {
	for _, eol := range []bool{true, false} {
		e, err := New(Config{LSRID: netip.MustParseAddr("1.1.1.1"), Interfaces: []string{"eth0", "eth1"}}, newFakeLIB())
		if err != nil {
			t.Fatal(err)
		}
		e.Handle(t0, InterfaceUp{Name: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.12.1/24")}})
		e.Handle(t0, InterfaceUp{Name: "eth1", Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.13.1/24")}})
		if got := InterfaceSync(e.Neighbors(), "eth0"); got != SyncNoPeer {
			t.Errorf("before any hello: eth0 %s, want %s", got, SyncNoPeer)
		}
		init := &wire.Initialization{MsgID: 1, Session: wire.CommonSessionParams{ProtocolVersion: 1, KeepAliveTime: 180, MaxPDULength: 4096, ReceiverID: wire.LDPID{LSRID: e.cfg.LSRID}}}
		if eol {
			init.Capabilities = []wire.CapabilityParam{{Type: wire.TLVUnrecognizedNotifCap, State: true}}
		}
		bringUp(t, e, t0, "2.2.2.2", 1, init, &wire.KeepAlive{MsgID: 2})
		want := SyncAchieved
		if eol {
			want = SyncNotAchieved
		}
		if got := InterfaceSync(e.Neighbors(), "eth0"); got != want {
			t.Errorf("End-of-LIB capability %v, OPERATIONAL: eth0 %s, want %s", eol, got, want)
		}
		if eol {
			id := wire.LDPID{LSRID: netip.MustParseAddr("2.2.2.2")}
			e.Handle(t0, ConnData{Conn: 1, Data: mustPDU(t, id, wire.NewEndOfLIB(3, wire.AFIPv4))})
			if got := InterfaceSync(e.Neighbors(), "eth0"); got != SyncAchieved {
				t.Errorf("after End-of-LIB: eth0 %s, want %s", got, SyncAchieved)
			}
		}
		if got := InterfaceSync(e.Neighbors(), "eth1"); got != SyncNoPeer {
			t.Errorf("eth1 has no neighbour: %s, want %s", got, SyncNoPeer)
		}
	}
}

// TestFIBPending: a hello or a KeepAlive on a session leaves nothing for the
// runtime to flush (it need not wake again for it); a label mapping does.
func TestFIBPending(t *testing.T) {
	e, err := New(Config{LSRID: netip.MustParseAddr("1.1.1.1"), Interfaces: []string{"eth0"}}, newFakeLIB())
	if err != nil {
		t.Fatal(err)
	}
	e.BatchFIB(true)
	e.Handle(t0, InterfaceUp{Name: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.12.1/24")}})
	bringUp(t, e, t0, "2.2.2.2", 1)
	e.FlushFIB()
	if e.FIBPending() {
		t.Fatal("FIBPending right after FlushFIB")
	}
	id := wire.LDPID{LSRID: netip.MustParseAddr("2.2.2.2")}
	now := t0.Add(time.Second)
	e.Handle(now, HelloReceived{Ifname: "eth0", Src: netip.AddrPortFrom(id.LSRID, Port), Dst: AllHellosGroup,
		Data: mustPDU(t, id, &wire.Hello{MsgID: 3, Params: wire.CommonHelloParams{HoldTime: 0xffff}, TransportAddr: id.LSRID})})
	e.Handle(now, ConnData{Conn: 1, Data: mustPDU(t, id, &wire.KeepAlive{MsgID: 4})})
	if e.FIBPending() {
		t.Error("FIBPending after a hello and a KeepAlive")
	}
	e.Handle(now, ConnData{Conn: 1, Data: mustPDU(t, id, &wire.LabelMapping{MsgID: 5,
		FEC: wire.FEC{wire.PrefixFEC{Prefix: netip.MustParsePrefix("10.9.0.0/16")}}, Label: 100})})
	if !e.FIBPending() {
		t.Error("no FIBPending after a label mapping")
	}
}
