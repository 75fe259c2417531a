package hostile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/lsrd/lsrd/ldp/transport"
	"github.com/lsrd/lsrd/ldp/wire"
)

// PeerConfig is a real LDP neighbour on one link that, once its session is
// OPERATIONAL, advertises Mappings label mappings for prefix FECs
// (FirstPrefix, then the prefixes of the same length after it) as fast as
// the socket takes them, then keeps the session alive until closed.
type PeerConfig struct {
	LSRID         netip.Addr
	Ifname        string     // the link to the router, in the tool's namespace
	Addr          netip.Addr // our address on Ifname, also our transport address
	HelloInterval time.Duration
	HelloHold     uint16 // seconds
	KeepAlive     uint16 // seconds, proposed in Initialization
	FirstPrefix   netip.Prefix
	Mappings      int
	// FirstLabel is the label of the first mapping; each next mapping
	// takes the next label.
	FirstLabel uint32
}

// errClosed is why a session ended by Close ended.
var errClosed = errors.New("closed by the tool")

// Peer is a running misbehaving (but protocol-abiding) LDP neighbour.
type Peer struct {
	cfg    PeerConfig
	cancel context.CancelFunc
	wg     sync.WaitGroup
	hello  *transport.HelloSocket
	lis    *net.TCPListener
	in     Netns

	mu          sync.Mutex
	stats       PeerStats
	router      wire.LDPID // learned from the router's hellos
	routerAddr  netip.Addr // its transport address
	conn        *net.TCPConn
	operational chan struct{}
	sent        chan struct{}
	ended       chan struct{}
}

// PeerStats is what the peer did and saw.
type PeerStats struct {
	Router        netip.Addr    // the router's LSR ID
	Active        bool          // we opened the TCP connection
	Attempts      int           // session attempts that failed before OPERATIONAL
	Operational   time.Duration // from start to OPERATIONAL; 0 if never
	MappingsSent  int           // mappings written to the socket
	SendTime      time.Duration // from OPERATIONAL to the last mapping written
	KeepAlivesIn  int
	KeepAlivesOut int
	Releases      int // Label Releases the router sent
	MessagesIn    int
	Notifications []string // statuses the router sent
	// Ended is why the session ended, nil while it lives.
	Ended error
}

// StartPeer starts the peer in the namespace in: it sends link hellos on
// Ifname, waits for the router's, and opens (or accepts, when the router
// has the higher transport address) the session.
func StartPeer(ctx context.Context, in Netns, cfg PeerConfig) (*Peer, error) {
	if err := inLab(); err != nil {
		return nil, err
	}
	if cfg.HelloInterval <= 0 || cfg.HelloHold == 0 || cfg.KeepAlive == 0 {
		return nil, fmt.Errorf("hostile: peer %s: hello interval, hello hold and keepalive must be set", cfg.LSRID)
	}
	if cfg.FirstLabel < 16 || uint64(cfg.FirstLabel)+uint64(cfg.Mappings) > 1<<20 {
		return nil, fmt.Errorf("hostile: peer %s: labels %d..%d outside 16..%d", cfg.LSRID, cfg.FirstLabel, uint64(cfg.FirstLabel)+uint64(cfg.Mappings)-1, 1<<20-1)
	}
	if !cfg.FirstPrefix.Addr().Is4() {
		return nil, fmt.Errorf("hostile: peer %s: first prefix %v is not IPv4", cfg.LSRID, cfg.FirstPrefix)
	}
	p := &Peer{cfg: cfg, in: in, operational: make(chan struct{}), sent: make(chan struct{}), ended: make(chan struct{})}
	var ifindex int
	err := in(func() error {
		ifi, err := net.InterfaceByName(cfg.Ifname)
		if err != nil {
			return err
		}
		ifindex = ifi.Index
		if p.hello, err = transport.ListenHello(context.Background()); err != nil {
			return err
		}
		if err = p.hello.Join(ifindex); err == nil {
			p.lis, err = transport.ListenSessions(context.Background(), cfg.Addr)
		}
		if err != nil {
			p.hello.Close()
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("hostile: peer %s on %s: %w", cfg.LSRID, cfg.Ifname, err)
	}
	ctx, p.cancel = context.WithCancel(ctx)
	start := time.Now()
	found := make(chan struct{})
	p.spawn(func() { p.sendHellos(ctx, ifindex) })
	p.spawn(func() { p.readHellos(ifindex, found) })
	p.spawn(func() {
		var err error
		for {
			var up bool
			up, err = p.session(ctx, found, start)
			if up || ctx.Err() != nil {
				break
			}
			// Section 2.5.3: an attempt that failed before OPERATIONAL
			// (the router rejects a connection that beat our first hello
			// to it) is retried, here after a hello interval.
			p.mu.Lock()
			p.stats.Attempts++
			p.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(p.cfg.HelloInterval):
			}
		}
		if ctx.Err() != nil || err == nil {
			err = errClosed
		}
		p.mu.Lock()
		p.stats.Ended = err
		p.mu.Unlock()
		close(p.ended)
	})
	return p, nil
}

func (p *Peer) spawn(f func()) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		f()
	}()
}

// Stats returns what the peer did so far.
func (p *Peer) Stats() PeerStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Notifications = append([]string(nil), s.Notifications...)
	return s
}

// WaitOperational waits for the session to reach OPERATIONAL.
func (p *Peer) WaitOperational(ctx context.Context) error {
	return p.wait(ctx, p.operational, "OPERATIONAL")
}

// WaitSent waits for every mapping to be written.
func (p *Peer) WaitSent(ctx context.Context) error { return p.wait(ctx, p.sent, "every mapping sent") }

func (p *Peer) wait(ctx context.Context, c chan struct{}, what string) error {
	select {
	case <-c:
		return nil
	case <-p.ended:
		return fmt.Errorf("hostile: peer %s: session ended before %s: %v", p.cfg.LSRID, what, p.Stats().Ended)
	case <-ctx.Done():
		return fmt.Errorf("hostile: peer %s: %s: %w", p.cfg.LSRID, what, ctx.Err())
	}
}

// Close ends the session (the router sees the connection close), stops
// the hellos and waits for every goroutine; it returns the final stats.
func (p *Peer) Close() PeerStats {
	p.cancel()
	p.hello.Close()
	p.lis.Close()
	p.mu.Lock()
	if p.conn != nil {
		p.conn.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return p.Stats()
}

func (p *Peer) helloPDU(id uint32) ([]byte, error) {
	return (&wire.PDU{ID: wire.LDPID{LSRID: p.cfg.LSRID}, Messages: []wire.Message{&wire.Hello{
		MsgID: id, Params: wire.CommonHelloParams{HoldTime: p.cfg.HelloHold}, TransportAddr: p.cfg.Addr,
	}}}).MarshalBinary()
}

// sendHellos keeps our link adjacency alive for as long as the peer runs.
func (p *Peer) sendHellos(ctx context.Context, ifindex int) {
	t := time.NewTicker(p.cfg.HelloInterval)
	defer t.Stop()
	for id := uint32(1); ; id++ {
		if b, err := p.helloPDU(id); err == nil {
			p.hello.SendMulticast(ifindex, p.cfg.Addr, b)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// readHellos learns the router's LDP Identifier and transport address from
// its first link hello on our interface.
func (p *Peer) readHellos(ifindex int, found chan struct{}) {
	buf := make([]byte, 1<<16)
	for {
		h, err := p.hello.Read(buf)
		if err != nil {
			if transport.IsClosed(err) {
				return
			}
			continue
		}
		if h.Ifindex != ifindex || h.Dst != transport.AllRouters {
			continue
		}
		pdu, _ := wire.DecodePDU(h.Data)
		if pdu == nil || pdu.ID.LSRID == p.cfg.LSRID {
			continue
		}
		for _, m := range pdu.Messages {
			hm, ok := m.(*wire.Hello)
			if !ok {
				continue
			}
			addr := hm.TransportAddr
			if !addr.IsValid() {
				addr = h.Src.Addr()
			}
			p.mu.Lock()
			first := !p.router.LSRID.IsValid()
			if first {
				p.router, p.routerAddr = pdu.ID, addr
				p.stats.Router = pdu.ID.LSRID
			}
			p.mu.Unlock()
			if first {
				close(found)
			}
		}
	}
}

// session opens the session, advertises the mappings and keeps the session
// alive until ctx ends or the router ends it. It reports whether the session
// reached OPERATIONAL.
func (p *Peer) session(ctx context.Context, found chan struct{}, start time.Time) (bool, error) {
	select {
	case <-found:
	case <-ctx.Done():
		return false, nil
	}
	p.mu.Lock()
	router, raddr := p.router, p.routerAddr
	p.mu.Unlock()
	// RFC 5036 section 2.5.2: the higher transport address opens.
	active := p.cfg.Addr.Compare(raddr) > 0
	var conn *net.TCPConn
	var err error
	if active {
		err = p.in(func() error {
			dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			conn, err = transport.DialSession(dctx, p.cfg.Addr, raddr, transport.SessionOptions{})
			return err
		})
	} else {
		conn, err = p.lis.AcceptTCP()
	}
	if err != nil {
		return false, fmt.Errorf("session connection with %s: %w", raddr, err)
	}
	p.mu.Lock()
	p.conn = conn
	p.stats.Active = active
	p.mu.Unlock()
	if ctx.Err() != nil {
		conn.Close()
		return false, nil
	}
	defer conn.Close()

	s := &peerSession{p: p, conn: conn, id: wire.LDPID{LSRID: p.cfg.LSRID}, maxPDU: wire.DefaultMaxPDULen,
		initIn: make(chan *wire.Initialization, 1), kaIn: make(chan struct{}, 1)}
	readDone := make(chan error, 1)
	p.spawn(func() { readDone <- s.read() })
	fail := func(err error) error {
		conn.Close()
		<-readDone
		return err
	}

	initMsg := &wire.Initialization{Session: wire.CommonSessionParams{ProtocolVersion: wire.Version,
		KeepAliveTime: p.cfg.KeepAlive, MaxPDULength: wire.DefaultMaxPDULen, ReceiverID: router}}
	// The active side sends Initialization first; the passive side answers
	// the router's with its own and a KeepAlive (section 2.5.3).
	if active {
		if err := s.send(initMsg); err != nil {
			return false, fail(err)
		}
	}
	var theirs *wire.Initialization
	select {
	case theirs = <-s.initIn:
	case err := <-readDone:
		return false, fmt.Errorf("waiting for the router's Initialization: %w", err)
	case <-ctx.Done():
		return false, fail(nil)
	}
	if !active {
		if err := s.send(initMsg); err != nil {
			return false, fail(err)
		}
	}
	if err := s.send(&wire.KeepAlive{}); err != nil {
		return false, fail(err)
	}
	select {
	case <-s.kaIn:
	case err := <-readDone:
		return false, fmt.Errorf("waiting for the router's KeepAlive: %w", err)
	case <-ctx.Done():
		return false, fail(nil)
	}
	ka := time.Duration(min(p.cfg.KeepAlive, theirs.Session.KeepAliveTime)) * time.Second
	if m := int(theirs.Session.MaxPDULength); m > 255 && m < s.maxPDU {
		s.maxPDU = m
	}
	opAt := time.Now()
	p.mu.Lock()
	p.stats.Operational = opAt.Sub(start)
	p.mu.Unlock()
	close(p.operational)

	if err := s.send(&wire.Address{Addresses: wire.AddressList{Family: wire.AFIPv4, Addrs: []netip.Addr{p.cfg.Addr}}}); err != nil {
		return true, fail(err)
	}
	werr := make(chan error, 1)
	p.spawn(func() { werr <- s.advertise(ctx, ka, opAt) })
	select {
	case err := <-readDone:
		conn.Close()
		<-werr
		return true, err
	case err := <-werr:
		return true, fail(err)
	}
}

// peerSession is the peer's side of an established connection.
type peerSession struct {
	p      *Peer
	conn   *net.TCPConn
	id     wire.LDPID
	maxPDU int
	msgID  uint32
	initIn chan *wire.Initialization
	kaIn   chan struct{}

	wmu sync.Mutex // writes: the advertisement and KeepAlives interleave
}

func (s *peerSession) send(msgs ...wire.Message) error {
	for _, m := range msgs {
		s.msgID++
		m.SetMessageID(s.msgID)
	}
	b, err := (&wire.PDU{ID: s.id, Messages: msgs}).MarshalBinary()
	if err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if _, err := s.conn.Write(b); err != nil {
		return fmt.Errorf("writing to the router: %w", err)
	}
	for _, m := range msgs {
		if m.Type() == wire.MsgKeepAlive {
			s.p.mu.Lock()
			s.p.stats.KeepAlivesOut++
			s.p.mu.Unlock()
		}
	}
	return nil
}

// read reads the router's PDUs until the connection ends, and reports why.
func (s *peerSession) read() error {
	for {
		b, err := wire.ReadPDU(s.conn, 0)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("the router closed the connection")
			}
			return err
		}
		pdu, _ := wire.DecodePDU(b)
		if pdu == nil {
			continue
		}
		for _, m := range pdu.Messages {
			s.p.mu.Lock()
			s.p.stats.MessagesIn++
			switch m := m.(type) {
			case *wire.KeepAlive:
				s.p.stats.KeepAlivesIn++
			case *wire.LabelRelease:
				s.p.stats.Releases++
			case *wire.Notification:
				s.p.stats.Notifications = append(s.p.stats.Notifications, m.Status.Code.String())
			}
			s.p.mu.Unlock()
			switch m := m.(type) {
			case *wire.Initialization:
				select {
				case s.initIn <- m:
				default:
				}
			case *wire.KeepAlive:
				select {
				case s.kaIn <- struct{}{}:
				default:
				}
			}
		}
	}
}

// advertise writes the mappings as fast as the socket takes them, each PDU
// as full as the negotiated Max PDU Length allows, with a KeepAlive
// whenever one is due; then only KeepAlives, until ctx ends.
func (s *peerSession) advertise(ctx context.Context, ka time.Duration, opAt time.Time) error {
	cfg := s.p.cfg
	nextKA := time.Now().Add(ka / 3)
	keepAlive := func() error {
		if time.Now().Before(nextKA) {
			return nil
		}
		nextKA = time.Now().Add(ka / 3)
		return s.send(&wire.KeepAlive{})
	}
	bits := cfg.FirstPrefix.Bits()
	step := uint32(1) << (32 - bits)
	if bits == 0 {
		step = 0
	}
	base := cfg.FirstPrefix.Masked().Addr()
	var batch []wire.Message
	size := wire.HeaderLen
	sent := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := s.send(batch...); err != nil {
			return err
		}
		sent += len(batch)
		s.p.mu.Lock()
		s.p.stats.MappingsSent = sent
		s.p.mu.Unlock()
		batch, size = nil, wire.HeaderLen
		return keepAlive()
	}
	for i := 0; i < cfg.Mappings; i++ {
		if ctx.Err() != nil {
			return nil
		}
		m := &wire.LabelMapping{
			FEC:   wire.FEC{wire.PrefixFEC{Prefix: netip.PrefixFrom(nextAddr(base, uint32(i)*step), bits)}},
			Label: cfg.FirstLabel + uint32(i),
		}
		n, err := wire.AppendMessage(nil, m)
		if err != nil {
			return err
		}
		if size+len(n) > s.maxPDU {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, m)
		size += len(n)
	}
	if err := flush(); err != nil {
		return err
	}
	s.p.mu.Lock()
	s.p.stats.SendTime = time.Since(opAt)
	s.p.mu.Unlock()
	close(s.p.sent)
	t := time.NewTicker(ka / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			nextKA = time.Time{}
			if err := keepAlive(); err != nil {
				return err
			}
		}
	}
}
