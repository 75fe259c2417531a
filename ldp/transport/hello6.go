package transport

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/net/ipv6"
)

// AllRouters6 is the group IPv6 link hellos go to (RFC 7552 section 5.1).
var AllRouters6 = netip.MustParseAddr("ff02::2")

// Hello6Socket is the UDP socket LDP discovery over IPv6 runs on, bound to
// port 646 on every IPv6 address (IPv6 only: the IPv4 HelloSocket has the
// same port). Hellos leave with hop limit 255 (RFC 7552 section 5.1, RFC
// 6720) and their source is the interface's link-local address, which the
// kernel picks for ff02::2.
type Hello6Socket struct {
	conn net.PacketConn
	udp  *net.UDPConn
	p    *ipv6.PacketConn
	oob  []byte // Read's control messages
}

// hello6Flags are the control messages each datagram comes with.
const hello6Flags = ipv6.FlagDst | ipv6.FlagInterface | ipv6.FlagHopLimit

// ListenHello6 opens the IPv6 hello socket.
func ListenHello6(ctx context.Context) (*Hello6Socket, error) {
	lc := net.ListenConfig{Control: reuseAddr}
	conn, err := lc.ListenPacket(ctx, "udp6", fmt.Sprintf("[::]:%d", Port))
	if err != nil {
		return nil, fmt.Errorf("ldp IPv6 hello socket: %w", err)
	}
	p := ipv6.NewPacketConn(conn)
	for _, set := range []struct {
		what string
		f    func() error
	}{
		{"control messages", func() error {
			return p.SetControlMessage(hello6Flags, true)
		}},
		{"multicast hop limit", func() error { return p.SetMulticastHopLimit(GTSMTTL) }},
		{"unicast hop limit", func() error { return p.SetHopLimit(GTSMTTL) }},
		{"multicast loopback", func() error { return p.SetMulticastLoopback(false) }},
	} {
		if err := set.f(); err != nil {
			conn.Close()
			return nil, fmt.Errorf("ldp IPv6 hello socket: %s: %w", set.what, err)
		}
	}
	return &Hello6Socket{conn: conn, udp: conn.(*net.UDPConn), p: p}, nil
}

// Join makes the interface receive IPv6 link hellos.
func (s *Hello6Socket) Join(ifindex int) error {
	if err := s.p.JoinGroup(&net.Interface{Index: ifindex}, &net.UDPAddr{IP: AllRouters6.AsSlice()}); err != nil {
		return fmt.Errorf("ldp IPv6 hello socket: joining %s on interface %d: %w", AllRouters6, ifindex, err)
	}
	return nil
}

// Leave stops receiving IPv6 link hellos on the interface.
func (s *Hello6Socket) Leave(ifindex int) error {
	if err := s.p.LeaveGroup(&net.Interface{Index: ifindex}, &net.UDPAddr{IP: AllRouters6.AsSlice()}); err != nil {
		return fmt.Errorf("ldp IPv6 hello socket: leaving %s on interface %d: %w", AllRouters6, ifindex, err)
	}
	return nil
}

// SendMulticast sends an IPv6 link hello out of one interface; src is
// ignored unless it is link-local (the kernel picks the interface's
// link-local address, as section 5.1 requires).
func (s *Hello6Socket) SendMulticast(ifindex int, src netip.Addr, data []byte) error {
	cm := &ipv6.ControlMessage{IfIndex: ifindex, HopLimit: GTSMTTL}
	if src.Is6() && src.IsLinkLocalUnicast() {
		cm.Src = src.AsSlice()
	}
	dst := &net.UDPAddr{IP: AllRouters6.AsSlice(), Port: Port}
	if _, err := s.p.WriteTo(data, cm, dst); err != nil {
		return fmt.Errorf("ldp hello to %s on interface %d: %w", AllRouters6, ifindex, err)
	}
	return nil
}

// SendUnicast sends an IPv6 targeted hello from src (a global address).
func (s *Hello6Socket) SendUnicast(dst netip.AddrPort, src netip.Addr, data []byte) error {
	var cm *ipv6.ControlMessage
	if src.IsValid() {
		cm = &ipv6.ControlMessage{Src: src.AsSlice()}
	}
	if _, err := s.p.WriteTo(data, cm, net.UDPAddrFromAddrPort(dst)); err != nil {
		return fmt.Errorf("ldp targeted hello to %s: %w", dst, err)
	}
	return nil
}

// Read blocks for the next datagram, as HelloSocket.Read (and, as it, with
// the net package: ipv6.PacketConn's read asks the kernel for the socket's
// protocol on every datagram too); TTL is the hop limit it arrived with.
func (s *Hello6Socket) Read(buf []byte) (Hello, error) {
	if s.oob == nil {
		s.oob = ipv6.NewControlMessage(hello6Flags)
	}
	n, oobn, _, src, err := s.udp.ReadMsgUDPAddrPort(buf, s.oob)
	if err != nil {
		return Hello{}, err
	}
	h := Hello{Data: buf[:n], Src: netip.AddrPortFrom(src.Addr().WithZone(""), src.Port())}
	var cm ipv6.ControlMessage
	if err := cm.Parse(s.oob[:oobn]); err == nil {
		h.Ifindex = cm.IfIndex
		h.TTL = cm.HopLimit
		if a, ok := netip.AddrFromSlice(cm.Dst); ok {
			h.Dst = a
		}
	}
	return h, nil
}

// Close closes the socket; a blocked Read returns net.ErrClosed.
func (s *Hello6Socket) Close() error { return s.conn.Close() }
