package netlinkfib

import (
	"context"
	"net"
	"testing"

	"github.com/lsrd/lsrd/internal/netnstest"
	"golang.org/x/sys/unix"
)

// TestReceiveGrowsItsBuffer dumps 2,000 routes through a connection whose
// buffer holds less than one message: every route must still come back
// (each datagram's size is peeked and the buffer grown), none cut.
func TestReceiveGrowsItsBuffer(t *testing.T) {
	ns := netnstest.New(t)
	h, lo := netnstest.RouteHandle(t, ns)
	const n = 2000
	for i := range n {
		if err := h.RouteAdd(netnstest.HostRoute(net.IPv4(10, 1, byte(i>>8), byte(i)), lo, 0)); err != nil {
			t.Fatal(err)
		}
	}
	c, err := dial(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	c.rbuf = make([]byte, 16)
	got := 0
	err = c.dump(context.Background(), routeDumpRequest(unix.AF_INET), func(typ uint16, b []byte) error {
		r, err := decodeRoute(b)
		if err != nil {
			return err
		}
		if typ == unix.RTM_NEWROUTE && r.table == unix.RT_TABLE_MAIN && r.prefix.Addr().As4()[1] == 1 {
			got++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Errorf("dump read %d of the %d routes", got, n)
	}
	if len(c.rbuf) <= 16 {
		t.Errorf("buffer still %d bytes", len(c.rbuf))
	}
}
