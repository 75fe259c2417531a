package oam

import (
	"errors"
	"fmt"
	"net"

	"net/netip"

	"github.com/lsrd/lsrd/internal/rawsock"
	"github.com/vishvananda/netlink"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Ethertypes the sockets listen for and send.
const (
	etherIPv4 = 0x0800
	etherMPLS = 0x8847
)

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// packetSocket is an AF_PACKET datagram socket: frames without their
// link-layer header, with the receiving interface and the packet type.
type packetSocket struct {
	s *rawsock.Socket
}

// frame is one received packet: its network-layer bytes and where it came
// from.
type frame struct {
	data    []byte
	ifindex int
	srcMAC  net.HardwareAddr
}

// listenPacket opens a datagram packet socket for ethertype proto on every
// interface, with filter run by the kernel before anything is queued. Its
// reader waits in the runtime's poller (rawsock): nothing wakes it but a
// frame, its deadline or Close.
func listenPacket(proto uint16, filter []bpf.Instruction) (*packetSocket, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, int(htons(proto)))
	if err != nil {
		return nil, fmt.Errorf("packet socket for ethertype %#04x: %w", proto, err)
	}
	if filter != nil {
		if err := rawsock.Attach(fd, filter); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("packet socket for ethertype %#04x: %w", proto, err)
		}
	}
	return wrapPacket(fd, fmt.Sprintf("packet socket %#04x", proto))
}

// sendSocket opens a packet socket that only sends.
func sendSocket() (*packetSocket, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("packet socket for sending: %w", err)
	}
	return wrapPacket(fd, "packet socket for sending")
}

func wrapPacket(fd int, name string) (*packetSocket, error) {
	s, err := rawsock.New(fd, name)
	if err != nil {
		return nil, err
	}
	return &packetSocket{s: s}, nil
}

// recv reads one frame that arrived from another host (never one this host
// sent), into buf.
func (s *packetSocket) recv(buf []byte) (frame, error) {
	for {
		n, from, err := s.s.Recvfrom(buf, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return frame{}, err
		}
		ll, ok := from.(*unix.SockaddrLinklayer)
		if !ok || ll.Pkttype == unix.PACKET_OUTGOING || n > len(buf) {
			continue
		}
		f := frame{data: buf[:n], ifindex: ll.Ifindex}
		if ll.Halen == 6 {
			f.srcMAC = net.HardwareAddr(append([]byte(nil), ll.Addr[:6]...))
		}
		return f, nil
	}
}

// send puts payload, of ethertype proto, on interface ifindex towards the
// link-layer address dst.
func (s *packetSocket) send(payload []byte, proto uint16, ifindex int, dst net.HardwareAddr) error {
	ll := &unix.SockaddrLinklayer{Protocol: htons(proto), Ifindex: ifindex, Halen: uint8(len(dst))}
	copy(ll.Addr[:], dst)
	return s.s.Sendto(payload, 0, ll)
}

// Close closes the socket.
func (s *packetSocket) Close() error { return s.s.Close() }

// mplsExpiring accepts MPLS packets whose top label's TTL is 0 or 1: the
// ones the kernel drops on expiry, among them traceroute's probes. Others
// never leave the kernel.
var mplsExpiring = []bpf.Instruction{
	bpf.LoadAbsolute{Off: 3, Size: 1}, // TTL of the top entry
	bpf.JumpIf{Cond: bpf.JumpGreaterThan, Val: 1, SkipTrue: 1},
	bpf.RetConstant{Val: 0xffff},
	bpf.RetConstant{Val: 0},
}

// ipToLoopbackEcho accepts IPv4 UDP packets to 127/8 port 3503: echo
// requests arriving unlabelled at the egress (after the penultimate hop
// popped the label), which the kernel itself drops as martians.
var ipToLoopbackEcho = []bpf.Instruction{
	bpf.LoadAbsolute{Off: 9, Size: 1}, // protocol
	bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: unix.IPPROTO_UDP, SkipTrue: 6},
	bpf.LoadAbsolute{Off: 16, Size: 1}, // first byte of the destination
	bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 127, SkipTrue: 4},
	bpf.LoadMemShift{Off: 0}, // X = IP header length
	bpf.LoadIndirect{Off: 2, Size: 2},
	bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 3503, SkipTrue: 1},
	bpf.RetConstant{Val: 0xffff},
	bpf.RetConstant{Val: 0},
}

// lookupNeighbour returns nh's link-layer address on ifindex from the
// kernel's neighbour table, if it has a usable one.
func lookupNeighbour(ifindex int, nh netip.Addr) (net.HardwareAddr, bool) {
	family := netlink.FAMILY_V4
	if nh.Is6() {
		family = netlink.FAMILY_V6
	}
	ns, err := netlink.NeighList(ifindex, family)
	if err != nil {
		return nil, false
	}
	for _, n := range ns {
		if a, ok := netip.AddrFromSlice(n.IP); ok && a.Unmap() == nh.Unmap() && len(n.HardwareAddr) == 6 &&
			n.State&(netlink.NUD_INCOMPLETE|netlink.NUD_FAILED) == 0 {
			return n.HardwareAddr, true
		}
	}
	return nil, false
}
