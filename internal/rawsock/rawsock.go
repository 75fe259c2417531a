// Package rawsock reads raw sockets (netlink, AF_PACKET) the way the net
// package reads its own: a reader waits in the Go runtime's poller, and
// closing the socket wakes it at once.
//
// The alternative, a blocking recvfrom with a receive timeout so that the
// reader notices a close, parks an OS thread per socket and wakes it every
// timeout. An idle lsrd had five such readers: five wake-ups a second,
// each a thread switch and the runtime taking its processor back. Under
// the lab's emulated CPUs an idle lsrd with no neighbour cost 1.3 % of a
// CPU (0.4 % without them), and 40 of them on one segment half a CPU
// before a single hello was read.
package rawsock

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Socket is a raw socket in the runtime's poller.
type Socket struct {
	f      *os.File
	rc     syscall.RawConn
	closed atomic.Bool
}

// New takes fd, an open socket, over: it is made non-blocking and handed to
// the runtime's poller. fd is closed when New fails.
func New(fd int, name string) (*Socket, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("%s: non-blocking: %w", name, err)
	}
	// A non-blocking descriptor makes os.NewFile register it with the
	// poller.
	f := os.NewFile(uintptr(fd), name)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Socket{f: f, rc: rc}, nil
}

// Recvfrom waits for one datagram and reads it into p. A failed system
// call's error names it (os.SyscallError, which errors.Is sees through).
func (s *Socket) Recvfrom(p []byte, flags int) (n int, from unix.Sockaddr, err error) {
	rerr := s.rc.Read(func(fd uintptr) bool {
		n, from, err = unix.Recvfrom(int(fd), p, flags)
		return !errors.Is(err, unix.EAGAIN)
	})
	if rerr != nil {
		return 0, nil, s.wrap(rerr)
	}
	return n, from, os.NewSyscallError("recvfrom", err)
}

// wrap names the poller's error for a closed socket (the runtime's own
// "use of closed file") os.ErrClosed.
func (s *Socket) wrap(err error) error {
	if s.closed.Load() {
		return fmt.Errorf("%s: %w", s.f.Name(), os.ErrClosed)
	}
	return err
}

// Read waits for one datagram and reads it whole into *buf, which it grows
// first when the datagram is larger (Grow).
func (s *Socket) Read(buf *[]byte) (int, unix.Sockaddr, error) {
	return Grow(s.Recvfrom, buf)
}

// Grow reads one datagram with recvfrom into *buf, grown first to the
// datagram's size when that is larger: the size is peeked
// (MSG_PEEK|MSG_TRUNC), so nothing is ever cut.
func Grow(recvfrom func(p []byte, flags int) (int, unix.Sockaddr, error), buf *[]byte) (int, unix.Sockaddr, error) {
	n, _, err := recvfrom((*buf)[:1], unix.MSG_PEEK|unix.MSG_TRUNC)
	if err != nil {
		return 0, nil, err
	}
	if n > len(*buf) {
		*buf = make([]byte, n)
	}
	return recvfrom(*buf, 0)
}

// Sendto sends p to to, waiting while the socket's send buffer is full.
func (s *Socket) Sendto(p []byte, flags int, to unix.Sockaddr) (err error) {
	werr := s.rc.Write(func(fd uintptr) bool {
		err = unix.Sendto(int(fd), p, flags, to)
		return !errors.Is(err, unix.EAGAIN)
	})
	if werr != nil {
		return s.wrap(werr)
	}
	return os.NewSyscallError("sendto", err)
}

// Control calls f with the socket's descriptor (for socket options).
func (s *Socket) Control(f func(fd int) error) error {
	var err error
	if cerr := s.rc.Control(func(fd uintptr) { err = f(int(fd)) }); cerr != nil {
		return cerr
	}
	return err
}

// SetReadDeadline makes waiting reads return an error wrapping
// os.ErrDeadlineExceeded at t; the zero time waits for ever.
func (s *Socket) SetReadDeadline(t time.Time) error { return s.f.SetReadDeadline(t) }

// Close closes the socket and wakes its waiting reader, whose read then
// returns an error for which IsClosed is true.
func (s *Socket) Close() error {
	s.closed.Store(true)
	return s.f.Close()
}

// IsClosed tells whether err comes from reading a closed Socket.
func IsClosed(err error) bool { return errors.Is(err, os.ErrClosed) }

// Attach assembles prog, a classic BPF program, and attaches it to the
// socket fd (SO_ATTACH_FILTER): the kernel runs it on every packet before
// it is queued, and drops what it returns 0 for.
func Attach(fd int, prog []bpf.Instruction) error {
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return fmt.Errorf("socket filter: %w", err)
	}
	filter := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		filter[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
		return fmt.Errorf("socket filter: attaching: %w", err)
	}
	return nil
}
