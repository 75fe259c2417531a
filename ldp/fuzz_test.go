package ldp

import (
	"net/netip"
	"testing"
	"time"

	"github.com/lsrd/lsrd/ldp/wire"
)

// FuzzSession feeds arbitrary bytes to an OPERATIONAL session and as a
// hello datagram. The engine must not panic, every PDU it sends must be
// well formed, a closed session must be the fuzzed one only, and the LIB
// must hear NeighborDown at most once; with gr, the session negotiated
// graceful restart and whatever the peer sends that ends it, it is not
// lsrd shutting it down on purpose: the LIB hears NeighborStale instead.
func FuzzSession(f *testing.F) {
	id := wire.LDPID{LSRID: netip.MustParseAddr("2.2.2.2")}
	seed := func(msgs ...wire.Message) []byte { return mustPDU(f, id, msgs...) }
	f.Add(seed(&wire.KeepAlive{MsgID: 3}), []byte{}, 0, false)
	f.Add(seed(&wire.LabelMapping{MsgID: 3, FEC: wire.FEC{wire.PrefixFEC{Prefix: netip.MustParsePrefix("10.0.0.0/8")}}, Label: 16}), seed(&wire.Hello{MsgID: 1}), 5, false)
	f.Add(seed(&wire.Notification{MsgID: 3, Status: wire.Status{Code: wire.StatusShutdown, Fatal: true}}), []byte{0, 1}, 1, false)
	f.Add([]byte("\x00\x01\x00\x0e\x02\x02\x02\x02\x00\x00\x03\x00\x00\x04\x00\x00\x00\x0f"), seed(&wire.Hello{MsgID: 1, Params: wire.CommonHelloParams{Targeted: true}}), 3, false)
	f.Add(seed(&wire.Initialization{MsgID: 3, Session: wire.CommonSessionParams{ReceiverID: wire.LDPID{LSRID: netip.MustParseAddr("1.1.1.1")}}}), []byte{}, 2, false)
	f.Add(seed(&wire.Notification{MsgID: 3, Status: wire.Status{Code: wire.StatusShutdown, Fatal: true}}), []byte{}, 0, true)
	f.Add(seed(&wire.Notification{MsgID: 3, Status: wire.Status{Code: wire.StatusEndOfLIB}, FEC: wire.FEC{wire.TypedWildcardFEC{Type: wire.FECPrefix, Family: wire.AFIPv4}}}), []byte{}, 0, true)
	f.Add(seed(&wire.Initialization{MsgID: 3, Session: wire.CommonSessionParams{ReceiverID: wire.LDPID{LSRID: netip.MustParseAddr("1.1.1.1")}}, FT: &wire.FTSession{Flags: wire.FTFlagL}}), []byte{}, 2, true)
	f.Fuzz(func(t *testing.T, data, hello []byte, split int, gr bool) {
		fl := newFakeLIB()
		e, err := New(Config{LSRID: netip.MustParseAddr("1.1.1.1"), Interfaces: []string{"eth0"}, LinkHelloHold: InfiniteHold,
			AcceptTargeted:  []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")},
			GracefulRestart: GracefulRestart{Enabled: gr}}, fl)
		if err != nil {
			t.Fatal(err)
		}
		e.Handle(t0, InterfaceUp{Name: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.12.1/24")}})
		var initMsgs []wire.Message
		if gr {
			initMsgs = []wire.Message{
				&wire.Initialization{MsgID: 1, Session: wire.CommonSessionParams{ProtocolVersion: 1, KeepAliveTime: 180, MaxPDULength: 4096, ReceiverID: wire.LDPID{LSRID: e.cfg.LSRID}},
					FT: &wire.FTSession{Flags: wire.FTFlagL, ReconnectTimeout: 120000}},
				&wire.KeepAlive{MsgID: 2},
			}
		}
		bringUp(t, e, t0, "2.2.2.2", 1, initMsgs...)
		bringUp(t, e, t0, "4.4.4.4", 3)
		if e.conns[1] == nil || e.conns[1].state != Operational || e.conns[3].state != Operational {
			t.Fatal("sessions not OPERATIONAL")
		}
		var acts []Action
		now := t0.Add(time.Second)
		if split > 0 && split < len(data) {
			acts = append(acts, e.Handle(now, ConnData{Conn: 1, Data: data[:split]})...)
			acts = append(acts, e.Handle(now, ConnData{Conn: 1, Data: data[split:]})...)
		} else {
			acts = append(acts, e.Handle(now, ConnData{Conn: 1, Data: data})...)
		}
		for _, targeted := range []bool{false, true} {
			acts = append(acts, e.Handle(now, HelloReceived{Ifname: "eth0", Src: netip.MustParseAddrPort("10.0.12.9:646"), Dst: AllHellosGroup, Targeted: targeted, Data: hello})...)
		}
		checkDeadline(t, e)
		closed := false
		for _, a := range acts {
			switch a := a.(type) {
			case Send:
				if a.Conn != 1 {
					t.Fatalf("action on another session: %#v", a)
				}
				if _, err := wire.DecodePDU(a.Data); err != nil {
					t.Fatalf("engine sent a bad PDU %x: %v", a.Data, err)
				}
			case Close:
				if a.Conn != 1 {
					t.Fatalf("closed another session: %#v", a)
				}
				closed = true
			case SendHello:
				if _, err := wire.DecodePDU(a.Data); err != nil {
					t.Fatalf("engine sent a bad hello: %v", err)
				}
			}
		}
		if closed != (e.conns[1] == nil) {
			t.Fatalf("Close emitted %v but session present %v", closed, e.conns[1] != nil)
		}
		if e.conns[3] == nil || e.conns[3].state != Operational {
			t.Fatal("the other session was disturbed")
		}
		downs, stales := 0, 0
		for _, c := range fl.calls {
			switch c.line {
			case "lib NeighborDown 2.2.2.2":
				downs++
			case "lib NeighborStale 2.2.2.2":
				stales++
			}
		}
		want := map[bool]int{false: 0, true: 1}[closed]
		if gr && (stales != want || downs != 0) || !gr && (downs != want || stales != 0) {
			t.Fatalf("graceful restart %v: NeighborDown called %d times, NeighborStale %d, session closed %v", gr, downs, stales, closed)
		}
		if gr && closed && e.helping[netip.MustParseAddr("2.2.2.2")] == nil {
			t.Fatal("GR session lost but no helper deadline")
		}
	})
}

// FuzzDualStack feeds arbitrary bytes to an OPERATIONAL dual-stack session
// (RFC 7552) and as IPv4 and IPv6 link and targeted hellos. The engine must
// not panic, what it sends must be well formed, and its timers consistent.
func FuzzDualStack(f *testing.F) {
	id := wire.LDPID{LSRID: netip.MustParseAddr("2.2.2.2")}
	seed := func(msgs ...wire.Message) []byte { return mustPDU(f, id, msgs...) }
	v6 := netip.MustParsePrefix("2001:db8:9::/48")
	f.Add(seed(&wire.LabelMapping{MsgID: 3, FEC: wire.FEC{wire.PrefixFEC{Prefix: v6}}, Label: 16}),
		seed(&wire.Hello{MsgID: 9, Params: wire.CommonHelloParams{HoldTime: 15}, TransportAddr: netip.MustParseAddr("2001:db8::2"), DualStack: &wire.DualStack{TR: 5}}))
	f.Add(seed(&wire.Address{MsgID: 3, Addresses: wire.AddressList{Family: wire.AFIPv6, Addrs: []netip.Addr{netip.MustParseAddr("fe80::2")}}}),
		seed(&wire.Hello{MsgID: 9, Params: wire.CommonHelloParams{HoldTime: 15, GTSM: true}, TransportAddr: netip.MustParseAddr("10.255.0.2")}))
	f.Add(seed(&wire.LabelWithdraw{MsgID: 3, FEC: wire.FEC{wire.TypedWildcardFEC{Type: wire.FECPrefix, Family: wire.AFIPv6}}}),
		seed(&wire.Hello{MsgID: 9, Params: wire.CommonHelloParams{HoldTime: 45, Targeted: true}, TransportAddr: netip.MustParseAddr("2001:db8::7"), DualStack: wire.NewDualStack(wire.AFIPv4)}))
	f.Fuzz(func(t *testing.T, data, hello []byte) {
		e, err := New(Config{LSRID: netip.MustParseAddr("1.1.1.1"), TransportAddr6: netip.MustParseAddr("2001:db8::1"),
			Interfaces: []string{"eth0"}, LinkHelloHold: InfiniteHold,
			AcceptTargeted: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}}, newFakeLIB())
		if err != nil {
			t.Fatal(err)
		}
		e.Handle(t0, InterfaceUp{Name: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.12.1/24"), netip.MustParsePrefix("fe80::1/64")}})
		ds := wire.NewDualStack(wire.AFIPv6)
		e.Handle(t0, HelloReceived{Ifname: "eth0", Src: netip.MustParseAddrPort("10.0.12.2:646"), Dst: AllHellosGroup,
			Data: mustPDU(t, id, &wire.Hello{MsgID: 1, Params: wire.CommonHelloParams{HoldTime: 0xffff}, TransportAddr: netip.MustParseAddr("10.255.0.2"), DualStack: ds})})
		e.Handle(t0, HelloReceived{Ifname: "eth0", Src: netip.MustParseAddrPort("[fe80::2]:646"), Dst: AllHellosGroup6,
			Data: mustPDU(t, id, &wire.Hello{MsgID: 2, Params: wire.CommonHelloParams{HoldTime: 0xffff}, TransportAddr: netip.MustParseAddr("2001:db8::2"), DualStack: ds})})
		e.Handle(t0, ConnAccepted{Conn: 1, Local: netip.MustParseAddrPort("[2001:db8::1]:646"), Remote: netip.MustParseAddrPort("[2001:db8::2]:40000")})
		e.Handle(t0, ConnData{Conn: 1, Data: mustPDU(t, id,
			&wire.Initialization{MsgID: 1, Session: wire.CommonSessionParams{ProtocolVersion: 1, KeepAliveTime: 180, MaxPDULength: 4096, ReceiverID: wire.LDPID{LSRID: e.cfg.LSRID}}},
			&wire.KeepAlive{MsgID: 2})})
		if s := e.conns[1]; s == nil || s.state != Operational || s.nbr.families != 3 {
			t.Fatal("dual-stack session not OPERATIONAL serving both families")
		}
		now := t0.Add(time.Second)
		acts := e.Handle(now, ConnData{Conn: 1, Data: data})
		for _, h := range []HelloReceived{
			{Ifname: "eth0", Src: netip.MustParseAddrPort("10.0.12.9:646"), Dst: AllHellosGroup, Data: hello},
			{Ifname: "eth0", Src: netip.MustParseAddrPort("[fe80::9]:646"), Dst: AllHellosGroup6, Data: hello, TTL: 254},
			{Ifname: "eth0", Src: netip.MustParseAddrPort("[2001:db8::9]:646"), Dst: netip.MustParseAddr("2001:db8::1"), Targeted: true, Data: hello},
		} {
			acts = append(acts, e.Handle(now, h)...)
		}
		checkDeadline(t, e)
		for _, a := range acts {
			var b []byte
			switch a := a.(type) {
			case Send:
				b = a.Data
			case SendHello:
				b = a.Data
			default:
				continue
			}
			if _, err := wire.DecodePDU(b); err != nil {
				t.Fatalf("engine sent a bad PDU %x: %v", b, err)
			}
		}
	})
}
