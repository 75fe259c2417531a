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
	ns, err := netns.GetFromName(r.Name)
	if err != nil {
		return nil, fmt.Errorf("topo: %s: opening namespace: %w", r.Name, err)
	}
	defer ns.Close()
	// A socket belongs to the namespace of the thread that creates it: create
	// it on a locked thread moved into the router, then move the thread back.
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("topo: current namespace: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(ns); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("topo: entering %s: %w", r.Name, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if serr := netns.Set(orig); serr != nil {
		// The thread stays locked: the runtime ends a locked thread when its
		// goroutine exits, so it never runs other goroutines in the router.
		if conn != nil {
			conn.Close()
		}
		return nil, fmt.Errorf("topo: returning from %s: %w", r.Name, serr)
	}
	runtime.UnlockOSThread()
	return conn, err
}
