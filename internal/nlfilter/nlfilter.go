// Package nlfilter keeps route notifications a watcher would only throw
// away out of its netlink socket: a classic BPF program attached to the
// socket (SO_ATTACH_FILTER) drops them in the kernel, before they are
// queued, so that lsrd installing 100,000 routes does not wake each of its
// watchers 100,000 times to read its own writes back.
//
// A filter looks at the first message of each datagram only. rtnetlink
// sends every notification (route, nexthop, link, address) in a datagram
// of its own, so on a socket that only joins multicast groups the first
// message is the only one.
package nlfilter

import (
	"encoding/binary"
	"fmt"

	"github.com/lsrd/lsrd/internal/rawsock"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Offsets into a datagram: struct nlmsghdr (len u32, type u16, flags u16,
// seq u32, pid u32), then struct rtmsg (family, dst_len, src_len, tos,
// table, protocol, ...).
const (
	offType     = 4
	offPid      = 12
	offProtocol = unix.SizeofNlMsghdr + 5
)

const (
	keep = 0xffffffff // the whole datagram
	drop = 0
)

// native16 and native32 are v as classic BPF loads it: the kernel's
// netlink headers are in host byte order, BPF loads in network order.
func native16(v uint16) uint32 {
	var b [2]byte
	binary.NativeEndian.PutUint16(b[:], v)
	return uint32(binary.BigEndian.Uint16(b[:]))
}

func native32(v uint32) uint32 {
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], v)
	return binary.BigEndian.Uint32(b[:])
}

// DropRoutesOf drops RTM_NEWROUTE and RTM_DELROUTE notifications of the
// given route protocols (rtm_protocol) and keeps everything else.
func DropRoutesOf(protocols []uint8) []bpf.Instruction {
	n := len(protocols)
	prog := []bpf.Instruction{
		bpf.LoadAbsolute{Off: offType, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: native16(unix.RTM_NEWROUTE), SkipTrue: 1},
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: native16(unix.RTM_DELROUTE), SkipTrue: uint8(n + 1)},
		bpf.LoadAbsolute{Off: offProtocol, Size: 1},
	}
	for i, p := range protocols {
		// Equal: to the drop at the end (past the remaining tests and
		// the keep).
		prog = append(prog, bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(p), SkipTrue: uint8(n - i)})
	}
	return append(prog, bpf.RetConstant{Val: keep}, bpf.RetConstant{Val: drop})
}

// KeepOthersRoutesOf keeps, of the route notifications, those of route
// protocol protocol that another socket than portid caused, and drops the
// rest; of other notifications it drops those portid caused (the answers
// to its own requests) and keeps everything else.
func KeepOthersRoutesOf(protocol uint8, portid uint32) []bpf.Instruction {
	return []bpf.Instruction{
		bpf.LoadAbsolute{Off: offPid, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: native32(portid), SkipTrue: 6}, // to the drop
		bpf.LoadAbsolute{Off: offType, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: native16(unix.RTM_NEWROUTE), SkipTrue: 1},
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: native16(unix.RTM_DELROUTE), SkipTrue: 2}, // to the keep
		bpf.LoadAbsolute{Off: offProtocol, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: uint32(protocol), SkipTrue: 1}, // to the drop
		bpf.RetConstant{Val: keep},
		bpf.RetConstant{Val: drop},
	}
}

// Watch makes fd, a NETLINK_ROUTE socket just opened (in the namespace
// to watch), a watch socket: bound, joined to groups, filtered by prog
// (nil: no filter), with a receive buffer of rcvbuf bytes (forced past
// rmem_max when lsrd has CAP_NET_ADMIN), and read through the runtime's
// poller (rawsock), so that an idle watcher costs nothing and Close ends
// its read. fd is closed when Watch fails.
func Watch(fd int, groups []int, prog []bpf.Instruction, rcvbuf int) (*rawsock.Socket, error) {
	err := func() error {
		if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			return err
		}
		for _, g := range groups {
			if err := unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, g); err != nil {
				return fmt.Errorf("joining group %d: %w", g, err)
			}
		}
		if prog != nil {
			if err := rawsock.Attach(fd, prog); err != nil {
				return err
			}
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvbuf); err != nil {
			_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf)
		}
		return nil
	}()
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netlink watch socket: %w", err)
	}
	return rawsock.New(fd, "netlink watch")
}
