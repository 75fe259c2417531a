package netlinkfib

import (
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// inNamespace runs f on an OS thread moved into ns (when ns is open), so the
// sockets f opens and the /proc/sys/net files it writes belong to ns. With a
// closed handle f runs where the process is, which is how lsrd runs in
// production.
func inNamespace(ns netns.NsHandle, f func() error) error {
	if !ns.IsOpen() {
		return f()
	}
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("reading the current network namespace: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(ns); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("entering network namespace %s: %w", ns, err)
	}
	ferr := f()
	if err := netns.Set(orig); err != nil {
		// The thread stays locked: the runtime ends it when this goroutine
		// exits, so no other goroutine ever runs in the wrong namespace.
		return fmt.Errorf("returning from network namespace %s: %w", ns, err)
	}
	runtime.UnlockOSThread()
	return ferr
}
