// Package netnstest gives host tests network namespaces of their own:
// anonymous namespaces (gone with their last handle and socket, whatever
// happens to the test), veth pairs between them, and a way to open sockets
// inside one. Tests that use it need root and skip without it; they never
// touch the host's own network.
package netnstest

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Do runs f on an OS thread moved into ns. The thread is never handed
// back to the runtime (the goroutine exits locked, so the runtime ends the
// thread): no other goroutine can ever run in the wrong namespace.
func Do(ns netns.NsHandle, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := netns.Set(ns); err != nil {
			errc <- fmt.Errorf("entering namespace: %w", err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// New creates an anonymous network namespace with its loopback up, or
// skips the test when the process may not (not root).
func New(t testing.TB) netns.NsHandle {
	t.Helper()
	nsc := make(chan netns.NsHandle, 1)
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		ns, err := netns.New()
		if err != nil {
			errc <- err
			return
		}
		lo, err := netlink.LinkByName("lo")
		if err == nil {
			err = netlink.LinkSetUp(lo)
		}
		if err != nil {
			ns.Close()
			errc <- fmt.Errorf("loopback up: %w", err)
			return
		}
		nsc <- ns
	}()
	select {
	case ns := <-nsc:
		t.Cleanup(func() { ns.Close() })
		return ns
	case err := <-errc:
		if errors.Is(err, unix.EPERM) || os.Geteuid() != 0 {
			t.Skipf("speaker tests need network namespaces (run as root): %v", err)
		}
		t.Fatalf("new network namespace: %v", err)
	}
	return 0
}

// RouteHandle opens a NETLINK_ROUTE handle in ns, closed when the test
// ends (route alone: the lab's kernel has no XFRM), and returns it with the
// index of ns's loopback.
func RouteHandle(t testing.TB, ns netns.NsHandle) (*netlink.Handle, int) {
	t.Helper()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	lo, err := h.LinkByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	return h, lo.Attrs().Index
}

// HostRoute is the route to the /32 ip on link, of route protocol proto
// (0: the kernel's default), scope link: for tests that add and delete
// routes to watch what the kernel tells.
func HostRoute(ip net.IP, link int, proto netlink.RouteProtocol) *netlink.Route {
	return &netlink.Route{Dst: &net.IPNet{IP: ip, Mask: net.CIDRMask(32, 32)}, LinkIndex: link, Protocol: proto, Scope: netlink.SCOPE_LINK}
}

// Veth joins two namespaces with a veth pair, gives each end an address and
// brings both up. It returns the two interface indexes.
func Veth(t testing.TB, nsA, nsB netns.NsHandle, nameA, nameB string, addrA, addrB netip.Prefix) (int, int) {
	t.Helper()
	ha, err := netlink.NewHandleAt(nsA)
	if err != nil {
		t.Fatal(err)
	}
	defer ha.Close()
	hb, err := netlink.NewHandleAt(nsB)
	if err != nil {
		t.Fatal(err)
	}
	defer hb.Close()
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: nameA}, PeerName: nameB, PeerNamespace: netlink.NsFd(nsB)}
	if err := ha.LinkAdd(veth); err != nil {
		t.Fatalf("veth %s-%s: %v", nameA, nameB, err)
	}
	up := func(h *netlink.Handle, name string, p netip.Prefix) int {
		l, err := h.LinkByName(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ipn := &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
		// No duplicate address detection: a tentative IPv6 address
		// cannot be bound for a second or more.
		if err := h.AddrAdd(l, &netlink.Addr{IPNet: ipn, Flags: unix.IFA_F_NODAD}); err != nil {
			t.Fatalf("%s: address %s: %v", name, p, err)
		}
		if err := h.LinkSetUp(l); err != nil {
			t.Fatalf("%s: up: %v", name, err)
		}
		return l.Attrs().Index
	}
	return up(ha, nameA, addrA), up(hb, nameB, addrB)
}

// SetLink brings an interface of the namespace up or down.
func SetLink(t testing.TB, ns netns.NsHandle, name string, up bool) {
	t.Helper()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	l, err := h.LinkByName(name)
	if err != nil {
		t.Fatal(err)
	}
	if up {
		err = h.LinkSetUp(l)
	} else {
		err = h.LinkSetDown(l)
	}
	if err != nil {
		t.Fatalf("%s up=%v: %v", name, up, err)
	}
}
