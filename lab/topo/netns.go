package topo

import (
	"context"
	"fmt"
	"net"
	"runtime"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Netlink returns a netlink handle bound to the router's namespace, closed when
// the test ends. Reading routes through it reads the router's kernel tables.
func (r *Router) Netlink() *netlink.Handle {
	r.lab.t.Helper()
	ns, err := netns.GetFromName(r.Name)
	if err != nil {
		r.lab.t.Fatalf("topo: %s: opening namespace: %v", r.Name, err)
	}
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	ns.Close()
	if err != nil {
		r.lab.t.Fatalf("topo: %s: netlink handle: %v", r.Name, err)
	}
	r.lab.t.Cleanup(h.Close)
	return h
}

// DialContext opens a TCP connection from inside the router's namespace, so a
// test in the guest's root namespace can reach a daemon's API that listens on
// the router's loopback.
func (r *Router) DialContext(ctx context.Context, addr string) (net.Conn, error) {
	var conn net.Conn
	err := r.Do(func() error {
		var d net.Dialer
		var err error
		conn, err = d.DialContext(ctx, "tcp", addr)
		return err
	})
	return conn, err
}

// Do runs f on an OS thread moved into the router's namespace: sockets f
// creates belong to the router, and stay there when used from any goroutine
// afterwards. f must not start goroutines that create sockets.
func (r *Router) Do(f func() error) error {
	ns, err := netns.GetFromName(r.Name)
	if err != nil {
		return fmt.Errorf("topo: %s: opening namespace: %w", r.Name, err)
	}
	defer ns.Close()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("topo: current namespace: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(ns); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("topo: entering %s: %w", r.Name, err)
	}
	ferr := f()
	if err := netns.Set(orig); err != nil {
		// The thread stays locked: the runtime ends a locked thread when its
		// goroutine exits, so it never runs other goroutines in the router.
		return fmt.Errorf("topo: returning from %s: %w", r.Name, err)
	}
	runtime.UnlockOSThread()
	return ferr
}
