package rawsock

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pair is a connected pair of datagram sockets, the first read through
// rawsock.
func pair(t *testing.T) (*Socket, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(fds[0], "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); unix.Close(fds[1]) })
	return s, fds[1]
}

func threads(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Threads:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no Threads line in /proc/self/status")
	return 0
}

// TestReadersWaitWithoutThreads: 64 readers waiting on idle sockets hold
// no thread each (a blocking recvfrom would hold 64), and Close ends each
// wait at once with an error IsClosed recognises.
func TestReadersWaitWithoutThreads(t *testing.T) {
	const n = 64
	before := threads(t)
	errs := make(chan error, n)
	var socks []*Socket
	for range n {
		s, _ := pair(t)
		socks = append(socks, s)
		go func() {
			buf := make([]byte, 16)
			_, _, err := s.Read(&buf)
			errs <- err
		}()
	}
	time.Sleep(200 * time.Millisecond)
	if grown := threads(t) - before; grown > n/4 {
		t.Errorf("%d readers waiting added %d threads", n, grown)
	}
	start := time.Now()
	for _, s := range socks {
		s.Close()
	}
	for range n {
		select {
		case err := <-errs:
			if !IsClosed(err) {
				t.Errorf("read after Close: %v, want a closed socket's error", err)
			}
		case <-time.After(time.Second):
			t.Fatal("a reader still waits a second after Close")
		}
	}
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Errorf("Close took %s to end the reads", d)
	}
}

// TestReadGrows: a datagram larger than the buffer comes back whole.
func TestReadGrows(t *testing.T) {
	s, peer := pair(t)
	want := bytes.Repeat([]byte("label"), 2000)
	if _, err := unix.Write(peer, want); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, _, err := s.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf[:n], want) {
		t.Errorf("read %d bytes, want the %d sent", n, len(want))
	}
}

// TestReadDeadline: a read on a quiet socket ends at its deadline.
func TestReadDeadline(t *testing.T) {
	s, _ := pair(t)
	s.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	buf := make([]byte, 16)
	if _, _, err := s.Read(&buf); !os.IsTimeout(err) {
		t.Errorf("read past its deadline: %v, want a timeout", err)
	}
}
