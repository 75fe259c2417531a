package speaker_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/internal/netnstest"
	"github.com/lsrd/lsrd/internal/poll"
	"github.com/lsrd/lsrd/ldp"
	"github.com/lsrd/lsrd/ldp/lib"
	"github.com/lsrd/lsrd/ldp/speaker"
	"github.com/lsrd/lsrd/ldp/transport"
	"github.com/lsrd/lsrd/rib"
)

// These tests run real speakers on real sockets and real time, each in a
// network namespace of its own (netns_test.go), joined by a veth pair:
//
//	A: LSR ID 10.255.0.1 (lo)  va 10.0.0.1/24 ---- vb 10.0.0.2/24  B: LSR ID 10.255.0.2 (lo)
//
// Timers are short (hello hold 6 s, KeepAlive 6 s) but every wait has a
// generous deadline: nothing asserts on a fixed sleep.

// patience bounds every wait for something that takes a few hello intervals.
const patience = 20 * time.Second

// node is one LSR under test: an engine with a real LIB, its speaker and
// what the speaker reported through its hooks.
type node struct {
	name    string
	ns      netns.NsHandle
	id      netip.Addr // LSR ID, on lo
	addr    netip.Addr // transport address, on the veth
	ifname  string
	ifindex int
	peer    netip.Addr // the other node's transport address

	cfg   ldp.Config
	lib   *lib.LIB
	eng   *ldp.Engine
	sp    *speaker.Speaker
	hello *transport.HelloSocket
	lis   *net.TCPListener
	log   *slog.Logger

	cancel context.CancelFunc
	done   chan error // Run's result

	mu     sync.Mutex
	states []ldp.SessionState
	fibs   int         // OnFIB calls
	last   *fib.Table  // last table from OnFIB
	views  []time.Time // Publish calls
}

// pair is two nodes on one link.
type pair struct{ a, b *node }

// discovery says how the two nodes find each other.
type discovery int

const (
	targetedHellos discovery = iota // Targeted Hellos to the peer's transport address
	linkHellos                      // basic discovery: Link Hellos to 224.0.0.2 on the veth
)

func (d discovery) String() string { return [...]string{"targeted", "link"}[d] }

// timers are a node's hello and KeepAlive settings.
type timers struct{ hold, keepAlive time.Duration }

var short = timers{hold: 6 * time.Second, keepAlive: 6 * time.Second}

// newPair builds the two namespaces and their link, and speakers configured
// for d; nothing runs until start.
func newPair(t *testing.T, d discovery, tm timers) *pair {
	t.Helper()
	nsA, nsB := netnstest.New(t), netnstest.New(t)
	ia, ib := netnstest.Veth(t, nsA, nsB, "va", "vb", netip.MustParsePrefix("10.0.0.1/24"), netip.MustParsePrefix("10.0.0.2/24"))
	p := &pair{
		a: &node{name: "A", ns: nsA, id: netip.MustParseAddr("10.255.0.1"), addr: netip.MustParseAddr("10.0.0.1"),
			ifname: "va", ifindex: ia, peer: netip.MustParseAddr("10.0.0.2")},
		b: &node{name: "B", ns: nsB, id: netip.MustParseAddr("10.255.0.2"), addr: netip.MustParseAddr("10.0.0.2"),
			ifname: "vb", ifindex: ib, peer: netip.MustParseAddr("10.0.0.1")},
	}
	for _, n := range []*node{p.a, p.b} {
		n.setup(t, d, tm)
	}
	return p
}

func (n *node) setup(t *testing.T, d discovery, tm timers) {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", n.name)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("node %s log:\n%s", n.name, logs.String())
		}
	})
	n.cfg = ldp.Config{
		LSRID: n.id, TransportAddr: n.addr,
		LinkHelloHold: tm.hold, LinkHelloInterval: time.Second,
		TargetedHelloHold: tm.hold, TargetedHelloInterval: time.Second,
		KeepAlive: tm.keepAlive, Logger: log,
	}
	switch d {
	case targetedHellos:
		n.cfg.Targets = []netip.Addr{n.peer}
	case linkHellos:
		n.cfg.Interfaces = []string{n.ifname}
	}
	var err error
	if n.lib, err = lib.New(lib.Config{LabelMin: 16, LabelMax: 1048574}); err != nil {
		t.Fatal(err)
	}
	if n.eng, err = ldp.New(n.cfg, n.lib); err != nil {
		t.Fatal(err)
	}
	n.hello, n.lis = listen(t, n.ns)
	n.log = log
	n.newSpeaker(dialer(n.ns))
}

// newSpeaker (re)creates the node's speaker, dialling with dial.
func (n *node) newSpeaker(dial func(ctx context.Context, local, remote netip.Addr, opt transport.SessionOptions) (*net.TCPConn, error)) {
	n.sp = speaker.New(n.eng, speaker.Sockets{Hello: n.hello, Listener: n.lis, Dial: dial}, speaker.Options{
		Log: n.log,
		OnFIB: func(c ldp.FIBChanged) {
			// The speaker hands on what changed; the node keeps the
			// table those changes build.
			n.mu.Lock()
			n.fibs++
			if n.last == nil {
				n.last = fib.NewTable()
			}
			if c.Table != nil {
				n.last = c.Table
			}
			n.last.Apply(c.Delta)
			n.mu.Unlock()
		},
		OnState: func(s ldp.SessionState) {
			n.mu.Lock()
			n.states = append(n.states, s)
			n.mu.Unlock()
		},
		Publish: func() {
			n.mu.Lock()
			n.views = append(n.views, time.Now())
			n.mu.Unlock()
		},
	})
}

// start runs the speaker and feeds it what lsrd's parent would: the
// interfaces with their addresses, then the connected routes and a route
// to the other node's loopback through the link.
func (n *node) start(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel, n.done = cancel, make(chan error, 1)
	go func() { n.done <- n.sp.Run(ctx) }()
	t.Cleanup(func() { n.stop(t) })
	other := netip.MustParseAddr("10.255.0.2")
	if n.id == other {
		other = netip.MustParseAddr("10.255.0.1")
	}
	n.post(t,
		ldp.InterfaceUp{Name: "lo", Index: 1, Addrs: []netip.Prefix{netip.PrefixFrom(n.id, 32)}},
		ldp.InterfaceUp{Name: n.ifname, Index: n.ifindex, Addrs: []netip.Prefix{netip.PrefixFrom(n.addr, 24)}},
		ldp.RoutesChanged{Updates: []rib.Route{
			{Prefix: netip.PrefixFrom(n.id, 32), Source: rib.SourceConnected, NextHops: []rib.NextHop{{Ifname: "lo"}}},
			{Prefix: netip.MustParsePrefix("10.0.0.0/24"), Source: rib.SourceConnected, NextHops: []rib.NextHop{{Ifname: n.ifname}}},
			{Prefix: netip.PrefixFrom(other, 32), Source: rib.SourceStatic, Distance: 1,
				NextHops: []rib.NextHop{{Addr: n.peer, Ifname: n.ifname}}},
		}},
	)
}

// stop ends Run and waits for it, failing the test if it does not return.
// It may be called more than once.
func (n *node) stop(t *testing.T) {
	t.Helper()
	if n.cancel == nil {
		return
	}
	n.cancel()
	select {
	case err := <-n.done:
		if err != nil {
			t.Errorf("%s: Run returned %v after its context ended", n.name, err)
		}
	case <-time.After(patience):
		t.Errorf("%s: Run did not return within %s of its context ending", n.name, patience)
	}
	n.cancel = nil
}

func (n *node) post(t *testing.T, evs ...ldp.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	for _, ev := range evs {
		if err := n.sp.Post(ctx, ev); err != nil {
			t.Fatalf("%s: Post %T: %v", n.name, ev, err)
		}
	}
}

// call runs f through Speaker.Call with a deadline.
func (n *node) call(f func()) error {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	return n.sp.Call(ctx, f)
}

// neighbor returns the engine's view of the neighbour with LSR ID id.
func (n *node) neighbor(id netip.Addr) (ldp.NeighborInfo, bool, error) {
	var ni ldp.NeighborInfo
	var ok bool
	err := n.call(func() {
		for _, x := range n.eng.Neighbors() {
			if x.LSRID == id {
				ni, ok = x, true
			}
		}
	})
	return ni, ok, err
}

// sessionState returns the state of the session with id, NON EXISTENT
// when the neighbour is not known.
func (n *node) sessionState(id netip.Addr) (string, error) {
	ni, ok, err := n.neighbor(id)
	if !ok {
		return ldp.NonExistent.String(), err
	}
	return ni.State, err
}

func (n *node) flaps(id netip.Addr) (uint64, error) {
	var f uint64
	err := n.call(func() {
		for _, p := range n.eng.Counters().Peers {
			if p.LSRID == id {
				f = p.Flaps
			}
		}
	})
	return f, err
}

func (n *node) bindings() (map[netip.Prefix]lib.Binding, error) {
	out := map[netip.Prefix]lib.Binding{}
	err := n.call(func() {
		for _, b := range n.lib.Bindings() {
			out[b.FEC.Prefix()] = b
		}
	})
	return out, err
}

// eventually polls f every 50 ms until it returns nil, and fails the test
// with f's last error once timeout has passed.
func eventually(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	poll.Until(t, timeout, 50*time.Millisecond, what, f)
}

func operational(a, b *node) func() error {
	return func() error {
		for _, x := range [][2]*node{{a, b}, {b, a}} {
			st, err := x[0].sessionState(x[1].id)
			if err != nil {
				return err
			}
			if st != ldp.Operational.String() {
				return fmt.Errorf("%s's session with %s is %s", x[0].name, x[1].name, st)
			}
		}
		return nil
	}
}

// upPair starts both nodes and waits for their session.
func upPair(t *testing.T, d discovery, tm timers) *pair {
	t.Helper()
	p := newPair(t, d, tm)
	p.a.start(t)
	p.b.start(t)
	eventually(t, patience, "session OPERATIONAL on both sides", operational(p.a, p.b))
	return p
}

// Two speakers find each other (targeted hellos over the link's addresses,
// or link hellos to 224.0.0.2 on the veth), bring their session to
// OPERATIONAL, and exchange labels: each holds the other's label for every
// FEC, equal to the label the other allocated, the loopback across the link
// is bound to the neighbour's implicit null and in use, and the LFIB handed
// to OnFIB pops it.
func TestSessionAndLabels(t *testing.T) {
	for _, d := range []discovery{targetedHellos, linkHellos} {
		t.Run(d.String(), func(t *testing.T) {
			checkNoSpeakerGoroutines(t)
			p := upPair(t, d, short)
			fecs := []netip.Prefix{
				netip.MustParsePrefix("10.0.0.0/24"),
				netip.MustParsePrefix("10.255.0.1/32"),
				netip.MustParsePrefix("10.255.0.2/32"),
			}
			eventually(t, patience, "each node holds the other's labels", func() error {
				for _, x := range [][2]*node{{p.a, p.b}, {p.b, p.a}} {
					mine, err := x[0].bindings()
					if err != nil {
						return err
					}
					theirs, err := x[1].bindings()
					if err != nil {
						return err
					}
					for _, f := range fecs {
						m := mine[f]
						if !m.HasLocal {
							return fmt.Errorf("%s has no local label for %s: %+v", x[0].name, f, m)
						}
						i := slices.IndexFunc(theirs[f].Remote, func(r lib.RemoteBinding) bool { return r.Peer == x[0].id })
						if i < 0 || theirs[f].Remote[i].Label != m.LocalLabel {
							return fmt.Errorf("%s advertised %v for %s; %s holds %+v", x[0].name, m.LocalLabel, f, x[1].name, theirs[f].Remote)
						}
					}
				}
				return nil
			})

			// A is the penultimate hop to B's loopback: it holds B's implicit
			// null, uses it (B listed 10.0.0.2 in its Address message) and
			// has a label of its own for the FEC.
			bs, err := p.a.bindings()
			if err != nil {
				t.Fatal(err)
			}
			b := bs[netip.MustParsePrefix("10.255.0.2/32")]
			if !b.HasLocal || b.LocalLabel < fib.FirstUnreserved || len(b.Remote) != 1 ||
				b.Remote[0].Label != fib.LabelImplicitNull || !b.Remote[0].InUse {
				t.Errorf("A's binding for B's loopback: %+v; want a local label of its own and B's implicit null in use", b)
			}
			if b := bs[netip.MustParsePrefix("10.255.0.1/32")]; b.LocalLabel != fib.LabelImplicitNull {
				t.Errorf("A's binding for its own loopback: %+v; want implicit null (egress)", b)
			}

			// What A's parent would hand the kernel: an LFIB entry for A's
			// label of B's loopback, towards B.
			eventually(t, patience, "OnFIB's LFIB has A's label for B's loopback", func() error {
				p.a.mu.Lock()
				defer p.a.mu.Unlock()
				if p.a.last == nil {
					return fmt.Errorf("OnFIB never called")
				}
				e, ok := p.a.last.LFIB[b.LocalLabel]
				if !ok || len(e.NextHops) != 1 || e.NextHops[0].Addr != p.b.addr {
					return fmt.Errorf("LFIB entry for %v: %+v (present %v)", b.LocalLabel, e, ok)
				}
				return nil
			})

			// OnState saw the session come up, on both sides.
			for _, n := range []*node{p.a, p.b} {
				n.mu.Lock()
				states := slices.Clone(n.states)
				n.mu.Unlock()
				if !slices.ContainsFunc(states, func(s ldp.SessionState) bool { return s.To == ldp.Operational }) {
					t.Errorf("%s: OnState never reported OPERATIONAL: %+v", n.name, states)
				}
			}
			for _, n := range []*node{p.a, p.b} {
				n.stop(t)
			}
		})
	}
}

// Run returns once its context ends, having closed the sockets it was given
// and every session connection (the peer sees its session end at once,
// long before any timer could tell it), and leaves no goroutine behind.
func TestRunStopsCleanly(t *testing.T) {
	checkNoSpeakerGoroutines(t)
	// Long timers: B may only notice A's exit through its closed
	// connection, well within the 60 s hold and KeepAlive.
	p := upPair(t, targetedHellos, timers{hold: 60 * time.Second, keepAlive: 60 * time.Second})

	stopped := time.Now()
	p.a.stop(t)
	t.Logf("A's Run returned %v after its context ended", time.Since(stopped).Round(time.Millisecond))

	// The listener and the hello socket are closed: Accept fails with
	// net.ErrClosed instead of waiting, and so does a read of the hello
	// socket.
	if err := listenerClosed(p.a.lis); err != nil {
		t.Error(err)
	}
	if err := helloClosed(p.a.hello); err != nil {
		t.Error(err)
	}
	// A's port 646 is free again in its namespace: a new listener binds.
	h, l := listen(t, p.a.ns)
	h.Close()
	l.Close()

	// The session connection was closed, not left for B's hold timer.
	eventually(t, 10*time.Second, "B sees its session with A end", func() error {
		st, err := p.b.sessionState(p.a.id)
		if err == nil && st == ldp.Operational.String() {
			err = fmt.Errorf("B's session with A is still %s", st)
		}
		return err
	})
	flaps, err := p.b.flaps(p.a.id)
	if err != nil || flaps != 1 {
		t.Errorf("B counts %d flaps of its session with A (%v), want 1", flaps, err)
	}

	// After Run returned, Call gives up with its context instead of
	// hanging, and never runs f.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	ran := false
	err = p.a.sp.Call(ctx, func() { ran = true })
	cancel()
	if err == nil || ran {
		t.Errorf("Call on a stopped speaker: err %v, f ran %v; want the context's error and f not run", err, ran)
	}
	p.b.stop(t)
}

// Run waits for the goroutines it started: a session dial still in
// progress when the context ends has returned by the time Run does.
func TestRunWaitsForDial(t *testing.T) {
	checkNoSpeakerGoroutines(t)
	p := newPair(t, targetedHellos, short)
	// B has the higher transport address, so B dials; its dial hangs until
	// the speaker gives up on it, then takes a while longer.
	dialing := make(chan struct{}, 1)
	var returned atomic.Bool
	p.b.newSpeaker(func(ctx context.Context, _, _ netip.Addr, _ transport.SessionOptions) (*net.TCPConn, error) {
		select {
		case dialing <- struct{}{}:
		default:
		}
		<-ctx.Done()
		time.Sleep(300 * time.Millisecond)
		returned.Store(true)
		return nil, ctx.Err()
	})
	p.a.start(t)
	p.b.start(t)
	select {
	case <-dialing:
	case <-time.After(patience):
		t.Fatalf("B never dialled A")
	}
	p.b.stop(t)
	if !returned.Load() {
		t.Errorf("B's Run returned while its dial was still in progress")
	}
	p.a.stop(t)
}

// Call runs f on the speaker's own goroutine (the one inside Run), one call
// at a time, between events: callers on many goroutines, posting routes and
// calling at once, never see more of their routes than they posted (a call
// rides the liveness lane and may overtake work still queued, never run
// inside it), every route is there once the posts are done, and within one
// call the engine's and the LIB's views agree with each other. Run the
// package with -race to also catch any access outside the speaker's
// goroutine.
func TestCallIsSerializedWithEvents(t *testing.T) {
	checkNoSpeakerGoroutines(t)
	p := upPair(t, targetedHellos, short)
	a := p.a

	const workers, perWorker = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	var inCall, maxInCall int // touched only inside f: the race detector guards them
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range perWorker {
				pfx := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 100, byte(w), byte(k)}), 32)
				ctx, cancel := context.WithTimeout(context.Background(), patience)
				err := a.sp.Post(ctx, ldp.RoutesChanged{Updates: []rib.Route{{Prefix: pfx, Source: rib.SourceStatic, Distance: 1,
					NextHops: []rib.NextHop{{Addr: a.peer, Ifname: a.ifname}}}}})
				cancel()
				if err != nil {
					errs <- err
					return
				}
				var problem string
				err = a.call(func() {
					inCall++
					maxInCall = max(maxInCall, inCall)
					defer func() { inCall-- }()
					stack := make([]byte, 64<<10)
					stack = stack[:runtime.Stack(stack, false)]
					if !bytes.Contains(stack, []byte("ldp/speaker.(*Speaker).Run(")) {
						problem = "f did not run on the speaker's goroutine:\n" + string(stack)
						return
					}
					bs := a.lib.Bindings()
					st := a.lib.Stats()
					mine, local, remote := 0, 0, 0
					for _, b := range bs {
						if b.FEC.Prefix().Addr().As4()[1] == 100 && b.FEC.Prefix().Addr().As4()[2] == byte(w) {
							mine++
						}
						if b.HasLocal {
							local++
						}
						remote += len(b.Remote)
					}
					if mine > k+1 {
						problem = fmt.Sprintf("after posting %d routes, the LIB binds %d of them", k+1, mine)
					}
					if local != st.LocalBindings || remote != st.RemoteBindings {
						problem = fmt.Sprintf("Bindings shows %d local and %d remote, Stats says %d and %d",
							local, remote, st.LocalBindings, st.RemoteBindings)
					}
					peers := 0
					for _, n := range a.eng.Neighbors() {
						if n.State == ldp.Operational.String() {
							peers++
						}
					}
					if peers != st.Peers {
						problem = fmt.Sprintf("the engine has %d OPERATIONAL sessions, the LIB %d peers", peers, st.Peers)
					}
				})
				if err == nil && problem != "" {
					err = fmt.Errorf("worker %d, route %d: %s", w, k, problem)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if maxInCall != 1 {
		t.Errorf("up to %d calls ran at once, want 1", maxInCall)
	}
	// Every route posted is bound once the work lane is through.
	deadline := time.Now().Add(patience)
	for {
		bound := 0
		if err := a.call(func() {
			for _, b := range a.lib.Bindings() {
				if b.FEC.Prefix().Addr().As4()[1] == 100 {
					bound++
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
		if bound == workers*perWorker {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the LIB binds %d of the %d routes posted", bound, workers*perWorker)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The session lived through the burst.
	if err := operational(p.a, p.b)(); err != nil {
		t.Errorf("after the burst of posts and calls: %v", err)
	}
}

// A peer that vanishes is noticed and its session closed: a peer whose
// speaker stopped (its connection closed) at once, a peer that went silent
// (its link down: nothing more arrives, not even a FIN) within the
// KeepAlive hold and hello hold times. Either way the session counts one
// flap and the LIB forgets the peer's labels.
func TestVanishedPeer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tm     timers
		within time.Duration // how long noticing may take, generously
		vanish func(t *testing.T, p *pair)
	}{
		// 60 s timers: only the closed connection can explain noticing
		// within 10 s.
		{"stopped", timers{hold: 60 * time.Second, keepAlive: 60 * time.Second}, 10 * time.Second,
			func(t *testing.T, p *pair) { p.b.stop(t) }},
		// 6 s timers: noticed by a timer within 6 s, with room to spare.
		{"silent", short, 6*time.Second + patience,
			func(t *testing.T, p *pair) { netnstest.SetLink(t, p.b.ns, p.b.ifname, false) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkNoSpeakerGoroutines(t)
			p := upPair(t, targetedHellos, tc.tm)
			eventually(t, patience, "A holds B's labels", func() error {
				bs, err := p.a.bindings()
				if err == nil && len(bs[netip.MustParsePrefix("10.255.0.2/32")].Remote) == 0 {
					err = fmt.Errorf("no remote label for B's loopback yet")
				}
				return err
			})
			start := time.Now()
			tc.vanish(t, p)
			eventually(t, tc.within, "A closes its session with the vanished B", func() error {
				st, err := p.a.sessionState(p.b.id)
				if err == nil && st == ldp.Operational.String() {
					err = fmt.Errorf("A's session with B is still %s", st)
				}
				return err
			})
			t.Logf("A noticed after %v", time.Since(start).Round(10*time.Millisecond))
			if f, err := p.a.flaps(p.b.id); err != nil || f != 1 {
				t.Errorf("A counts %d flaps with B (%v), want 1", f, err)
			}
			eventually(t, patience, "A forgets B's labels", func() error {
				bs, err := p.a.bindings()
				if err == nil {
					for fec, b := range bs {
						if len(b.Remote) > 0 {
							return fmt.Errorf("A still holds %+v for %s", b.Remote, fec)
						}
					}
				}
				return err
			})
			p.a.stop(t)
			p.b.stop(t)
		})
	}
}

// checkNoSpeakerGoroutines fails the test, when it ends, if any goroutine of
// package speaker or transport is still running once every speaker stopped.
// Cleanups run last-in first-out: registered first, this runs after every
// node's stop.
func checkNoSpeakerGoroutines(t *testing.T) {
	t.Helper()
	if left := speakerGoroutines(); left != "" {
		t.Fatalf("speaker goroutines running before the test:\n%s", left)
	}
	t.Cleanup(func() {
		// A goroutine that is returning may still be on its way out when
		// Run does: give it a moment, but not long enough to hide one
		// that stays.
		deadline := time.Now().Add(time.Second)
		for {
			left := speakerGoroutines()
			if left == "" {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("goroutines left behind after every speaker's Run returned:\n%s", left)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// speakerGoroutines returns the stacks of goroutines running code of package
// speaker or transport (or started by it).
func speakerGoroutines() string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "lsrd/ldp/speaker.") || strings.Contains(g, "lsrd/ldp/transport.") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

// syncBuffer is a log sink shared by the speaker's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// listenerClosed reports an error unless l was closed: Accept on a closed
// listener fails at once with net.ErrClosed, on an open one it waits for
// the deadline.
func listenerClosed(l *net.TCPListener) error {
	l.SetDeadline(time.Now().Add(200 * time.Millisecond))
	_, err := l.AcceptTCP()
	if !errors.Is(err, net.ErrClosed) {
		l.Close()
		return fmt.Errorf("the session listener is still open after Run returned (Accept: %v)", err)
	}
	return nil
}

// helloClosed reports an error unless h was closed: a read of a closed
// socket fails at once, one of an open socket waits for a datagram.
func helloClosed(h *transport.HelloSocket) error {
	errc := make(chan error, 1)
	go func() {
		_, err := h.Read(make([]byte, 1<<16))
		errc <- err
	}()
	select {
	case err := <-errc:
		if !transport.IsClosed(err) {
			return fmt.Errorf("hello socket read after Run returned: %v, want net.ErrClosed", err)
		}
		return nil
	case <-time.After(time.Second):
		h.Close()
		<-errc
		return fmt.Errorf("the hello socket is still open after Run returned (a read blocks)")
	}
}
