package topo

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// CountRoutes counts the IPv4 routes of the router's main table that carry
// protocol proto (CountRoutes46 without the IPv6 count).
func (r *Router) CountRoutes(proto uint8) (int, error) {
	v4, _, err := r.CountRoutes46(proto)
	return v4, err
}

// CountRoutes46 counts the IPv4 and the IPv6 routes of the router's main
// table that carry protocol proto, from one raw netlink dump read as it
// streams: no route is decoded beyond its header and none is kept, so
// polling a full Internet table stays cheap.
func (r *Router) CountRoutes46(proto uint8) (v4, v6 int, err error) {
	return r.CountRoutesIn(func(t uint8) bool { return t == unix.RT_TABLE_MAIN }, proto)
}

// CountRoutesIn is CountRoutes46 over the tables in says yes to (by the
// 8-bit table number of the route's header: tables up to 255).
func (r *Router) CountRoutesIn(in func(table uint8) bool, proto uint8) (v4, v6 int, err error) {
	err = r.Do(func() error {
		var err error
		v4, v6, err = countRoutes(in, proto)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("topo: %s: counting routes: %w", r.Name, err)
	}
	return v4, v6, nil
}

func countRoutes(in func(uint8) bool, proto uint8) (v4, v6 int, err error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return 0, 0, err
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, 0, err
	}
	// The rtmsg's family is AF_UNSPEC: every family's routes.
	req := nl.NewNetlinkRequest(unix.RTM_GETROUTE, unix.NLM_F_DUMP)
	req.AddData(nl.NewRtMsg())
	if err := unix.Sendto(fd, req.Serialize(), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, 0, err
	}
	buf := make([]byte, 1<<20)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return 0, 0, err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return 0, 0, err
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return v4, v6, nil
			case unix.NLMSG_ERROR:
				return 0, 0, errors.New("route dump refused")
			case unix.RTM_NEWROUTE:
				// struct rtmsg: family, dst_len, src_len, tos, table, protocol, ...
				d := m.Data
				if len(d) < unix.SizeofRtMsg || !in(d[4]) || d[5] != proto {
					continue
				}
				switch d[0] {
				case unix.AF_INET:
					v4++
				case unix.AF_INET6:
					v6++
				}
			}
		}
	}
}
