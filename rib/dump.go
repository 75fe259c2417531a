package rib

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"runtime"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/lsrd/lsrd/internal/rtattr"
)

// kernelRouteMsg is the part of an RTM_NEWROUTE the RIB reads: enough to
// tell whose route it is from the fixed header alone, so that a dump of a
// table holding lsrd's own million routes decodes none of them.
type kernelRouteMsg struct {
	family, dstLen, protocol, typ uint8
	table                         uint32
	flags                         uint32
	dst                           netip.Addr // invalid: the default route
	hops                          []kernelHop
}

type kernelHop struct {
	gw      netip.Addr // invalid: none (a device route)
	ifindex int
}

var errShortRoute = errors.New("route message shorter than its header")

// rtmHeader reads struct rtmsg: family, dst_len, src_len, tos, table,
// protocol, scope, type, flags (u32).
func rtmHeader(b []byte) (kernelRouteMsg, error) {
	if len(b) < unix.SizeofRtMsg {
		return kernelRouteMsg{}, errShortRoute
	}
	return kernelRouteMsg{family: b[0], dstLen: b[1], table: uint32(b[4]), protocol: b[5], typ: b[7],
		flags: binary.NativeEndian.Uint32(b[8:12])}, nil
}

// decodeRouteAttrs fills m's table (RTA_TABLE, for tables above 255),
// destination and next hops (RTA_GATEWAY and RTA_OIF, or RTA_MULTIPATH)
// from the attributes of an RTM_NEWROUTE payload b.
func decodeRouteAttrs(m *kernelRouteMsg, b []byte) error {
	var single kernelHop
	err := rtattr.Each(b[unix.SizeofRtMsg:], func(typ uint16, v []byte) error {
		switch typ {
		case unix.RTA_TABLE:
			if len(v) < 4 {
				return fmt.Errorf("RTA_TABLE of %d bytes", len(v))
			}
			m.table = binary.NativeEndian.Uint32(v)
		case unix.RTA_DST:
			a, err := rtattr.Addr("RTA_DST", v)
			if err != nil {
				return err
			}
			m.dst = a
		case unix.RTA_GATEWAY:
			a, err := rtattr.Addr("RTA_GATEWAY", v)
			if err != nil {
				return err
			}
			single.gw = a
		case unix.RTA_OIF:
			if len(v) < 4 {
				return fmt.Errorf("RTA_OIF of %d bytes", len(v))
			}
			single.ifindex = int(binary.NativeEndian.Uint32(v))
		case unix.RTA_MULTIPATH:
			return rtattr.EachNexthop(v, func(ifindex int, attrs []byte) error {
				m.hops = append(m.hops, kernelHop{ifindex: ifindex})
				return rtattr.Each(attrs, func(typ uint16, a []byte) error {
					if typ == unix.RTA_GATEWAY {
						gw, err := rtattr.Addr("RTA_GATEWAY", a)
						if err != nil {
							return err
						}
						m.hops[len(m.hops)-1].gw = gw
					}
					return nil
				})
			})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(m.hops) == 0 {
		m.hops = []kernelHop{single}
	}
	return nil
}

// dumpRoutes dumps the routes of family (AF_INET, AF_INET6) in the network
// namespace ns (the current one when ns is not open) and calls f with each
// RTM_NEWROUTE payload, valid only during the call. A dump the kernel
// marks interrupted by a concurrent change is taken again, up to 5 times.
func dumpRoutes(ns netns.NsHandle, family uint8, f func(b []byte) error) error {
	fd, err := routeSocket(ns)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	for attempt := 0; ; attempt++ {
		err := dumpOnce(fd, uint32(attempt+1), family, f)
		if !errors.Is(err, errInterrupted) || attempt == 4 {
			return err
		}
	}
}

var errInterrupted = errors.New("route dump interrupted by a concurrent change")

func routeSocket(ns netns.NsHandle) (int, error) {
	open := func() (int, error) {
		return unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	}
	if !ns.IsOpen() {
		fd, err := open()
		if err != nil {
			return -1, fmt.Errorf("rib: netlink socket: %w", err)
		}
		return fd, nil
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return -1, fmt.Errorf("rib: reading the current network namespace: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(ns); err != nil {
		return -1, fmt.Errorf("rib: entering network namespace %s: %w", ns, err)
	}
	fd, err := open()
	if serr := netns.Set(orig); serr != nil {
		// Keep the thread locked: the runtime ends it with this
		// goroutine rather than let it run elsewhere in ns.
		runtime.LockOSThread()
		if err == nil {
			unix.Close(fd)
		}
		return -1, fmt.Errorf("rib: returning from network namespace %s: %w", ns, serr)
	}
	if err != nil {
		return -1, fmt.Errorf("rib: netlink socket in %s: %w", ns, err)
	}
	return fd, nil
}

func dumpOnce(fd int, seq uint32, family uint8, f func(b []byte) error) error {
	req := make([]byte, unix.SizeofNlMsghdr+unix.SizeofRtMsg)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], unix.RTM_GETROUTE)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(req[8:], seq)
	req[unix.SizeofNlMsghdr] = family
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("rib: sending the route dump request: %w", err)
	}
	buf := make([]byte, 1<<20)
	var interrupted bool
	var ferr error
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("rib: reading the route dump: %w", err)
		}
		b := buf[:n]
		for len(b) >= unix.SizeofNlMsghdr {
			l := int(ne.Uint32(b))
			if l < unix.SizeofNlMsghdr || l > len(b) {
				return fmt.Errorf("rib: netlink message of %d bytes in %d", l, len(b))
			}
			typ, flags, mseq := ne.Uint16(b[4:]), ne.Uint16(b[6:]), ne.Uint32(b[8:])
			payload := b[unix.SizeofNlMsghdr:l]
			b = b[min((l+unix.NLMSG_ALIGNTO-1)&^(unix.NLMSG_ALIGNTO-1), len(b)):]
			if mseq != seq {
				continue
			}
			if flags&unix.NLM_F_DUMP_INTR != 0 {
				interrupted = true
			}
			switch typ {
			case unix.NLMSG_DONE:
				if interrupted {
					return errInterrupted
				}
				return ferr
			case unix.NLMSG_ERROR:
				if len(payload) >= 4 {
					if errno := -int32(ne.Uint32(payload)); errno != 0 {
						return fmt.Errorf("rib: route dump: %w", unix.Errno(errno))
					}
				}
				return ferr
			case unix.RTM_NEWROUTE:
				if ferr == nil {
					ferr = f(payload)
				}
			}
		}
	}
}
