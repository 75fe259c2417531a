package netlinkfib

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/lsrd/lsrd/internal/nlfilter"
	"github.com/lsrd/lsrd/internal/rawsock"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// The multicast groups live repair listens to. vishvananda/netlink's
// RouteSubscribe joins only the IPv4 and IPv6 route groups; MPLS label
// routes are announced on RTNLGRP_MPLS_ROUTE and nexthop objects on
// RTNLGRP_NEXTHOP. Links too: when a device goes down or loses its
// carrier, the kernel deletes the nexthop objects on it, and the routes
// that use them, without a word (nexthop_flush_dev sends no
// RTM_DELNEXTHOP, and flushed IPv4 routes are not announced).
var watchGroups = []int{unix.RTNLGRP_MPLS_ROUTE, unix.RTNLGRP_IPV4_ROUTE, unix.RTNLGRP_IPV6_ROUTE, unix.RTNLGRP_NEXTHOP, unix.RTNLGRP_LINK}

// watch marks the cache stale and wakes Run whenever someone other than
// this FIB changes or deletes a route or nexthop object of lsrd's, or when
// notifications were lost (ENOBUFS): level-triggered, the next pass re-reads
// the kernel rather than trusting the event.
func (f *FIB) watch(ctx context.Context) {
	for ctx.Err() == nil {
		s, err := subscribe(f.ns, f.own.proto, f.c.portid)
		if err != nil {
			f.log.Warn("netlinkfib: cannot watch the kernel; relying on periodic resync", "err", err)
		} else {
			// The read waits in the runtime's poller; the end of ctx
			// closes the socket, which ends it.
			stop := context.AfterFunc(ctx, func() { s.Close() })
			err = f.readEvents(ctx, s)
			stop()
			s.Close()
			if ctx.Err() != nil {
				return
			}
			f.log.Warn("netlinkfib: kernel watch broke; resubscribing", "err", err)
		}
		f.repair()
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// subscribe opens the watch socket. Its filter drops, in the kernel, what
// readEvents would skip anyway: the answers to this FIB's own requests and
// other protocols' routes (installing 100,000 routes no longer wakes the
// watcher 100,000 times).
func subscribe(ns netns.NsHandle, proto uint8, portid uint32) (*rawsock.Socket, error) {
	var fd int
	err := inNamespace(ns, func() error {
		var err error
		fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("opening netlink socket: %w", err)
	}
	s, err := nlfilter.Watch(fd, watchGroups, nlfilter.KeepOthersRoutesOf(proto, portid), recvBufBytes)
	if err != nil {
		return nil, fmt.Errorf("subscribing to route notifications: %w", err)
	}
	return s, nil
}

func (f *FIB) readEvents(ctx context.Context, s *rawsock.Socket) error {
	buf := make([]byte, recvChunk)
	for ctx.Err() == nil {
		n, _, err := s.Read(&buf)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ENOBUFS):
			// Notifications were dropped: anything may have changed.
			f.repair()
			continue
		case err != nil:
			return err
		}
		var ours bool
		_ = forMessages(buf[:n], func(h unix.NlMsghdr, b []byte) error {
			if !ours && h.Pid != f.c.portid && f.concernsUs(h.Type, b) {
				ours = true
			}
			return nil
		})
		if ours {
			f.repair()
		}
	}
	return ctx.Err()
}

// concernsUs reports whether a notification is about an object of lsrd's.
// Notifications caused by this FIB's own requests carry its port ID and
// are skipped by the caller.
func (f *FIB) concernsUs(typ uint16, b []byte) bool {
	switch typ {
	case unix.RTM_NEWROUTE, unix.RTM_DELROUTE:
		r, err := decodeRoute(b)
		if err != nil || r.protocol != f.own.proto {
			return false
		}
		return (r.family == unix.AF_MPLS && !f.vrf) || r.table == f.target.table || (f.ingress.table != 0 && r.table == f.ingress.table)
	case unix.RTM_NEWNEXTHOP, unix.RTM_DELNEXTHOP:
		n, err := decodeNexthop(b)
		return err == nil && f.own.block.holds(n.id)
	case unix.RTM_DELLINK:
		return true
	case unix.RTM_NEWLINK:
		return linkFlushes(b)
	}
	return false
}

// linkFlushes tells whether an RTM_NEWLINK announces a device that is down
// or without carrier: one the kernel has just deleted nexthop objects on,
// lsrd's among them.
func linkFlushes(b []byte) bool {
	if len(b) < unix.SizeofIfInfomsg {
		return false
	}
	flags := binary.NativeEndian.Uint32(b[8:12]) // struct ifinfomsg: family, pad, type, index, flags
	return flags&unix.IFF_UP == 0 || flags&unix.IFF_LOWER_UP == 0
}

// repair makes the next pass re-read the kernel and wakes Run.
// It does not take f.mu, so the watcher keeps draining its socket while a
// long pass runs.
func (f *FIB) repair() {
	f.dirty.Store(true)
	f.wake()
}
