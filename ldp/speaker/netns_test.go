package speaker_test

import (
	"context"
	"net"
	"net/netip"
	"testing"

	"github.com/vishvananda/netns"

	"github.com/lsrd/lsrd/internal/netnstest"
	"github.com/lsrd/lsrd/ldp/transport"
)

// The speakers under test each run in a network namespace of their own
// (package netnstest), joined by a veth pair: both bind UDP 646 on every
// address (as lsrd does), which one namespace cannot give two sockets, and
// nothing on the host's own port 646 is touched.

// listen opens a speaker's hello socket and session listener in ns.
func listen(t *testing.T, ns netns.NsHandle) (*transport.HelloSocket, *net.TCPListener) {
	t.Helper()
	var h *transport.HelloSocket
	var l *net.TCPListener
	err := netnstest.Do(ns, func() error {
		var err error
		if h, err = transport.ListenHello(context.Background()); err != nil {
			return err
		}
		if l, err = transport.ListenSessions(context.Background(), netip.Addr{}); err != nil {
			h.Close()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return h, l
}

// dialer returns a speaker's Dial that opens the connection from ns.
func dialer(ns netns.NsHandle) func(ctx context.Context, local, remote netip.Addr, opt transport.SessionOptions) (*net.TCPConn, error) {
	return func(ctx context.Context, local, remote netip.Addr, opt transport.SessionOptions) (*net.TCPConn, error) {
		var c *net.TCPConn
		err := netnstest.Do(ns, func() error {
			var err error
			c, err = transport.DialSession(ctx, local, remote, opt)
			return err
		})
		return c, err
	}
}
