// Package speaker runs an LDP instance: it joins the deterministic engine
// (package ldp) to the sockets (package transport) and to real time. It owns
// the hello socket, the session listener, every session connection and the
// goroutines that read them, and is the only caller of the engine, from one
// goroutine, so the engine needs no locks.
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
	"time"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/ldp"
	"github.com/lsrd/lsrd/ldp/transport"
)

// Sockets are the network ends a speaker runs on, opened by the caller in the
// network namespace the speaker serves.
type Sockets struct {
	Hello    *transport.HelloSocket
	Listener *net.TCPListener
	// Dial opens a session connection; nil means transport.DialSession. Tests
	// that run a speaker for a lab router dial from the router's namespace.
	Dial func(ctx context.Context, local, remote netip.Addr) (*net.TCPConn, error)
}

// Options are a speaker's hooks; all may be nil.
type Options struct {
	Log     *slog.Logger
	OnFIB   func(*fib.Table)       // the desired LFIB/FTN changed
	OnState func(ldp.SessionState) // a session changed state
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// sendQueueLimit bounds what may wait to be written to one peer: far more
// than a full label advertisement of a large table needs.
const sendQueueLimit = 64 << 20

// Speaker is a running LDP instance.
type Speaker struct {
	eng    *ldp.Engine
	socks  Sockets
	opt    Options
	log    *slog.Logger
	events chan any
	conns  map[ldp.ConnID]*transport.Conn
	ifaces map[string]ldp.InterfaceUp
	nextID ldp.ConnID
	wg     sync.WaitGroup // every goroutine the speaker started
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
		events: make(chan any, 1024),
		conns:  map[ldp.ConnID]*transport.Conn{},
		ifaces: map[string]ldp.InterfaceUp{},
	}
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
)

// Call runs f on the speaker's goroutine, where it may read the engine and
// the LIB safely, and waits for it: how operators' queries see a consistent
// state.
func (s *Speaker) Call(ctx context.Context, f func()) error {
	c := call{f: f, done: make(chan struct{})}
	select {
	case s.events <- c:
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
	s.spawn(func() { s.readHellos(ctx) })
	s.spawn(func() { s.accept(ctx) })
	defer func() {
		cancel()
		s.socks.Hello.Close()
		s.socks.Listener.Close()
		for id, c := range s.conns {
			c.Close()
			delete(s.conns, id)
		}
		s.wg.Wait()
	}()

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if d, ok := s.eng.NextDeadline(); ok {
			timer.Reset(max(d.Sub(s.opt.Now()), 0))
		} else {
			timer.Reset(time.Hour)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
			s.handle(ctx, ldp.Tick{})
		case ev := <-s.events:
			switch ev := ev.(type) {
			case accepted:
				s.nextID++
				id := s.nextID
				c := transport.NewConn(ev.conn, sendQueueLimit)
				s.conns[id] = c
				s.spawn(func() { s.read(ctx, id, c) })
				s.handle(ctx, ldp.ConnAccepted{Conn: id, Local: c.LocalAddr(), Remote: c.RemoteAddr()})
			case dialled:
				if ev.err != nil {
					s.handle(ctx, ldp.ConnFailed{Conn: ev.id, Err: ev.err})
					continue
				}
				c := transport.NewConn(ev.conn, sendQueueLimit)
				s.conns[ev.id] = c
				id := ev.id
				s.spawn(func() { s.read(ctx, id, c) })
				s.handle(ctx, ldp.ConnEstablished{Conn: ev.id})
			case helloIn:
				s.hello(ctx, ev.h)
			case call:
				ev.f()
				close(ev.done)
			case ldp.InterfaceUp:
				s.ifaces[ev.Name] = ev
				s.handle(ctx, ev)
			case ldp.InterfaceDown:
				delete(s.ifaces, ev.Name)
				s.handle(ctx, ev)
			case ldp.Event:
				s.handle(ctx, ev)
			}
		}
	}
}

func (s *Speaker) hello(ctx context.Context, h transport.Hello) {
	ev := ldp.HelloReceived{Src: h.Src, Dst: h.Dst, Data: h.Data, Targeted: h.Dst != transport.AllRouters}
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
	for _, a := range s.eng.Handle(s.opt.Now(), ev) {
		s.do(ctx, a)
	}
}

func (s *Speaker) do(ctx context.Context, a ldp.Action) {
	switch a := a.(type) {
	case ldp.JoinMulticast:
		if ifc, ok := s.ifaces[a.Ifname]; ok {
			if err := s.socks.Hello.Join(ifc.Index); err != nil {
				s.log.Warn("ldp: cannot join the hello group", "interface", a.Ifname, "err", err)
			}
		}
	case ldp.LeaveMulticast:
		if ifc, ok := s.ifaces[a.Ifname]; ok {
			if err := s.socks.Hello.Leave(ifc.Index); err != nil {
				s.log.Debug("ldp: leaving the hello group", "interface", a.Ifname, "err", err)
			}
		}
	case ldp.SendHello:
		var err error
		if a.Ifname != "" {
			ifc, ok := s.ifaces[a.Ifname]
			if !ok {
				return
			}
			err = s.socks.Hello.SendMulticast(ifc.Index, firstV4(ifc.Addrs), a.Data)
		} else {
			err = s.socks.Hello.SendUnicast(a.Dst, a.Src, a.Data)
		}
		if err != nil {
			s.log.Debug("ldp: hello not sent", "interface", a.Ifname, "to", a.Dst, "err", err)
		}
	case ldp.Dial:
		s.spawn(func() {
			dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			defer cancel()
			c, err := s.socks.Dial(dctx, a.Local.Addr(), a.Remote.Addr())
			select {
			case s.events <- dialled{id: a.Conn, conn: c, err: err}:
			case <-ctx.Done():
				if c != nil {
					c.Close()
				}
			}
		})
	case ldp.Send:
		c, ok := s.conns[a.Conn]
		if !ok {
			return
		}
		if err := c.Send(a.Data); err != nil {
			s.log.Warn("ldp: session send failed", "conn", a.Conn, "peer", c.RemoteAddr(), "err", err)
			c.Close()
		}
	case ldp.Close:
		if c, ok := s.conns[a.Conn]; ok {
			c.CloseWhenSent(5 * time.Second)
			delete(s.conns, a.Conn)
		}
	case ldp.FIBChanged:
		if s.opt.OnFIB != nil {
			s.opt.OnFIB(a.Table)
		}
	case ldp.SessionState:
		s.log.Info("ldp: session state", "peer", a.LSRID, "from", a.From, "to", a.To)
		if s.opt.OnState != nil {
			s.opt.OnState(a)
		}
	default:
		s.log.Error("ldp: unknown engine action", "action", fmt.Sprintf("%T", a))
	}
}

func firstV4(ps []netip.Prefix) netip.Addr {
	for _, p := range ps {
		if p.Addr().Is4() {
			return p.Addr()
		}
	}
	return netip.Addr{}
}

func (s *Speaker) readHellos(ctx context.Context) {
	buf := make([]byte, 1<<16)
	for {
		h, err := s.socks.Hello.Read(buf)
		if err != nil {
			if ctx.Err() != nil || transport.IsClosed(err) {
				return
			}
			s.log.Warn("ldp: hello socket read", "err", err)
			continue
		}
		h.Data = append([]byte(nil), h.Data...)
		select {
		case s.events <- helloIn{h}:
		case <-ctx.Done():
			return
		}
	}
}

func (s *Speaker) accept(ctx context.Context) {
	for {
		c, err := s.socks.Listener.AcceptTCP()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("ldp: session listener", "err", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		select {
		case s.events <- accepted{c}:
		case <-ctx.Done():
			c.Close()
			return
		}
	}
}

func (s *Speaker) read(ctx context.Context, id ldp.ConnID, c *transport.Conn) {
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			select {
			case s.events <- ldp.ConnData{Conn: id, Data: append([]byte(nil), buf[:n]...)}:
			case <-ctx.Done():
				return
			}
		}
		if err != nil {
			select {
			case s.events <- ldp.ConnClosed{Conn: id, Err: err}:
			case <-ctx.Done():
			}
			return
		}
	}
}
