package rib

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Interface is a kernel interface as the RIB and the LDP engine see it.
type Interface struct {
	Name  string
	Index int
	Up    bool
	MTU   int
	Addrs []netip.Prefix
	// InVRF says the interface is a VRF device or enslaved to one: a
	// customer's, outside the global table LDP and the RIB work in.
	InVRF bool
}

// Protocols is a set of route protocol numbers.
type Protocols [256]bool

// ProtocolSet returns the set of ps. lsrd's own (its route protocol, and
// the number it used before) is such a set: the RIB never learns its own
// routes back.
func ProtocolSet(ps ...uint8) *Protocols {
	var s Protocols
	for _, p := range ps {
		s[p] = true
	}
	return &s
}

// Default administrative distances, as FRR uses them.
const (
	DistanceConnected = 0
	DistanceStatic    = 1
	DistanceEBGP      = 20
	DistanceKernel    = 0 // FRR treats routes other daemons put in the kernel as preferred
	DistanceIBGP      = 200
)

// ReadInterfaces lists the interfaces of the namespace h works in, with their
// IPv4 and IPv6 addresses (link-local IPv6 left out: they name no FEC).
func ReadInterfaces(h *netlink.Handle) ([]Interface, error) {
	links, err := h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("rib: listing interfaces: %w", err)
	}
	// One dump of every address, grouped by interface: AddrList of one
	// link dumps them all and filters, so asking per link read 50,000
	// addresses on 50 devices 50 times over.
	addrs, err := h.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("rib: listing addresses: %w", err)
	}
	byIndex := map[int][]netip.Prefix{}
	for _, ad := range addrs {
		p, ok := PrefixOf(ad.IPNet)
		// Link-local IPv6 addresses stay (LDP advertises them: IPv6
		// next hops are link-local); IPv4 link-local ones and
		// addresses not usable yet (duplicate address detection) go.
		if !ok || (p.Addr().Is4() && p.Addr().IsLinkLocalUnicast()) || ad.Flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) != 0 {
			continue
		}
		byIndex[ad.LinkIndex] = append(byIndex[ad.LinkIndex], p)
	}
	vrfs := map[int]bool{}
	for _, l := range links {
		if l.Type() == "vrf" {
			vrfs[l.Attrs().Index] = true
		}
	}
	var out []Interface
	for _, l := range links {
		a := l.Attrs()
		out = append(out, Interface{Name: a.Name, Index: a.Index, MTU: a.MTU, Up: a.Flags&net.FlagUp != 0 && a.OperState != netlink.OperDown,
			Addrs: byIndex[a.Index], InVRF: vrfs[a.Index] || vrfs[a.MasterIndex]})
	}
	return out, nil
}

// ConnectedRoutes derives the connected routes from interface addresses: the
// subnet of each address on an interface that is up. A /32 on the loopback is
// a connected route too, which is how an LSR's own loopback becomes a FEC.
func ConnectedRoutes(ifaces []Interface) []Route {
	var out []Route
	for _, ifc := range ifaces {
		if !ifc.Up {
			continue
		}
		for _, a := range ifc.Addrs {
			if a.Addr().IsLoopback() || a.Addr().IsLinkLocalUnicast() {
				continue
			}
			out = append(out, Route{
				Prefix: a.Masked(), Source: SourceConnected, Distance: DistanceConnected,
				NextHops: []NextHop{{Ifname: ifc.Name}},
			})
		}
	}
	return out
}

// ReadKernelRoutes lists the unicast routes of the main table of the
// network namespace ns (the current one when ns is not open) that other
// daemons or operators installed (static, boot, and any protocol but the
// kernel's own connected routes and lsrd's), IPv4 and IPv6.
//
// The main table also holds lsrd's own routes (a full BGP table): they are
// told apart by the route message's fixed header and never decoded, so a
// re-read costs little per route of lsrd's (decoding each took about
// 2 µs, 100 ms for 50,000 on the development machine, and a re-read
// follows every change of another daemon's routes).
func ReadKernelRoutes(ns netns.NsHandle, ifname func(int) string, own *Protocols) ([]Route, error) {
	var out []Route
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		err := dumpRoutes(ns, family, func(b []byte) error {
			m, err := rtmHeader(b)
			if err != nil {
				return err
			}
			if m.family != family || !m.othersInMain(own) {
				return nil
			}
			if err := decodeRouteAttrs(&m, b); err != nil {
				return err
			}
			if route, ok := kernelRoute(m, ifname); ok {
				out = append(out, route)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("rib: listing kernel routes: %w", err)
		}
	}
	return out, nil
}

// ReadTableRoutes lists the unicast routes of a table (a VRF's) that lsrd
// did not install, IPv4 and IPv6, the kernel's own connected routes
// included (Protocol RTPROT_KERNEL); IPv6 link-local prefixes left out.
func ReadTableRoutes(ns netns.NsHandle, table uint32, ifname func(int) string, own *Protocols) ([]Route, error) {
	var out []Route
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		err := dumpRoutes(ns, family, func(b []byte) error {
			m, err := rtmHeader(b)
			if err != nil {
				return err
			}
			// Tables above 255 are named by an attribute only.
			if m.family != family || m.flags&unix.RTM_F_CLONED != 0 || m.typ != unix.RTN_UNICAST || own[m.protocol] ||
				m.table != table && m.table != unix.RT_TABLE_COMPAT {
				return nil
			}
			if err := decodeRouteAttrs(&m, b); err != nil {
				return err
			}
			prefix, ok := m.prefix()
			if !ok || m.table != table || prefix.Addr().IsLinkLocalUnicast() {
				return nil
			}
			out = append(out, Route{Prefix: prefix, Source: SourceKernel, Protocol: m.protocol, NextHops: nextHops(m, ifname)})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("rib: listing the routes of table %d: %w", table, err)
		}
	}
	return out, nil
}

// othersInMain tells, from the header alone, whether m is a route
// ReadKernelRoutes keeps: unicast, in the main table, not cloned, neither
// the kernel's own (connected) nor of a protocol in own.
func (m kernelRouteMsg) othersInMain(own *Protocols) bool {
	return m.flags&unix.RTM_F_CLONED == 0 && m.table == unix.RT_TABLE_MAIN && m.typ == unix.RTN_UNICAST &&
		m.protocol != unix.RTPROT_KERNEL && !own[m.protocol]
}

// prefix is m's destination, masked (the default route when it has none).
func (m kernelRouteMsg) prefix() (netip.Prefix, bool) {
	if !m.dst.IsValid() {
		if m.family == unix.AF_INET6 {
			return netip.PrefixFrom(netip.IPv6Unspecified(), 0), true
		}
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0), true
	}
	a, bits := m.dst, int(m.dstLen)
	if a.Is4In6() {
		a, bits = a.Unmap(), bits-96
	}
	p := netip.PrefixFrom(a, bits)
	if !p.IsValid() {
		return netip.Prefix{}, false
	}
	return p.Masked(), true
}

// kernelRoute is the RIB's route for another's kernel route m (header and
// attributes decoded).
func kernelRoute(m kernelRouteMsg, ifname func(int) string) (Route, bool) {
	prefix, ok := m.prefix()
	if !ok {
		return Route{}, false
	}
	// Static routes an operator added by hand are kernel routes too:
	// SourceStatic is lsrd's own configuration.
	return Route{Prefix: prefix, Source: SourceKernel, Distance: DistanceKernel, Protocol: m.protocol,
		NextHops: nextHops(m, ifname)}, true
}

// nextHops is m's next hops: interface, and gateway when there is one.
func nextHops(m kernelRouteMsg, ifname func(int) string) []NextHop {
	out := make([]NextHop, 0, len(m.hops))
	for _, h := range m.hops {
		nh := NextHop{Ifname: ifname(h.ifindex)}
		if h.gw.IsValid() {
			nh.Addr = h.gw.Unmap()
		}
		out = append(out, nh)
	}
	return out
}

// PrefixOf is n as a prefix (an IPv4 address held in 16 bytes with a
// 128-bit mask included), false for nil or a non-CIDR mask.
func PrefixOf(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	ones, bits := n.Mask.Size()
	if bits == 0 {
		return netip.Prefix{}, false
	}
	if a.Is4() && bits == 128 {
		ones -= 96
	}
	return netip.PrefixFrom(a, ones), true
}
