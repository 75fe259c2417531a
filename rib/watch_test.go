package rib

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/lsrd/lsrd/internal/netnstest"
	"github.com/vishvananda/netlink"
)

// TestWatchKernelIgnoresOwnRoutes runs the watcher in a namespace of its
// own: lsrd's own routes (either of its protocols) bring no signal, another
// daemon's route does.
func TestWatchKernelIgnoresOwnRoutes(t *testing.T) {
	ns := netnstest.New(t)
	h, lo := netnstest.RouteHandle(t, ns)
	ctx, cancel := context.WithCancel(context.Background())
	changed := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() { done <- netnstest.Do(ns, func() error { return WatchKernel(ctx, changed, testOwn) }) }()
	defer func() {
		// The watcher waits in the runtime's poller, not in a receive
		// that times out: the end of ctx ends it at once.
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(250 * time.Millisecond):
			t.Error("WatchKernel still running 250 ms after its context ended")
			<-done
		}
	}()
	time.Sleep(100 * time.Millisecond) // subscribed
	add := func(host byte, proto netlink.RouteProtocol) {
		t.Helper()
		if err := h.RouteAdd(netnstest.HostRoute(net.IPv4(10, 0, 0, host), lo, proto)); err != nil {
			t.Fatal(err)
		}
	}
	add(1, 234)
	add(2, 193)
	select {
	case <-changed:
		t.Fatal("signalled for lsrd's own routes")
	case <-time.After(300 * time.Millisecond):
	}
	add(3, 188) // another daemon's (zebra's OSPF routes)
	select {
	case <-changed:
	case <-time.After(2 * time.Second):
		t.Fatal("no signal for another daemon's route")
	}
}
