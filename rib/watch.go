package rib

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/lsrd/lsrd/internal/nlfilter"
	"golang.org/x/sys/unix"
)

// WatchKernel signals on changed (without blocking: one pending signal is
// enough) whenever the kernel's links, addresses or IP routes change, until
// ctx ends. It does not parse what changed: the reader of changed re-reads
// the whole state, which also covers notifications the kernel dropped when
// the socket's buffer overflowed (ENOBUFS is a change too). lsrd's own
// routes (of a protocol in own) are no change: the RIB never learns them,
// and installing 100,000 BGP routes must not make lsrd re-read the kernel
// over and over.
func WatchKernel(ctx context.Context, changed chan<- struct{}, own *Protocols) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("rib: subscribing to kernel changes: %w", err)
	}
	// lsrd's own routes are dropped in the kernel, before they are queued:
	// a burst of installs no longer wakes this loop for each route.
	var protos []uint8
	for p, ok := range own {
		if ok {
			protos = append(protos, uint8(p))
		}
	}
	// A burst of lsrd's own route notifications (a BGP batch going into
	// the kernel) overflows the default buffer, and an overflow costs a
	// full re-read of the kernel. 8 MB makes that rarer; what still
	// overflows is re-read as before.
	s, err := nlfilter.Watch(fd, []int{unix.RTNLGRP_LINK, unix.RTNLGRP_IPV4_IFADDR, unix.RTNLGRP_IPV6_IFADDR,
		unix.RTNLGRP_IPV4_ROUTE, unix.RTNLGRP_IPV6_ROUTE}, nlfilter.DropRoutesOf(protos), watchBuffer)
	if err != nil {
		return fmt.Errorf("rib: subscribing to kernel changes: %w", err)
	}
	defer s.Close()
	// The read waits in the runtime's poller; the end of ctx closes the
	// socket, which ends it.
	defer context.AfterFunc(ctx, func() { s.Close() })()
	signal := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	buf := make([]byte, 64<<10)
	for {
		n, _, err := s.Read(&buf)
		switch {
		case err == nil:
			msgs, err := syscall.ParseNetlinkMessage(buf[:n])
			if err != nil {
				signal() // unreadable: re-read rather than miss a change
				continue
			}
			for _, m := range msgs {
				if !ownRoute(m.Header.Type, m.Data, own) {
					signal()
					break
				}
			}
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, unix.EINTR):
		case errors.Is(err, unix.ENOBUFS):
			signal()
		default:
			return fmt.Errorf("rib: reading kernel changes: %w", err)
		}
	}
}

// watchBuffer is the kernel change socket's receive buffer.
const watchBuffer = 8 << 20

// ownRoute tells whether a notification is about one of lsrd's own routes.
func ownRoute(typ uint16, data []byte, own *Protocols) bool {
	if typ != unix.RTM_NEWROUTE && typ != unix.RTM_DELROUTE {
		return false
	}
	// struct rtmsg: family, dst_len, src_len, tos, table, protocol, ...
	return len(data) >= unix.SizeofRtMsg && own[data[5]]
}
