// Package hostile is a misbehaving LDP neighbour for lab tests: it floods
// link hellos from ever new LSR IDs, holds idle TCP connections to a
// router's port 646, and runs a real LDP session that advertises a great
// many label mappings as fast as the socket takes them. Everything it sends
// is encoded with lsrd's own codec (package ldp/wire), so a failure it
// causes is the router's, not the tool's.
//
// It opens its sockets in a lab router's network namespace through the
// Netns the caller passes (topo.Router.Do), owns them and the goroutines
// that read them, and closes both when its work ends or its Close is
// called. It refuses to run outside the kernel lab (LSRD_LAB=1): the only
// legitimate targets are the addresses of the lab's own namespaces.
package hostile

import (
	"errors"
	"net/netip"
	"os"
)

// Netns runs f on a thread inside the namespace the tool acts from, so the
// sockets f opens belong there (topo.Router.Do).
type Netns func(f func() error) error

// errNotLab is returned outside the kernel lab.
var errNotLab = errors.New("hostile: runs only inside the kernel lab (LSRD_LAB=1)")

func inLab() error {
	if os.Getenv("LSRD_LAB") != "1" {
		return errNotLab
	}
	return nil
}

// nextAddr returns the IPv4 address n after a (wrapping at 2^32).
func nextAddr(a netip.Addr, n uint32) netip.Addr {
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += n
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
