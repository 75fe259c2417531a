package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// Hello is one datagram received on the hello socket.
type Hello struct {
	Ifindex int            // the interface it arrived on
	Src     netip.AddrPort // the sender
	Dst     netip.Addr     // AllRouters for a basic hello, our address for a targeted one
	TTL     int
	Data    []byte
}

// Targeted reports whether the datagram came to one of our addresses (a
// targeted hello) rather than to the all-routers group (a link hello).
func (h Hello) Targeted() bool { return h.Dst != AllRouters && h.Dst != AllRouters6 }

// HelloSocket is the UDP socket LDP discovery runs on, bound to port 646 on
// every address.
type HelloSocket struct {
	conn net.PacketConn
	udp  *net.UDPConn
	p    *ipv4.PacketConn
	oob  []byte // Read's control messages
}

// helloFlags are the control messages each datagram comes with.
const helloFlags = ipv4.FlagDst | ipv4.FlagInterface | ipv4.FlagTTL

// ListenHello opens the hello socket.
func ListenHello(ctx context.Context) (*HelloSocket, error) {
	lc := net.ListenConfig{Control: reuseAddr}
	conn, err := lc.ListenPacket(ctx, "udp4", fmt.Sprintf("0.0.0.0:%d", Port))
	if err != nil {
		return nil, fmt.Errorf("ldp hello socket: %w", err)
	}
	p := ipv4.NewPacketConn(conn)
	// The interface and destination of each datagram tell a basic hello
	// (multicast, per interface) from a targeted one (unicast).
	if err := p.SetControlMessage(helloFlags, true); err != nil {
		conn.Close()
		return nil, fmt.Errorf("ldp hello socket: control messages: %w", err)
	}
	// Basic hellos go to 224.0.0.2, which no router forwards (RFC 5036
	// 2.4.1), with TTL 255 so that a GTSM neighbour can tell they came
	// from the link (RFC 6720 section 3); our own must not come back to us.
	if err := p.SetMulticastTTL(GTSMTTL); err != nil {
		conn.Close()
		return nil, fmt.Errorf("ldp hello socket: multicast TTL: %w", err)
	}
	if err := p.SetMulticastLoopback(false); err != nil {
		conn.Close()
		return nil, fmt.Errorf("ldp hello socket: multicast loopback: %w", err)
	}
	return &HelloSocket{conn: conn, udp: conn.(*net.UDPConn), p: p}, nil
}

// Join makes the interface receive basic hellos. On ZeroTier this is what
// makes the network deliver 224.0.0.2 at all: it only forwards multicast
// groups a member subscribed to.
//
// The interface is named by index alone: looking it up would ask the kernel
// from the calling thread's network namespace, which need not be the
// socket's.
func (s *HelloSocket) Join(ifindex int) error {
	if err := s.p.JoinGroup(&net.Interface{Index: ifindex}, &net.UDPAddr{IP: AllRouters.AsSlice()}); err != nil {
		return fmt.Errorf("ldp hello socket: joining %s on interface %d: %w", AllRouters, ifindex, err)
	}
	return nil
}

// Leave stops receiving basic hellos on the interface.
func (s *HelloSocket) Leave(ifindex int) error {
	if err := s.p.LeaveGroup(&net.Interface{Index: ifindex}, &net.UDPAddr{IP: AllRouters.AsSlice()}); err != nil {
		return fmt.Errorf("ldp hello socket: leaving %s on interface %d: %w", AllRouters, ifindex, err)
	}
	return nil
}

// SendMulticast sends a basic hello out of one interface, from src (the
// interface's address, which the neighbour uses when the hello carries no
// transport address).
func (s *HelloSocket) SendMulticast(ifindex int, src netip.Addr, data []byte) error {
	cm := &ipv4.ControlMessage{IfIndex: ifindex}
	if src.IsValid() {
		cm.Src = src.AsSlice()
	}
	dst := &net.UDPAddr{IP: AllRouters.AsSlice(), Port: Port}
	if _, err := s.p.WriteTo(data, cm, dst); err != nil {
		return fmt.Errorf("ldp hello to %s on interface %d: %w", AllRouters, ifindex, err)
	}
	return nil
}

// SendUnicast sends a targeted hello.
func (s *HelloSocket) SendUnicast(dst netip.AddrPort, src netip.Addr, data []byte) error {
	var cm *ipv4.ControlMessage
	if src.IsValid() {
		cm = &ipv4.ControlMessage{Src: src.AsSlice()}
	}
	if _, err := s.p.WriteTo(data, cm, net.UDPAddrFromAddrPort(dst)); err != nil {
		return fmt.Errorf("ldp targeted hello to %s: %w", dst, err)
	}
	return nil
}

// Read blocks for the next datagram; buf must hold the largest hello
// expected (an LDP PDU's length field allows 65,535 bytes). One goroutine
// reads: the control message buffer is the socket's.
//
// It reads with the net package rather than through ipv4.PacketConn, whose
// reads ask the kernel for the socket's protocol on every datagram
// (x/sys/unix's address decoding looks for L2TP): a system call per hello
// that a segment of 60 routers pays 12 times a second each.
func (s *HelloSocket) Read(buf []byte) (Hello, error) {
	if s.oob == nil {
		s.oob = ipv4.NewControlMessage(helloFlags)
	}
	n, oobn, _, src, err := s.udp.ReadMsgUDPAddrPort(buf, s.oob)
	if err != nil {
		return Hello{}, err
	}
	h := Hello{Data: buf[:n], Src: netip.AddrPortFrom(src.Addr().Unmap(), src.Port())}
	var cm ipv4.ControlMessage
	if err := cm.Parse(s.oob[:oobn]); err == nil {
		h.Ifindex = cm.IfIndex
		h.TTL = cm.TTL
		if a, ok := netip.AddrFromSlice(cm.Dst); ok {
			h.Dst = a.Unmap()
		}
	}
	return h, nil
}

// Close closes the socket; a blocked Read returns net.ErrClosed.
func (s *HelloSocket) Close() error { return s.conn.Close() }

// IsClosed reports whether err means the socket was closed on purpose.
func IsClosed(err error) bool { return errors.Is(err, net.ErrClosed) }

// reuseAddr lets lsrd restart while old sockets linger in TIME_WAIT.
func reuseAddr(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	})
	if err != nil {
		return err
	}
	return serr
}
