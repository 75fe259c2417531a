//go:build lab

package transport

import (
	"context"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
)

// Basic hellos cross a ZeroTier-like segment to the members that joined
// 224.0.0.2 on it, arrive with the interface and destination that mark them
// as basic hellos, and do not arrive where the group was not joined.
func TestMulticastHelloOverZeroTier(t *testing.T) {
	lab := topo.New(t)
	zt := lab.ZeroTier(0x8056c2e21c123456)
	r1, r2, r3 := lab.Router("r1"), lab.Router("r2"), lab.Router("r3")
	ifname := zt.Attach(r1, "10.1.0.1/24")
	zt.Attach(r2, "10.1.0.2/24")
	zt.Attach(r3, "10.1.0.3/24")

	open := func(r *topo.Router) (*HelloSocket, int) {
		var s *HelloSocket
		var idx int
		if err := r.Do(func() error {
			var err error
			if s, err = ListenHello(context.Background()); err != nil {
				return err
			}
			ifi, err := net.InterfaceByName(ifname)
			if err != nil {
				return err
			}
			idx = ifi.Index
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		t.Cleanup(func() { s.Close() })
		return s, idx
	}
	s1, idx1 := open(r1)
	s2, idx2 := open(r2)
	s3, _ := open(r3)
	// Joined from the test's own namespace on purpose: the socket's is what counts.
	if err := s2.Join(idx2); err != nil {
		t.Fatal(err)
	}

	got := make(chan Hello, 4)
	go func() {
		buf := make([]byte, 4096)
		for {
			h, err := s2.Read(buf)
			if err != nil {
				return
			}
			h.Data = append([]byte(nil), h.Data...)
			got <- h
		}
	}()
	silent := make(chan Hello, 4)
	go func() {
		buf := make([]byte, 4096)
		for {
			h, err := s3.Read(buf)
			if err != nil {
				return
			}
			silent <- h
		}
	}()

	if err := s1.SendMulticast(idx1, netip.MustParseAddr("10.1.0.1"), []byte("hello")); err != nil {
		t.Fatal(err)
	}
	select {
	case h := <-got:
		if h.Ifindex != idx2 || h.Dst != AllRouters || h.Src != netip.MustParseAddrPort("10.1.0.1:646") || h.TTL != GTSMTTL || string(h.Data) != "hello" {
			t.Errorf("r2 received %+v, want a basic hello from 10.1.0.1:646 to %s on interface %d with TTL 255 (GTSM, RFC 6720)", h, AllRouters, idx2)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("r2 received no hello")
	}
	select {
	case h := <-silent:
		t.Errorf("r3, which did not join %s, received %+v", AllRouters, h)
	case <-time.After(time.Second):
	}
}

// A session connection dialled from one transport address reaches the
// listener on the other, and bytes flow both ways.
func TestSessionDialAndAccept(t *testing.T) {
	lab := topo.New(t)
	r1, r2 := lab.Router("r1"), lab.Router("r2")
	lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	ctx := context.Background()
	var l *net.TCPListener
	if err := r2.Do(func() (err error) {
		l, err = ListenSessions(ctx, netip.MustParseAddr("10.0.0.2"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	var c *net.TCPConn
	if err := r1.Do(func() (err error) {
		c, err = DialSession(ctx, netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), SessionOptions{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	k := NewConn(c, 1<<16)
	defer k.Close()
	if got, want := k.LocalAddr().Addr(), netip.MustParseAddr("10.0.0.1"); got != want {
		t.Errorf("dialled from %s, want %s", got, want)
	}
	var peer net.Conn
	select {
	case peer = <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("listener accepted nothing")
	}
	defer peer.Close()
	if err := k.Send([]byte("init")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(peer, buf); err != nil || string(buf) != "init" {
		t.Fatalf("peer read %q, %v", buf, err)
	}
}
