package transport

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Session protection the kernel enforces: TCP-MD5 signatures (RFC 2385, as
// RFC 5036 section 2.9 has LDP use them) and GTSM (RFC 6720: segments from
// a directly connected peer arrive with TTL 255, anything lower came from
// further away and is dropped).

// GTSMTTL is the TTL LDP sends with everywhere, and the least a GTSM
// session accepts (RFC 6720 section 3).
const GTSMTTL = 255

// SessionOptions are the protections of one session connection.
type SessionOptions struct {
	// MD5Key signs every segment (TCP_MD5SIG); empty for none.
	MD5Key string
	// MinTTL drops received segments with a lower TTL (IP_MINTTL); 0 for
	// no check. GTSM sessions use GTSMTTL.
	MinTTL int
}

// SetMD5 installs key as the TCP-MD5 key for connections with peer on the
// listener l: the kernel then accepts only SYNs from peer signed with it,
// and the connections it accepts inherit it. An empty key removes peer's
// key; removing one that is not there is not an error.
func SetMD5(l *net.TCPListener, peer netip.Addr, key string) error {
	return control(l, func(fd int) error { return setMD5(fd, peer, key) })
}

// SetSessionOptions applies opt to an accepted connection. The key must be
// the one its listener had for the peer: a connection accepted before the
// key was installed is unsigned, and from now on its peer's unsigned
// segments are dropped, so it cannot pass for a protected session.
func SetSessionOptions(c *net.TCPConn, opt SessionOptions) error {
	remote := addrPort(c.RemoteAddr()).Addr()
	return control(c, func(fd int) error { return applyOptions(fd, remote, opt) })
}

// SetMinTTL drops the connection's segments that arrive with a TTL below
// ttl (GTSM).
func (k *Conn) SetMinTTL(ttl int) error {
	sc, ok := k.c.(syscall.Conn)
	if !ok {
		return fmt.Errorf("IP_MINTTL: %T has no socket", k.c)
	}
	return control(sc, func(fd int) error { return applyOptions(fd, netip.Addr{}, SessionOptions{MinTTL: ttl}) })
}

func applyOptions(fd int, peer netip.Addr, opt SessionOptions) error {
	if opt.MD5Key != "" {
		if err := setMD5(fd, peer, opt.MD5Key); err != nil {
			return err
		}
	}
	if opt.MinTTL > 0 {
		level, name, what := unix.IPPROTO_IP, unix.IP_MINTTL, "IP_MINTTL"
		if is6(fd) {
			level, name, what = unix.IPPROTO_IPV6, unix.IPV6_MINHOPCOUNT, "IPV6_MINHOPCOUNT"
		}
		if err := unix.SetsockoptInt(fd, level, name, opt.MinTTL); err != nil {
			return fmt.Errorf("%s %d: %w", what, opt.MinTTL, err)
		}
	}
	return nil
}

// is6 reports whether the socket fd is an IPv6 one.
func is6(fd int) bool {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return false
	}
	_, ok := sa.(*unix.SockaddrInet6)
	return ok
}

func setMD5(fd int, peer netip.Addr, key string) error {
	if len(key) > len(unix.TCPMD5Sig{}.Key) {
		return fmt.Errorf("TCP-MD5 key for %s: %d bytes, at most %d", peer, len(key), len(unix.TCPMD5Sig{}.Key))
	}
	var sig unix.TCPMD5Sig
	peer = peer.Unmap()
	switch {
	case peer.Is4() && is6(fd):
		// An IPv6 socket sees IPv4 peers as mapped addresses.
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&sig.Addr))
		sa.Family = unix.AF_INET6
		sa.Addr = netip.AddrFrom16(peer.As16()).As16()
	case peer.Is4():
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&sig.Addr))
		sa.Family = unix.AF_INET
		sa.Addr = peer.As4()
	case peer.Is6():
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&sig.Addr))
		sa.Family = unix.AF_INET6
		sa.Addr = peer.As16()
	default:
		return fmt.Errorf("TCP-MD5 key for %s: not an address", peer)
	}
	sig.Keylen = uint16(len(key))
	copy(sig.Key[:], key)
	err := unix.SetsockoptTCPMD5Sig(fd, unix.IPPROTO_TCP, unix.TCP_MD5SIG, &sig)
	if key == "" && errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("TCP-MD5 key for %s: %w", peer, err)
	}
	return nil
}

// sendTTL255 makes a socket send with TTL 255 (RFC 6720: a GTSM peer drops
// anything lower; a peer without GTSM does not care).
func sendTTL255(fd int) error {
	if is6(fd) {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, GTSMTTL); err != nil {
			return fmt.Errorf("IPV6_UNICAST_HOPS %d: %w", GTSMTTL, err)
		}
		return nil
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_TTL, GTSMTTL); err != nil {
		return fmt.Errorf("IP_TTL %d: %w", GTSMTTL, err)
	}
	return nil
}

func control(c syscall.Conn, f func(fd int) error) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return err
	}
	return ferr
}
