// Package speaker runs an LDP instance: it joins the deterministic engine
// (package ldp) to the sockets (package transport) and to real time. It owns
// the hello socket, the session listener, every session connection and the
// goroutines that read them, and is the only caller of the engine, from one
// goroutine, so the engine needs no locks.
//
// Liveness never waits behind work. Events come in on two lanes: hellos,
// the arrival of bytes on a session (ldp.ConnAlive), new connections and
// the bytes of sessions not yet OPERATIONAL (their set-up: Initialization,
// KeepAlive), and operators' calls on the liveness lane, which is always
// emptied first; everything else (label traffic, routes, configuration) on
// the work lane, cut into pieces of bounded cost (a read of at most
// readChunk bytes, at most routeChunk routes; the engine's own work, a
// closed session's labels, a piece per ldp.Continue while Engine.Pending).
// A hello or KeepAlive therefore waits for at most one piece of work, never
// for a backlog, and is judged by when it arrived, and a session forms while 50,000 routes
// are being worked through. A hello that repeats the one its adjacency
// accepted last (an OPERATIONAL session's, at rest nearly all of them) does
// not even take the lane: the reader counts it with its arrival time, and
// the counts reach the engine before the next event (repeats.go). The
// forwarding state is produced when the lanes run dry (at most every publishGap) and at least every publishEvery
// while they do not, so that a burst of label messages costs one table
// copy per publication, not one per read; the view operators read, when
// asked (WantView), or at most every viewEvery when neighbours, sessions or
// labels changed (never for hellos and KeepAlives alone).
//
// It never decides anything about LDP (the engine does) and never writes the
// kernel: the desired forwarding state leaves through the OnFIB callback.
package speaker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsrd/lsrd/ldp"
	"github.com/lsrd/lsrd/ldp/fec"
	"github.com/lsrd/lsrd/ldp/transport"
)

// Sockets are the network ends a speaker runs on, opened by the caller in the
// network namespace the speaker serves.
type Sockets struct {
	Hello    *transport.HelloSocket
	Listener *net.TCPListener
	// Hello6 and Listener6 are LDP over IPv6's (RFC 7552); nil when the
	// engine does not run IPv6.
	Hello6    *transport.Hello6Socket
	Listener6 *net.TCPListener
	// Dial opens a session connection; nil means transport.DialSession. Tests
	// that run a speaker for a lab router dial from the router's namespace.
	Dial func(ctx context.Context, local, remote netip.Addr, opt transport.SessionOptions) (*net.TCPConn, error)
}

// Options are a speaker's hooks; all may be nil.
type Options struct {
	Log     *slog.Logger
	OnFIB   func(ldp.FIBChanged)   // the desired LFIB/FTN changed: a Delta (the speaker batches)
	OnState func(ldp.SessionState) // a session changed state
	// OnRecovered hears that lsrd's own graceful restart is over for LDP
	// (ldp.LDPRecovered, once after ldp.ForwardingPreserved): the moment
	// the kernel layer may sweep what the previous run left and LDP did
	// not refresh. It runs on the speaker's goroutine and must not block.
	OnRecovered func(ldp.LDPRecovered)
	// Publish runs on the speaker's goroutine to take the snapshot that
	// operators and metrics read without waiting for the engine: when a
	// reader asked for it (WantView), else at most every viewEvery while
	// neighbours, adjacencies, sessions or labels change (a hello or a
	// KeepAlive alone moves counters: readers that ask see them). Taking
	// it costs a copy of every neighbour and counter; a router with 40
	// neighbours took it for every hello and spent a sixth of its CPU on
	// that, then once a second at rest and a fifth of its CPU again.
	Publish func()
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

const (
	// readChunk bounds the bytes of one ConnData: a few hundred label
	// messages, a few milliseconds of engine work.
	readChunk = 16 << 10
	// routeChunk bounds the routes of one RoutesChanged handed to the
	// engine.
	routeChunk = 512
	// publishEvery bounds how stale the forwarding state and the published
	// view get while the speaker is busy.
	publishEvery = 200 * time.Millisecond
	// publishGap spaces publications when the lanes run dry often (a
	// hello at a time from many neighbours): the view and the forwarding
	// state lag by that much at most, and a router with 60 neighbours
	// does not copy its view for every hello.
	publishGap = 100 * time.Millisecond
	// aliveEvery spaces the ConnAlive events of one connection.
	aliveEvery = time.Second
	// viewEvery bounds how stale the published view gets when nobody
	// asks for a fresh one (WantView).
	viewEvery = time.Second
)

// sendQueueLimit bounds what may wait to be written to one peer: far more
// than a full label advertisement of a large table needs.
const sendQueueLimit = 64 << 20

// Speaker is a running LDP instance.
type Speaker struct {
	eng    *ldp.Engine
	socks  Sockets
	opt    Options
	log    *slog.Logger
	live   chan any // liveness lane: hellos, ConnAlive, calls
	events chan any // work lane
	conns  map[ldp.ConnID]*transport.Conn
	// opening marks the connections whose session is not OPERATIONAL
	// yet: their reader hands their bytes (a few small PDUs: Init,
	// KeepAlive) to the liveness lane, so that a session's set-up never
	// waits behind route work (the peer would give up after its
	// initialization time).
	opening map[ldp.ConnID]*atomic.Bool
	ifaces  map[string]ldp.InterfaceUp
	// md5 are the TCP-MD5 keys installed on the listener, by peer
	// transport address (ldp.SetAuth).
	md5    map[netip.Addr]string
	nextID ldp.ConnID
	wg     sync.WaitGroup // every goroutine the speaker started

	dirty         bool      // label work handled since the last publication
	lastPublished time.Time // of the forwarding state
	viewStale     bool      // events handled since the last view: a reader that asks gets a new one
	// viewDue says the view must follow even when nobody asks (at most
	// every viewEvery): neighbours, adjacencies, sessions or labels
	// changed (ldp.Engine.Shape, FIBPending), not just counters and
	// timers. A router at rest with 40 neighbours took it every second
	// for their hellos: a fifth of its CPU.
	viewDue   bool
	shapeSeen uint64
	lastView  time.Time
	// wantView wakes the loop for a reader that asked for a fresh view;
	// viewMu guards viewDone, closed when that view is taken.
	wantView chan struct{}
	viewMu   sync.Mutex
	viewDone chan struct{}

	helloErrs      int       // hellos not sent since the last warning
	helloErrLogged time.Time // when the last warning was

	// Discovery's fast path (repeats.go): the reader's table, rebuilt when
	// the engine's RepeatsGen moves; what it counted and not yet handed
	// to the engine is pending.
	repeats        atomic.Pointer[repeatTable]
	repeatsGen     uint64
	repeatsBuilt   bool
	repeatsPending atomic.Bool
	repeatCount    atomic.Uint64
	retired        []*repeatSlot
}

func (s *Speaker) spawn(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// New returns a speaker for the engine, ready to Run.
func New(eng *ldp.Engine, socks Sockets, opt Options) *Speaker {
	if socks.Dial == nil {
		socks.Dial = transport.DialSession
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	log := opt.Log
	if log == nil {
		log = slog.Default()
	}
	return &Speaker{
		eng: eng, socks: socks, opt: opt, log: log,
		live:     make(chan any, 4096),
		events:   make(chan any, 1024),
		wantView: make(chan struct{}, 1),
		conns:    map[ldp.ConnID]*transport.Conn{},
		opening:  map[ldp.ConnID]*atomic.Bool{},
		ifaces:   map[string]ldp.InterfaceUp{},
		md5:      map[netip.Addr]string{},
	}
}

// WantView asks for a fresh view (Options.Publish) at the speaker's next
// turn, served with the liveness lane, and returns a channel closed once
// the view is current. A reader waits on it briefly, then reads the view.
func (s *Speaker) WantView() <-chan struct{} {
	s.viewMu.Lock()
	if s.viewDone == nil {
		s.viewDone = make(chan struct{})
	}
	ch := s.viewDone
	s.viewMu.Unlock()
	select {
	case s.wantView <- struct{}{}:
	default: // one wake-up pending is enough
	}
	return ch
}

// Post hands the engine an event from outside: interfaces, routes,
// configuration, operator commands. It blocks while the speaker is busy and
// gives up when ctx ends.
func (s *Speaker) Post(ctx context.Context, ev ldp.Event) error {
	select {
	case s.events <- ev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// internal events from the speaker's own goroutines
type (
	accepted struct{ conn *net.TCPConn }
	dialled  struct {
		id   ldp.ConnID
		conn *net.TCPConn
		err  error
	}
	helloIn struct{ h transport.Hello }
	alive   struct{ id ldp.ConnID }
)

// Call runs f on the speaker's goroutine, where it may read the engine and
// the LIB safely, and waits for it: how operators' queries see a consistent
// state. Calls go on the liveness lane: they wait for at most one piece of
// work, never for a backlog.
func (s *Speaker) Call(ctx context.Context, f func()) error {
	c := call{f: f, done: make(chan struct{})}
	select {
	case s.live <- c:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type call struct {
	f    func()
	done chan struct{}
}

// Run runs the speaker until ctx ends. It owns the sockets it was given: on
// return they are closed, with every session connection, and its goroutines
// have stopped.
func (s *Speaker) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	s.spawn(func() { s.readHellos(ctx, s.socks.Hello) })
	s.spawn(func() { s.accept(ctx, s.socks.Listener) })
	if s.socks.Hello6 != nil {
		s.spawn(func() { s.readHellos(ctx, s.socks.Hello6) })
	}
	if s.socks.Listener6 != nil {
		s.spawn(func() { s.accept(ctx, s.socks.Listener6) })
	}
	defer func() {
		cancel()
		s.socks.Hello.Close()
		s.socks.Listener.Close()
		if s.socks.Hello6 != nil {
			s.socks.Hello6.Close()
		}
		if s.socks.Listener6 != nil {
			s.socks.Listener6.Close()
		}
		for id, c := range s.conns {
			c.Close()
			delete(s.conns, id)
		}
		s.wg.Wait()
	}()

	s.eng.BatchFIB(true)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	pub := time.NewTimer(time.Hour) // a publication held back by publishGap
	defer pub.Stop()
	for {
		// The liveness lane first, always.
		select {
		case ev := <-s.live:
			s.dispatch(ctx, ev)
			continue
		case <-s.wantView:
			s.view(ctx, true)
			continue
		default:
		}
		if s.dirty {
			since := s.opt.Now().Sub(s.lastPublished)
			if since >= publishEvery || len(s.events) == 0 && since >= publishGap {
				s.publish(ctx)
			} else if len(s.events) == 0 {
				pub.Reset(publishGap - since)
			}
		}
		if !s.dirty && s.viewDue && len(s.events) == 0 {
			// The view held back by viewEvery, when nothing else comes.
			pub.Reset(max(viewEvery-s.opt.Now().Sub(s.lastView), 0))
		}
		if s.eng.Pending() {
			// Work the engine cut up itself (a closed session's labels),
			// a piece at a time, with the liveness lane, views and due
			// timers served between the pieces; the work lane waits.
			if ctx.Err() != nil {
				return nil
			}
			if d, ok := s.eng.NextDeadline(); ok && !d.After(s.opt.Now()) {
				s.handle(ctx, ldp.Tick{})
			}
			s.handle(ctx, ldp.Continue{})
			continue
		}
		if d, ok := s.eng.NextDeadline(); ok {
			timer.Reset(max(d.Sub(s.opt.Now()), 0))
		} else {
			timer.Reset(time.Hour)
		}
		select {
		case <-ctx.Done():
			return nil
		case ev := <-s.live:
			s.dispatch(ctx, ev)
		case <-s.wantView:
			s.view(ctx, true)
		case <-timer.C:
			s.handle(ctx, ldp.Tick{})
		case <-pub.C:
			// A publication is due: the forwarding state round the
			// loop, or the view.
			if !s.dirty {
				s.view(ctx, false)
			}
		case ev := <-s.events:
			// What reached the liveness lane before this event goes
			// first: a connection's bytes move from that lane to this
			// one once its session is up, and must stay in order.
			s.serveLive(ctx)
			s.dispatch(ctx, ev)
		}
	}
}

// publish hands on the forwarding state when it changed, and the view when
// it is due.
func (s *Speaker) publish(ctx context.Context) {
	s.flushFIB(ctx)
	s.view(ctx, false)
}

func (s *Speaker) flushFIB(ctx context.Context) {
	for _, a := range s.eng.FlushFIB() {
		s.do(ctx, a)
	}
	s.dirty = false
	s.lastPublished = s.opt.Now()
}

// view lets the owner take its snapshot when it is stale and either asked
// for, or due and viewEvery old (the forwarding state is handed on first:
// the view shows nothing the parent has not got), and tells the readers
// waiting once it is current.
func (s *Speaker) view(ctx context.Context, asked bool) {
	if asked && s.repeatsPending.Load() {
		s.viewStale = true // hellos counted by the reader since
	}
	if s.viewStale && (asked || s.viewDue && s.opt.Now().Sub(s.lastView) >= viewEvery) {
		if s.dirty {
			s.flushFIB(ctx)
		}
		if s.opt.Publish != nil {
			s.flushRepeats(ctx)
			s.opt.Publish()
		}
		s.viewStale, s.viewDue = false, false
		s.lastView = s.opt.Now()
	}
	if !s.viewStale {
		s.viewMu.Lock()
		if s.viewDone != nil {
			close(s.viewDone)
			s.viewDone = nil
		}
		s.viewMu.Unlock()
	}
}

// dispatch carries out one event of either lane.
func (s *Speaker) dispatch(ctx context.Context, ev any) {
	switch ev := ev.(type) {
	case accepted:
		s.nextID++
		id := s.nextID
		remote := ev.conn.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
		authenticated := false
		if key := s.md5[remote]; key != "" {
			// The listener had the key, so the kernel checked the
			// SYN; the key on the connection itself covers one that
			// was accepted just before the key was installed.
			if err := transport.SetSessionOptions(ev.conn, transport.SessionOptions{MD5Key: key}); err != nil {
				s.log.Error("ldp: TCP-MD5 key not applied to an accepted connection", "remote", remote, "err", err)
			} else {
				authenticated = true
			}
		}
		c := s.open(ctx, id, ev.conn)
		s.handle(ctx, ldp.ConnAccepted{Conn: id, Local: c.LocalAddr(), Remote: c.RemoteAddr(), Authenticated: authenticated})
	case dialled:
		if ev.err != nil {
			s.handle(ctx, ldp.ConnFailed{Conn: ev.id, Err: ev.err})
			return
		}
		s.open(ctx, ev.id, ev.conn)
		s.handle(ctx, ldp.ConnEstablished{Conn: ev.id})
	case helloIn:
		s.hello(ctx, ev.h)
	case alive:
		s.handle(ctx, ldp.ConnAlive{Conn: ev.id})
	case call:
		s.flushRepeats(ctx) // the counters read are current
		ev.f()
		close(ev.done)
	case ldp.InterfaceUp:
		s.ifaces[ev.Name] = ev
		s.handle(ctx, ev)
	case ldp.InterfaceDown:
		delete(s.ifaces, ev.Name)
		s.handle(ctx, ev)
	case ldp.RoutesChanged:
		// In pieces, with the liveness lane served between them.
		for len(ev.Deletes) > 0 {
			n := min(len(ev.Deletes), routeChunk)
			s.handle(ctx, ldp.RoutesChanged{Deletes: ev.Deletes[:n]})
			ev.Deletes = ev.Deletes[n:]
			s.serveLive(ctx)
		}
		for len(ev.Updates) > 0 {
			n := min(len(ev.Updates), routeChunk)
			s.handle(ctx, ldp.RoutesChanged{Updates: ev.Updates[:n]})
			ev.Updates = ev.Updates[n:]
			s.serveLive(ctx)
		}
	case ldp.Event:
		s.handle(ctx, ev)
	}
}

// open starts reading a new session connection, its bytes on the liveness
// lane until the session is OPERATIONAL.
func (s *Speaker) open(ctx context.Context, id ldp.ConnID, tc *net.TCPConn) *transport.Conn {
	c := transport.NewConn(tc, sendQueueLimit)
	s.conns[id] = c
	opening := &atomic.Bool{}
	opening.Store(true)
	s.opening[id] = opening
	s.spawn(func() { s.read(ctx, id, c, opening) })
	return c
}

// serveLive empties the liveness lane between the pieces of one large
// event.
func (s *Speaker) serveLive(ctx context.Context) {
	for {
		select {
		case ev := <-s.live:
			s.dispatch(ctx, ev)
		default:
			return
		}
	}
}

func (s *Speaker) hello(ctx context.Context, h transport.Hello) {
	ev := ldp.HelloReceived{Src: h.Src, Dst: h.Dst, Data: h.Data, TTL: h.TTL,
		Targeted: h.Targeted()}
	if !ev.Targeted {
		for name, ifc := range s.ifaces {
			if ifc.Index == h.Ifindex {
				ev.Ifname = name
			}
		}
		if ev.Ifname == "" {
			return // a basic hello on an interface LDP does not know
		}
	}
	s.handle(ctx, ev)
}

// handle passes one event to the engine and carries out its actions.
func (s *Speaker) handle(ctx context.Context, ev ldp.Event) {
	s.viewStale = true
	s.flushRepeats(ctx)
	for _, a := range s.eng.Handle(s.opt.Now(), ev) {
		s.do(ctx, a)
	}
	s.syncRepeats()
	// A hello or a KeepAlive leaves nothing to publish: no wake-up
	// publishGap later for it (a router on a 40-router segment hears
	// eight hellos a second), and no view unless a reader asks.
	pending := s.eng.FIBPending()
	s.dirty = s.dirty || pending
	if shape := s.eng.Shape(); pending || shape != s.shapeSeen {
		s.viewDue, s.shapeSeen = true, shape
	}
}

func (s *Speaker) do(ctx context.Context, a ldp.Action) {
	switch a := a.(type) {
	case ldp.JoinMulticast:
		if ifc, ok := s.ifaces[a.Ifname]; ok {
			if err := s.helloSocket(a.Family == fec.IPv6).Join(ifc.Index); err != nil {
				s.log.Warn("ldp: cannot join the hello group", "interface", a.Ifname, "family", a.Family, "err", err)
			}
		}
	case ldp.LeaveMulticast:
		if ifc, ok := s.ifaces[a.Ifname]; ok {
			if err := s.helloSocket(a.Family == fec.IPv6).Leave(ifc.Index); err != nil {
				s.log.Debug("ldp: leaving the hello group", "interface", a.Ifname, "family", a.Family, "err", err)
			}
		}
	case ldp.SendHello:
		var err error
		hs := s.helloSocket(a.Dst.Addr().Is6())
		if a.Ifname != "" {
			if ifc, ok := s.ifaces[a.Ifname]; ok {
				err = hs.SendMulticast(ifc.Index, firstOf(ifc.Addrs, a.Dst.Addr().Is6()), a.Data)
			} else {
				err = fmt.Errorf("interface %s unknown to the speaker", a.Ifname)
			}
		} else {
			err = hs.SendUnicast(a.Dst, a.Src, a.Data)
		}
		if err != nil {
			// A hello lost now and then is harmless; hellos that keep
			// failing expire every adjacency, so say so, once in a while.
			s.helloErrs++
			if now := s.opt.Now(); now.Sub(s.helloErrLogged) >= 10*time.Second {
				s.log.Warn("ldp: hello not sent", "interface", a.Ifname, "to", a.Dst, "err", err, "failed-since-last-report", s.helloErrs)
				s.helloErrLogged, s.helloErrs = now, 0
			}
		}
	case ldp.Dial:
		s.spawn(func() {
			dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			defer cancel()
			c, err := s.socks.Dial(dctx, a.Local.Addr(), a.Remote.Addr(), transport.SessionOptions{MD5Key: a.AuthKey, MinTTL: a.MinTTL})
			select {
			case s.live <- dialled{id: a.Conn, conn: c, err: err}:
			case <-ctx.Done():
				if c != nil {
					c.Close()
				}
			}
		})
	case ldp.Protect:
		if c, ok := s.conns[a.Conn]; ok {
			if err := c.SetMinTTL(a.MinTTL); err != nil {
				s.log.Warn("ldp: GTSM not applied to a session", "remote", c.RemoteAddr(), "err", err)
			}
		}
	case ldp.SetAuth:
		l := s.socks.Listener
		if a.Peer.Is6() && s.socks.Listener6 != nil {
			l = s.socks.Listener6
		}
		if err := transport.SetMD5(l, a.Peer, a.Key); err != nil {
			// Without the key the neighbour's signed SYNs are
			// dropped: its session cannot form, and this says why.
			s.log.Error("ldp: TCP-MD5 key not installed on the session listener", "remote", a.Peer, "err", err)
			delete(s.md5, a.Peer)
			return
		}
		if a.Key == "" {
			delete(s.md5, a.Peer)
		} else {
			s.md5[a.Peer] = a.Key
		}
	case ldp.Send:
		c, ok := s.conns[a.Conn]
		if !ok {
			return
		}
		if err := c.Send(a.Data); err != nil {
			s.log.Warn("ldp: session send failed", "conn", a.Conn, "remote", c.RemoteAddr(), "err", err)
			c.Close()
		}
	case ldp.Close:
		if c, ok := s.conns[a.Conn]; ok {
			c.CloseWhenSent(5 * time.Second)
			delete(s.conns, a.Conn)
		}
		delete(s.opening, a.Conn)
	case ldp.FIBChanged:
		if s.opt.OnFIB != nil {
			s.opt.OnFIB(a)
		}
	case ldp.SessionState:
		if o := s.opening[a.Conn]; o != nil && a.To == ldp.Operational {
			o.Store(false) // label work from now on: the work lane
			delete(s.opening, a.Conn)
		}
		// The engine logs the events that matter at info ("ldp session
		// operational", "ldp session closed" with the state it left).
		s.log.Debug("ldp: session state", "lsr-id", a.LSRID, "from", a.From, "to", a.To)
		if s.opt.OnState != nil {
			s.opt.OnState(a)
		}
	case ldp.LDPRecovered:
		if s.opt.OnRecovered != nil {
			s.opt.OnRecovered(a)
		}
	default:
		s.log.Error("ldp: unknown engine action", "action", fmt.Sprintf("%T", a))
	}
}

// helloConn is the hello socket of one family.
type helloConn interface {
	Join(ifindex int) error
	Leave(ifindex int) error
	SendMulticast(ifindex int, src netip.Addr, data []byte) error
	SendUnicast(dst netip.AddrPort, src netip.Addr, data []byte) error
	Read(buf []byte) (transport.Hello, error)
}

// noIPv6 stands for the IPv6 hello socket of a speaker that has none.
type noIPv6 struct{}

var errNoIPv6 = errors.New("no IPv6 hello socket: LDP over IPv6 is not set up")

func (noIPv6) Join(int) error                                       { return errNoIPv6 }
func (noIPv6) Leave(int) error                                      { return errNoIPv6 }
func (noIPv6) SendMulticast(int, netip.Addr, []byte) error          { return errNoIPv6 }
func (noIPv6) SendUnicast(netip.AddrPort, netip.Addr, []byte) error { return errNoIPv6 }
func (noIPv6) Read([]byte) (transport.Hello, error)                 { return transport.Hello{}, errNoIPv6 }

func (s *Speaker) helloSocket(v6 bool) helloConn {
	switch {
	case !v6:
		return s.socks.Hello
	case s.socks.Hello6 != nil:
		return s.socks.Hello6
	}
	return noIPv6{}
}

// firstOf returns the first address of ps of the family asked.
func firstOf(ps []netip.Prefix, v6 bool) netip.Addr {
	for _, p := range ps {
		if p.Addr().Is6() == v6 {
			return p.Addr()
		}
	}
	return netip.Addr{}
}

func (s *Speaker) readHellos(ctx context.Context, hs helloConn) {
	buf := make([]byte, 1<<16)
	for {
		h, err := hs.Read(buf)
		if err != nil {
			if ctx.Err() != nil || transport.IsClosed(err) {
				return
			}
			s.log.Warn("ldp: hello socket read", "err", err)
			continue
		}
		if s.repeated(h) {
			continue
		}
		h.Data = append([]byte(nil), h.Data...)
		select {
		case s.live <- helloIn{h}:
		case <-ctx.Done():
			return
		}
	}
}

func (s *Speaker) accept(ctx context.Context, l *net.TCPListener) {
	for {
		c, err := l.AcceptTCP()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("ldp: session listener", "err", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		select {
		case s.live <- accepted{c}:
		case <-ctx.Done():
			c.Close()
			return
		}
	}
}

func (s *Speaker) read(ctx context.Context, id ldp.ConnID, c *transport.Conn, opening *atomic.Bool) {
	buf := make([]byte, readChunk)
	var lastAlive time.Time
	lane := func() chan any {
		if opening.Load() {
			return s.live
		}
		return s.events
	}
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if now := time.Now(); now.Sub(lastAlive) >= aliveEvery {
				// Ahead of the data: the peer is talking, whatever
				// waits in the work lane.
				select {
				case s.live <- alive{id}:
					lastAlive = now
				default:
				}
			}
			select {
			case lane() <- ldp.ConnData{Conn: id, Data: append([]byte(nil), buf[:n]...)}:
			case <-ctx.Done():
				return
			}
		}
		if err != nil {
			select {
			case lane() <- ldp.ConnClosed{Conn: id, Err: err}:
			case <-ctx.Done():
			}
			return
		}
	}
}
