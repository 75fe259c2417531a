package nlfilter

import (
	"errors"
	"net"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/lsrd/lsrd/internal/netnstest"
	"github.com/lsrd/lsrd/internal/rawsock"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// lab is a namespace of its own with a subscriber to its IPv4 route
// notifications, a socket whose requests the filters may name as their own
// (mine), and a netlink handle that is another socket (theirs).
type lab struct {
	t      *testing.T
	sub    *rawsock.Socket
	mine   *nl.NetlinkSocket
	theirs *netlink.Handle
	lo     int
}

func newLab(t *testing.T, filter func(minePid uint32) []bpf.Instruction) *lab {
	ns := netnstest.New(t)
	l := &lab{t: t}
	var err error
	if l.mine, err = nl.GetNetlinkSocketAt(ns, netns.None(), unix.NETLINK_ROUTE); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.mine.Close)
	l.theirs, l.lo = netnstest.RouteHandle(t, ns)
	pid, err := l.mine.GetPid()
	if err != nil {
		t.Fatal(err)
	}
	var fd int
	if err := netnstest.Do(ns, func() (err error) {
		fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if l.sub, err = Watch(fd, []int{unix.RTNLGRP_IPV4_ROUTE}, filter(pid), 1<<20); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.sub.Close() })
	return l
}

// addTheirs adds 10.0.0.<host>/32 of protocol proto through the other socket.
func (l *lab) addTheirs(host byte, proto netlink.RouteProtocol) {
	l.t.Helper()
	if err := l.theirs.RouteAdd(netnstest.HostRoute(net.IPv4(10, 0, 0, host), l.lo, proto)); err != nil {
		l.t.Fatal(err)
	}
}

// addMine adds 10.0.0.<host>/32 of protocol proto through mine.
func (l *lab) addMine(host byte, proto uint8) {
	l.t.Helper()
	req := nl.NewNetlinkRequest(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_EXCL|unix.NLM_F_ACK)
	msg := nl.NewRtMsg()
	msg.Family, msg.Dst_len, msg.Protocol, msg.Scope = unix.AF_INET, 32, proto, unix.RT_SCOPE_LINK
	req.AddData(msg)
	req.AddData(nl.NewRtAttr(unix.RTA_DST, []byte{10, 0, 0, host}))
	req.AddData(nl.NewRtAttr(unix.RTA_OIF, nl.Uint32Attr(uint32(l.lo))))
	if err := l.mine.Send(req); err != nil {
		l.t.Fatal(err)
	}
	msgs, _, err := l.mine.Receive()
	if err != nil {
		l.t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Header.Type == unix.NLMSG_ERROR {
			if errno := int32(nl.NativeEndian().Uint32(m.Data)); errno != 0 {
				l.t.Fatalf("adding 10.0.0.%d: %v", host, unix.Errno(-errno))
			}
		}
	}
}

// seen returns the last byte of the destination of each route notification
// the subscriber gets until it has been quiet for 200 ms.
func (l *lab) seen() []byte {
	l.t.Helper()
	var hosts []byte
	buf := make([]byte, 4096)
	for {
		// Quiet for 200 ms: nothing more is coming.
		l.sub.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, _, err := l.sub.Read(&buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return hosts
		}
		if err != nil {
			l.t.Fatal(err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			l.t.Fatal(err)
		}
		for _, m := range msgs {
			attrs, err := nl.ParseRouteAttr(m.Data[unix.SizeofRtMsg:])
			if err != nil {
				l.t.Fatal(err)
			}
			for _, a := range attrs {
				if a.Attr.Type == unix.RTA_DST && len(a.Value) == 4 {
					hosts = append(hosts, a.Value[3])
				}
			}
		}
	}
}

// TestDropRoutesOf checks, against the kernel, that the routes of the
// protocols named are dropped and the others delivered.
func TestDropRoutesOf(t *testing.T) {
	for _, c := range []struct {
		name   string
		protos []uint8
		want   []byte
	}{
		{"none named", nil, []byte{1, 2, 3}},
		{"one", []uint8{99}, []byte{2, 3}},
		{"two", []uint8{99, 4}, []byte{2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := newLab(t, func(uint32) []bpf.Instruction { return DropRoutesOf(c.protos) })
			l.addTheirs(1, 99)
			l.addTheirs(2, 100)
			l.addTheirs(3, 4)
			if got := l.seen(); !slices.Equal(got, c.want) {
				t.Errorf("notifications for 10.0.0.%v; want %v", got, c.want)
			}
			if err := l.theirs.RouteDel(netnstest.HostRoute(net.IPv4(10, 0, 0, 1), l.lo, 99)); err != nil {
				t.Fatal(err)
			}
			wantDel := []byte(nil)
			if !slices.Contains(c.protos, 99) {
				wantDel = []byte{1}
			}
			if got := l.seen(); !slices.Equal(got, wantDel) {
				t.Errorf("after deleting 10.0.0.1 (protocol 99): notifications for %v; want %v", got, wantDel)
			}
		})
	}
}

// TestKeepOthersRoutesOf checks, against the kernel, that only the routes
// of the protocol named that another socket added are delivered.
func TestKeepOthersRoutesOf(t *testing.T) {
	l := newLab(t, func(pid uint32) []bpf.Instruction { return KeepOthersRoutesOf(99, pid) })
	l.addMine(1, 99)    // ours, by us: dropped
	l.addTheirs(2, 99)  // ours, by someone else: kept
	l.addTheirs(3, 100) // someone else's: dropped
	l.addMine(4, 100)   // someone else's protocol, by us: dropped
	time.Sleep(50 * time.Millisecond)
	if got, want := l.seen(), []byte{2}; !slices.Equal(got, want) {
		t.Errorf("notifications for 10.0.0.%v; want %v", got, want)
	}
	rs, err := l.theirs.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	var in []byte
	for _, r := range rs {
		if r.Dst != nil && r.Dst.IP.To4()[0] == 10 {
			in = append(in, r.Dst.IP.To4()[3])
		}
	}
	if slices.Sort(in); !slices.Equal(in, []byte{1, 2, 3, 4}) {
		t.Errorf("routes in the kernel: 10.0.0.%v; want all four added", in)
	}
}
