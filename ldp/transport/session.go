package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// ListenSessions opens the TCP listener for sessions on port 646 of addr (the
// LSR's transport address), or of every address when addr is invalid. The
// connections it accepts send with TTL 255 (GTSM, RFC 6720); TCP-MD5 keys
// are added per peer with SetMD5.
func ListenSessions(ctx context.Context, addr netip.Addr) (*net.TCPListener, error) {
	lc := net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
		if err := reuseAddr(network, address, c); err != nil {
			return err
		}
		var serr error
		if err := c.Control(func(fd uintptr) { serr = sendTTL255(int(fd)) }); err != nil {
			return err
		}
		return serr
	}}
	host, network := "0.0.0.0", "tcp4"
	if addr.IsValid() {
		host = addr.String()
	}
	if addr.Is6() {
		// An IPv6 listener, [::] for any IPv6 address: IPv6 only,
		// beside the IPv4 one.
		network = "tcp6"
	}
	l, err := lc.Listen(ctx, network, net.JoinHostPort(host, fmt.Sprint(Port)))
	if err != nil {
		return nil, fmt.Errorf("ldp session listener on %s:%d: %w", host, Port, err)
	}
	return l.(*net.TCPListener), nil
}

// DialSession opens a session connection from our transport address to the
// peer's, as the active side of RFC 5036 section 2.5.2, with opt's
// protections in place before the SYN leaves, and TTL 255.
func DialSession(ctx context.Context, local, remote netip.Addr, opt SessionOptions) (*net.TCPConn, error) {
	d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(local, 0)),
		Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) {
				if serr = sendTTL255(int(fd)); serr == nil {
					serr = applyOptions(int(fd), remote, opt)
				}
			}); err != nil {
				return err
			}
			return serr
		}}
	network := "tcp4"
	if remote.Is6() {
		network = "tcp6"
	}
	c, err := d.DialContext(ctx, network, netip.AddrPortFrom(remote, Port).String())
	if err != nil {
		return nil, fmt.Errorf("ldp session to %s from %s: %w", remote, local, err)
	}
	return c.(*net.TCPConn), nil
}

// ErrQueueFull is returned when a peer does not read fast enough for the
// bytes queued to it: the session is better closed than lsrd's memory spent.
var ErrQueueFull = errors.New("ldp session send queue full")

// Conn is a session connection whose writes never block the caller: bytes are
// queued and written by a goroutine of the Conn's own, in order.
type Conn struct {
	c        net.Conn
	mu       sync.Mutex
	queue    [][]byte
	queued   int // bytes in queue
	limit    int
	wake     chan struct{}
	closed   chan struct{}
	once     sync.Once
	werr     error
	draining bool
	writeWG  sync.WaitGroup
}

// NewConn wraps c; at most limit bytes may wait to be written.
func NewConn(c net.Conn, limit int) *Conn {
	k := &Conn{c: c, limit: limit, wake: make(chan struct{}, 1), closed: make(chan struct{})}
	k.writeWG.Add(1)
	go k.writer()
	return k
}

// Send queues data (one or more whole PDUs) for the peer.
func (k *Conn) Send(data []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.werr != nil {
		return k.werr
	}
	if k.queued+len(data) > k.limit {
		return ErrQueueFull
	}
	k.queue = append(k.queue, data)
	k.queued += len(data)
	select {
	case k.wake <- struct{}{}:
	default:
	}
	return nil
}

func (k *Conn) writer() {
	defer k.writeWG.Done()
	for {
		select {
		case <-k.closed:
			return
		case <-k.wake:
		}
		for {
			k.mu.Lock()
			if len(k.queue) == 0 {
				draining := k.draining
				k.mu.Unlock()
				if draining {
					k.shutdown()
					return
				}
				break
			}
			batch := k.queue
			k.queue = nil
			k.queued = 0
			k.mu.Unlock()
			bufs := net.Buffers(batch)
			if _, err := bufs.WriteTo(k.c); err != nil {
				k.mu.Lock()
				k.werr = err
				k.mu.Unlock()
				k.c.Close()
				return
			}
		}
	}
}

// Read reads from the connection; the caller frames PDUs.
func (k *Conn) Read(p []byte) (int, error) { return k.c.Read(p) }

// CloseWhenSent closes the connection once everything queued so far has been
// written, giving up after timeout: a notification must leave before its
// session closes (RFC 5036 section 3.5.1.1), but a peer that stopped reading
// must not keep the connection open.
func (k *Conn) CloseWhenSent(timeout time.Duration) {
	k.c.SetWriteDeadline(time.Now().Add(timeout))
	k.mu.Lock()
	k.draining = true
	k.mu.Unlock()
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

// Close stops the writer and closes the connection; queued bytes are dropped.
func (k *Conn) Close() error {
	err := k.shutdown()
	k.writeWG.Wait()
	return err
}

func (k *Conn) shutdown() error {
	var err error
	k.once.Do(func() {
		close(k.closed)
		err = k.c.Close()
	})
	return err
}

// LocalAddr and RemoteAddr are the connection's ends.
func (k *Conn) LocalAddr() netip.AddrPort  { return addrPort(k.c.LocalAddr()) }
func (k *Conn) RemoteAddr() netip.AddrPort { return addrPort(k.c.RemoteAddr()) }

func addrPort(a net.Addr) netip.AddrPort {
	if t, ok := a.(*net.TCPAddr); ok {
		ap := t.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPort{}
}
