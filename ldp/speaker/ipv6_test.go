package speaker_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/lsrd/lsrd/internal/netnstest"
	"github.com/lsrd/lsrd/ldp"
	"github.com/lsrd/lsrd/ldp/lib"
	"github.com/lsrd/lsrd/ldp/speaker"
	"github.com/lsrd/lsrd/ldp/transport"
	"github.com/lsrd/lsrd/rib"
)

// LDP over IPv6 only (RFC 7552) on real sockets: two speakers on a veth
// with IPv6 addresses only find each other by link hellos to ff02::2 (from
// their link-local addresses), open their session between their IPv6
// transport addresses, signed with TCP-MD5 and with GTSM, and each learns
// the other's label for its IPv6 loopback.
func TestIPv6Session(t *testing.T) {
	checkNoSpeakerGoroutines(t)
	nsA, nsB := netnstest.New(t), netnstest.New(t)
	for _, ns := range []netns.NsHandle{nsA, nsB} {
		if err := netnstest.Do(ns, func() error {
			for _, f := range []string{"all", "default"} {
				if err := os.WriteFile("/proc/sys/net/ipv6/conf/"+f+"/accept_dad", []byte("0"), 0o644); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	ia, ib := netnstest.Veth(t, nsA, nsB, "va", "vb", netip.MustParsePrefix("2001:db8:12::1/64"), netip.MustParsePrefix("2001:db8:12::2/64"))
	type end struct {
		name     string
		ns       netns.NsHandle
		id, addr netip.Addr
		ifindex  int
		peer     netip.Addr
		eng      *ldp.Engine
		lib      *lib.LIB
		sp       *speaker.Speaker
	}
	ends := []*end{
		{name: "A", ns: nsA, id: netip.MustParseAddr("10.255.0.1"), addr: netip.MustParseAddr("2001:db8:12::1"), ifindex: ia, peer: netip.MustParseAddr("2001:db8:12::2")},
		{name: "B", ns: nsB, id: netip.MustParseAddr("10.255.0.2"), addr: netip.MustParseAddr("2001:db8:12::2"), ifindex: ib, peer: netip.MustParseAddr("2001:db8:12::1")},
	}
	for i, e := range ends {
		other := ends[1-i]
		cfg := ldp.Config{LSRID: e.id, TransportAddr6: e.addr, IPv4Disabled: true, Interfaces: []string{"v" + string(rune('a'+i))},
			LinkHelloHold: short.hold, LinkHelloInterval: time.Second, KeepAlive: short.keepAlive,
			Auth:   []ldp.AuthKey{{Peers: netip.PrefixFrom(other.id, 32), Key: "v6-key"}},
			Logger: slog.New(slog.DiscardHandler)}
		var err error
		if e.lib, err = lib.New(lib.Config{LabelMin: 16, LabelMax: 1048574}); err != nil {
			t.Fatal(err)
		}
		if e.eng, err = ldp.New(cfg, e.lib); err != nil {
			t.Fatal(err)
		}
		var socks speaker.Sockets
		if err := netnstest.Do(e.ns, func() error {
			var err error
			if socks.Hello, err = transport.ListenHello(context.Background()); err != nil {
				return err
			}
			if socks.Listener, err = transport.ListenSessions(context.Background(), netip.Addr{}); err != nil {
				return err
			}
			if socks.Hello6, err = transport.ListenHello6(context.Background()); err != nil {
				return err
			}
			socks.Listener6, err = transport.ListenSessions(context.Background(), netip.IPv6Unspecified())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		socks.Dial = func(ctx context.Context, local, remote netip.Addr, opt transport.SessionOptions) (c *net.TCPConn, err error) {
			err = netnstest.Do(e.ns, func() error {
				c, err = transport.DialSession(ctx, local, remote, opt)
				return err
			})
			return c, err
		}
		e.sp = speaker.New(e.eng, socks, speaker.Options{Log: slog.New(slog.DiscardHandler)})
	}
	for i, e := range ends {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.sp.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(patience):
				t.Errorf("%s: Run did not return", e.name)
			}
		})
		loop := netip.MustParsePrefix(fmt.Sprintf("2001:db8:ff::%d/128", i+1))
		other := netip.MustParsePrefix(fmt.Sprintf("2001:db8:ff::%d/128", 2-i))
		pctx, pcancel := context.WithTimeout(context.Background(), patience)
		for _, ev := range []ldp.Event{
			ldp.InterfaceUp{Name: "lo", Index: 1, Addrs: []netip.Prefix{loop}},
			ldp.InterfaceUp{Name: "v" + string(rune('a'+i)), Index: e.ifindex, Addrs: []netip.Prefix{netip.PrefixFrom(e.addr, 64)}},
			ldp.RoutesChanged{Updates: []rib.Route{
				{Prefix: loop, Source: rib.SourceConnected, NextHops: []rib.NextHop{{Ifname: "lo"}}},
				{Prefix: other, Source: rib.SourceStatic, Distance: 1, NextHops: []rib.NextHop{{Addr: e.peer, Ifname: "v" + string(rune('a'+i))}}},
			}},
		} {
			if err := e.sp.Post(pctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		pcancel()
	}
	eventually(t, 40*time.Second, "IPv6 session OPERATIONAL, signed, with GTSM, and labels for both loopbacks", func() error {
		for i, e := range ends {
			other := ends[1-i]
			var ni ldp.NeighborInfo
			var bs []lib.Binding
			ctx, cancel := context.WithTimeout(context.Background(), patience)
			err := e.sp.Call(ctx, func() {
				for _, n := range e.eng.Neighbors() {
					if n.LSRID == other.id {
						ni = n
					}
				}
				bs = e.lib.Bindings()
			})
			cancel()
			if err != nil {
				return err
			}
			if ni.State != ldp.Operational.String() || !ni.MD5 || !ni.GTSM || ni.Transport != other.addr {
				return fmt.Errorf("%s: neighbour %+v", e.name, ni)
			}
			got := 0
			for _, b := range bs {
				if b.FEC.Prefix().Addr().Is6() && len(b.Remote) > 0 {
					got++
				}
			}
			if got < 2 {
				return fmt.Errorf("%s: remote labels for %d IPv6 FECs, want 2: %+v", e.name, got, bs)
			}
		}
		return nil
	})
}
