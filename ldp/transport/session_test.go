package transport

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// Writes queued on a Conn arrive in order, and CloseWhenSent delivers what was
// queued before closing.
func TestConnQueuesInOrderAndDrains(t *testing.T) {
	a, b := net.Pipe()
	k := NewConn(a, 1<<20)
	var want bytes.Buffer
	for i := 0; i < 100; i++ {
		p := bytes.Repeat([]byte{byte(i)}, 10+i)
		want.Write(p)
		if err := k.Send(p); err != nil {
			t.Fatal(err)
		}
	}
	k.CloseWhenSent(5 * time.Second)
	got, err := io.ReadAll(b)
	if err != nil && err != io.ErrClosedPipe {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("received %d bytes, want %d in order", len(got), want.Len())
	}
	k.Close()
}

// A peer that does not read fills the queue: Send reports it instead of
// growing without bound.
func TestConnQueueLimit(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	k := NewConn(a, 1000)
	defer k.Close()
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		err = k.Send(make([]byte, 100))
	}
	if err != ErrQueueFull {
		t.Fatalf("Send to a peer that never reads: %v, want ErrQueueFull", err)
	}
}
