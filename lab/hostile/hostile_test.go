package hostile

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/lsrd/lsrd/internal/netnstest"
	"github.com/lsrd/lsrd/internal/poll"
	"github.com/lsrd/lsrd/ldp"
	"github.com/lsrd/lsrd/ldp/lib"
	"github.com/lsrd/lsrd/ldp/speaker"
	"github.com/lsrd/lsrd/ldp/transport"
)

// The tool is checked on the host against lsrd's own engine and speaker
// (the router), each side in an anonymous network namespace of the test's
// own, joined by a veth pair: so that a lab test that fails fails because
// of the router, not because the tool is broken. The namespaces are the
// test's private lab, which is why LSRD_LAB is set here.

// router is lsrd's LDP engine on a real speaker, in its own namespace.
type router struct {
	eng *ldp.Engine
	lib *lib.LIB
	sp  *speaker.Speaker
}

// call runs f on the router's speaker goroutine.
func (r *router) call(t *testing.T, f func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.sp.Call(ctx, f); err != nil {
		t.Fatal(err)
	}
}

// setup returns the router (LSR ID 1.1.1.1, routerAddr on interface "rx",
// link hellos, KeepAlive 3 s) and the tool's Netns, whose interface "xr" has
// toolAddr.
func setup(t *testing.T, routerAddr, toolAddr string) (*router, Netns) {
	t.Helper()
	t.Setenv("LSRD_LAB", "1")
	nsR, nsX := netnstest.New(t), netnstest.New(t)
	ir, _ := netnstest.Veth(t, nsR, nsX, "rx", "xr", netip.MustParsePrefix(routerAddr+"/24"), netip.MustParsePrefix(toolAddr+"/24"))
	l, err := lib.New(lib.Config{LabelMin: 16, LabelMax: 1048574})
	if err != nil {
		t.Fatal(err)
	}
	taddr := netip.MustParseAddr(routerAddr)
	eng, err := ldp.New(ldp.Config{LSRID: netip.MustParseAddr("1.1.1.1"), TransportAddr: taddr, Interfaces: []string{"rx"},
		LinkHelloHold: 6 * time.Second, LinkHelloInterval: time.Second, KeepAlive: 3 * time.Second,
		// These tests check the tool, not lsrd's bounds: room for the
		// whole flood.
		MaxAdjacenciesPerInterface: 1000, MaxNeighbors: 1000}, l)
	if err != nil {
		t.Fatal(err)
	}
	var hs *transport.HelloSocket
	var lis *net.TCPListener
	err = netnstest.Do(nsR, func() error {
		var err error
		if hs, err = transport.ListenHello(context.Background()); err != nil {
			return err
		}
		lis, err = transport.ListenSessions(context.Background(), netip.Addr{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	dial := func(ctx context.Context, local, remote netip.Addr, opt transport.SessionOptions) (c *net.TCPConn, err error) {
		err = netnstest.Do(nsR, func() error {
			c, err = transport.DialSession(ctx, local, remote, opt)
			return err
		})
		return c, err
	}
	r := &router{eng: eng, lib: l, sp: speaker.New(eng, speaker.Sockets{Hello: hs, Listener: lis, Dial: dial}, speaker.Options{Log: slog.New(slog.DiscardHandler)})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		r.sp.Run(ctx)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	if err := r.sp.Post(ctx, ldp.InterfaceUp{Name: "rx", Index: ir, Addrs: []netip.Prefix{netip.PrefixFrom(taddr, 24)}}); err != nil {
		t.Fatal(err)
	}
	// Calls may overtake posted events (they ride the speaker's liveness
	// lane): wait until the router has sent a hello on rx, which it does
	// right after joining 224.0.0.2 there.
	eventually(t, 10*time.Second, "the router runs discovery on rx", func() error {
		sent := uint64(0)
		r.call(t, func() {
			for _, h := range r.eng.Counters().Hellos {
				if h.Interface == "rx" {
					sent = h.Sent
				}
			}
		})
		if sent == 0 {
			return fmt.Errorf("no hello sent on rx yet")
		}
		return nil
	})
	return r, func(f func() error) error { return netnstest.Do(nsX, f) }
}

func eventually(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	poll.Until(t, timeout, 50*time.Millisecond, what, f)
}

// Every hello of the flood reaches the router as a Link Hello on its
// interface, each from a new LSR ID: the router knows them all.
func TestFloodLinkHellos(t *testing.T) {
	r, in := setup(t, "10.9.0.1", "10.9.0.2")
	const n = 500
	res, err := FloodLinkHellos(context.Background(), in, Flood{Ifname: "xr", Src: netip.MustParseAddr("10.9.0.2"),
		FirstLSRID: netip.MustParseAddr("100.64.0.1"), Count: n, Rate: MaxFloodRate, Hold: 6})
	if err != nil || res.Sent != n {
		t.Fatalf("flood: %+v, %v", res, err)
	}
	t.Logf("%d hellos in %v (%.0f/s)", res.Sent, res.Elapsed, res.Rate())
	if res.Elapsed < n*time.Second/MaxFloodRate*9/10 {
		t.Errorf("%d hellos took %v, faster than the rate allows", n, res.Elapsed)
	}
	eventually(t, 10*time.Second, "the router knows every flooding LSR ID", func() error {
		var got int
		r.call(t, func() {
			for _, nb := range r.eng.Neighbors() {
				if len(nb.Adjacencies) == 1 && nb.Adjacencies[0].Interface == "rx" && nb.Transport == netip.MustParseAddr("10.9.0.2") {
					got++
				}
			}
		})
		if got != n {
			return fmt.Errorf("%d neighbours from the flood, want %d", got, n)
		}
		return nil
	})
}

// Idle connections are held until the router closes them: lsrd closes a
// connection that never sends Initialization when its KeepAlive time (3 s
// here) runs out, and the report says so.
func TestIdleConnections(t *testing.T) {
	_, in := setup(t, "10.9.0.1", "10.9.0.2")
	ic, err := OpenIdle(context.Background(), in, netip.MustParseAddrPort("10.9.0.1:646"), 20)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the router closes every idle connection", func() error {
		if n := ic.Open(); n > 0 {
			return fmt.Errorf("%d still open", n)
		}
		return nil
	})
	rep := ic.Close()
	t.Log(rep)
	if rep.Opened != 20 || len(rep.ClosedByRouter) != 20 || rep.StillOpen != 0 {
		t.Fatalf("report %+v, want 20 opened and closed by the router", rep)
	}
	if rep.ClosedByRouter[0] < 2*time.Second {
		t.Errorf("a connection closed after %v, before the router's 3 s could have run out", rep.ClosedByRouter[0])
	}
}

// The peer brings a session up with the router, as the active side (its
// transport address is the higher) or the passive one, sends every mapping,
// which the router holds, keeps the session alive past several KeepAlive
// times, and its Close ends the session and the router's copy of its labels.
func TestPeerAdvertisesMappings(t *testing.T) {
	for _, tc := range []struct{ name, routerAddr string }{{"active", "10.9.0.1"}, {"passive", "10.9.0.3"}} {
		t.Run(tc.name, func(t *testing.T) {
			r, in := setup(t, tc.routerAddr, "10.9.0.2")
			const n = 20000
			p, err := StartPeer(context.Background(), in, PeerConfig{LSRID: netip.MustParseAddr("9.9.9.9"), Ifname: "xr",
				Addr: netip.MustParseAddr("10.9.0.2"), HelloInterval: time.Second, HelloHold: 6, KeepAlive: 180,
				FirstPrefix: netip.MustParsePrefix("20.0.0.0/24"), Mappings: n, FirstLabel: 1000})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := p.WaitOperational(ctx); err != nil {
				t.Fatal(err)
			}
			if err := p.WaitSent(ctx); err != nil {
				t.Fatal(err)
			}
			st := p.Stats()
			t.Logf("%+v", st)
			if st.Active != (tc.name == "active") || st.Router != netip.MustParseAddr("1.1.1.1") || st.MappingsSent != n {
				t.Errorf("stats %+v", st)
			}
			remote := func() (int, string) {
				var got int
				state := ""
				r.call(t, func() {
					got = r.lib.Stats().RemoteBindings
					for _, nb := range r.eng.Neighbors() {
						if nb.LSRID == netip.MustParseAddr("9.9.9.9") {
							state = nb.State
						}
					}
				})
				return got, state
			}
			eventually(t, 20*time.Second, "the router holds every mapping", func() error {
				if got, _ := remote(); got != n {
					return fmt.Errorf("%d remote bindings, want %d", got, n)
				}
				return nil
			})
			// Three negotiated KeepAlive times (3 s): the session lives on
			// the peer's KeepAlives.
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) {
				if _, state := remote(); state != ldp.Operational.String() {
					t.Fatalf("the router's session with the peer is %s: %+v", state, p.Stats())
				}
				time.Sleep(200 * time.Millisecond)
			}
			if st := p.Stats(); st.Ended != nil || st.KeepAlivesIn < 2 || st.KeepAlivesOut < 2 {
				t.Errorf("after 10 s: %+v; want the session alive and KeepAlives both ways", st)
			}
			st = p.Close()
			if st.Ended != errClosed {
				t.Errorf("the session ended with %v, want %v", st.Ended, errClosed)
			}
			eventually(t, 10*time.Second, "the router drops the peer's labels", func() error {
				if got, _ := remote(); got != 0 {
					return fmt.Errorf("%d remote bindings left", got)
				}
				return nil
			})
		})
	}
}
