package netlinkfib

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/lsrd/lsrd/internal/rawsock"
	"github.com/lsrd/lsrd/internal/rtattr"
)

// Batch limits. The kernel handles every message of one sendmsg in turn
// under the RTNL lock; a chunk stays well inside the default socket send
// buffer (sendmsg refuses more than sk_sndbuf), and its answers inside the
// receive buffer lsrd asks for.
const (
	chunkBytes   = 64 << 10
	recvBufBytes = 8 << 20
	ackTimeout   = 30 // seconds without an answer before a chunk is given up
)

var errDumpInterrupted = errors.New("netlink dump interrupted by a concurrent change")

// conn is one NETLINK_ROUTE socket that pipelines requests: a chunk of
// messages goes out in one sendmsg without NLM_F_ACK, except the last, whose
// acknowledgement is the barrier; the kernel answers only the failures
// before it, which are matched back to their request by sequence number.
type conn struct {
	fd     int
	portid uint32
	seq    uint32
	rbuf   []byte
}

func dial(ns netns.NsHandle) (*conn, error) {
	var fd int
	err := inNamespace(ns, func() error {
		var err error
		fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("opening netlink socket: %w", err)
	}
	c := &conn{fd: fd, rbuf: make([]byte, recvChunk)}
	if err := c.setup(); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return c, nil
}

func (c *conn) setup() error {
	if err := unix.Bind(c.fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("binding netlink socket: %w", err)
	}
	sa, err := unix.Getsockname(c.fd)
	if err != nil {
		return fmt.Errorf("netlink socket address: %w", err)
	}
	c.portid = sa.(*unix.SockaddrNetlink).Pid
	// Errors without the request echoed (CAP_ACK) but with the kernel's
	// explanation (EXT_ACK): small answers that say why.
	for _, opt := range []int{unix.NETLINK_CAP_ACK, unix.NETLINK_EXT_ACK} {
		if err := unix.SetsockoptInt(c.fd, unix.SOL_NETLINK, opt, 1); err != nil {
			return fmt.Errorf("netlink socket option %d: %w", opt, err)
		}
	}
	// A big receive buffer so a dump of 100,000 routes or a chunk's errors
	// never overrun it; FORCE needs CAP_NET_ADMIN, which lsrd has anyway.
	if err := unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, recvBufBytes); err != nil {
		_ = unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_RCVBUF, recvBufBytes)
	}
	tv := unix.Timeval{Sec: ackTimeout}
	if err := unix.SetsockoptTimeval(c.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fmt.Errorf("netlink receive timeout: %w", err)
	}
	return nil
}

func (c *conn) close() error { return unix.Close(c.fd) }

func (c *conn) send(b []byte) error {
	return unix.Sendto(c.fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
}

// recvChunk is the receive buffer a socket starts with: the kernel sizes
// a dump's datagrams by the reader's buffer up to 32 KB, and a
// notification or an acknowledgement is one small message. A larger
// datagram grows the buffer (recv).
const recvChunk = 64 << 10

// recv reads one datagram from the blocking socket fd into *buf, grown
// first when the datagram is larger.
func recv(fd int, buf *[]byte) (int, error) {
	n, _, err := rawsock.Grow(func(p []byte, flags int) (int, unix.Sockaddr, error) {
		return unix.Recvfrom(fd, p, flags)
	}, buf)
	return n, err
}

// receive reads one datagram and calls f for each message in it.
func (c *conn) receive(f func(h unix.NlMsghdr, payload []byte) error) error {
	n, err := recv(c.fd, &c.rbuf)
	if err != nil {
		if errors.Is(err, unix.EAGAIN) {
			return fmt.Errorf("no answer from the kernel within %ds: %w", ackTimeout, err)
		}
		return err
	}
	return forMessages(c.rbuf[:n], f)
}

// forMessages splits a datagram into netlink messages.
func forMessages(b []byte, f func(h unix.NlMsghdr, payload []byte) error) error {
	for len(b) >= unix.SizeofNlMsghdr {
		ne := nl.NativeEndian()
		h := unix.NlMsghdr{Len: ne.Uint32(b), Type: ne.Uint16(b[4:]), Flags: ne.Uint16(b[6:]), Seq: ne.Uint32(b[8:]), Pid: ne.Uint32(b[12:])}
		if h.Len < unix.SizeofNlMsghdr || int(h.Len) > len(b) {
			return fmt.Errorf("netlink message length %d outside 16..%d", h.Len, len(b))
		}
		if err := f(h, b[unix.SizeofNlMsghdr:h.Len]); err != nil {
			return err
		}
		adv := (int(h.Len) + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1)
		if adv > len(b) {
			adv = len(b)
		}
		b = b[adv:]
	}
	return nil
}

// decodeError parses an NLMSG_ERROR payload: errno 0 is an acknowledgement.
func decodeError(h unix.NlMsghdr, b []byte) *KernelError {
	if len(b) < 4 {
		return &KernelError{Errno: unix.EBADMSG, Message: "truncated netlink error"}
	}
	errno := -int32(nl.NativeEndian().Uint32(b))
	if errno == 0 {
		return nil
	}
	ke := &KernelError{Errno: unix.Errno(errno)}
	if h.Flags&unix.NLM_F_ACK_TLVS != 0 {
		off := nlmsgerrAttrOffset
		if h.Flags&unix.NLM_F_CAPPED == 0 && len(b) >= 4+unix.SizeofNlMsghdr {
			off = 4 + int(nl.NativeEndian().Uint32(b[4:])) // the echoed request
		}
		if off <= len(b) {
			_ = rtattr.Each(b[off:], func(typ uint16, v []byte) error {
				if typ == unix.NLMSGERR_ATTR_MSG {
					ke.Message = cString(v)
				}
				return nil
			})
		}
	}
	return ke
}

// execute sends reqs pipelined in chunks and returns one error per request
// (nil for success) and each request's latency: the time from sending its
// chunk to the chunk's barrier acknowledgement (or its failure). A chunk
// that gets no barrier acknowledgement fails as a whole; the caller's next
// pass re-reads the kernel to learn what happened.
func (c *conn) execute(ctx context.Context, reqs []*nl.NetlinkRequest) ([]error, []time.Duration) {
	errs := make([]error, len(reqs))
	took := make([]time.Duration, len(reqs))
	ne := nl.NativeEndian()
	buf := make([]byte, 0, chunkBytes+4096)
	for start := 0; start < len(reqs); {
		if err := ctx.Err(); err != nil {
			for i := start; i < len(reqs); i++ {
				errs[i] = err
			}
			return errs, took
		}
		buf = buf[:0]
		firstSeq := c.seq + 1
		last, lastOff := start, 0
		for i := start; i < len(reqs) && (i == start || len(buf) < chunkBytes); i++ {
			c.seq++
			reqs[i].Seq = c.seq
			reqs[i].Pid = c.portid
			reqs[i].Flags &^= unix.NLM_F_ACK
			lastOff = len(buf)
			buf = append(buf, reqs[i].Serialize()...)
			last = i
		}
		flags := ne.Uint16(buf[lastOff+6:])
		ne.PutUint16(buf[lastOff+6:], flags|unix.NLM_F_ACK)
		lastSeq := c.seq
		fail := func(err error) {
			for i := start; i <= last; i++ {
				if errs[i] == nil {
					errs[i] = err
				}
			}
		}
		sent := time.Now()
		if err := c.send(buf); err != nil {
			fail(fmt.Errorf("sending %d requests: %w", last-start+1, err))
			start = last + 1
			continue
		}
		for done := false; !done; {
			err := c.receive(func(h unix.NlMsghdr, p []byte) error {
				if h.Type != unix.NLMSG_ERROR || h.Seq < firstSeq || h.Seq > lastSeq {
					return nil // a late answer to an earlier chunk
				}
				if ke := decodeError(h, p); ke != nil {
					errs[start+int(h.Seq-firstSeq)] = ke
				}
				if h.Seq == lastSeq {
					done = true
				}
				return nil
			})
			if err != nil {
				// ENOBUFS means answers were dropped: which requests
				// failed is unknown, so the whole chunk counts as failed.
				fail(fmt.Errorf("reading the kernel's answers: %w", err))
				done = true
			}
		}
		for i := start; i <= last; i++ {
			took[i] = time.Since(sent)
		}
		start = last + 1
	}
	return errs, took
}

// dump sends a dump request and calls f for each answer until NLMSG_DONE.
// An interrupted dump (the table changed under it) is retried: half a table
// is worse than none.
func (c *conn) dump(ctx context.Context, req *nl.NetlinkRequest, f func(typ uint16, payload []byte) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = ctx.Err(); err != nil {
			return err
		}
		if err = c.dumpOnce(req, f); !errors.Is(err, errDumpInterrupted) {
			return err
		}
	}
	return err
}

func (c *conn) dumpOnce(req *nl.NetlinkRequest, f func(typ uint16, payload []byte) error) error {
	c.seq++
	req.Seq = c.seq
	req.Pid = c.portid
	if err := c.send(req.Serialize()); err != nil {
		return fmt.Errorf("sending dump request: %w", err)
	}
	var interrupted bool
	var ferr error
	for done := false; !done; {
		err := c.receive(func(h unix.NlMsghdr, p []byte) error {
			if h.Seq != req.Seq {
				return nil
			}
			if h.Flags&unix.NLM_F_DUMP_INTR != 0 {
				interrupted = true
			}
			switch h.Type {
			case unix.NLMSG_DONE:
				done = true
			case unix.NLMSG_ERROR:
				done = true
				if ke := decodeError(h, p); ke != nil {
					return ke
				}
			default:
				if ferr == nil {
					ferr = f(h.Type, p)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if interrupted {
		return errDumpInterrupted
	}
	return ferr
}
