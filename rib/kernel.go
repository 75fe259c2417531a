package rib

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
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
		p, ok := prefixOf(ad.IPNet)
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

// ReadKernelRoutes lists the unicast routes of the main table that other
// daemons or operators installed (static, boot, and any protocol but the
// kernel's own connected routes and lsrd's), IPv4 and IPv6.
//
// The dump is taken one route at a time: the main table also holds lsrd's
// own routes (100,000 BGP prefixes), and listing them all before dropping
// them kept about 100 MB of decoded routes alive during every re-read.
func ReadKernelRoutes(h *netlink.Handle, ifname func(int) string, own *Protocols) ([]Route, error) {
	var out []Route
	for _, family := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		err := h.RouteListFilteredIter(family, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE, func(r netlink.Route) bool {
			if route, ok := kernelRoute(family, r, ifname, own); ok {
				out = append(out, route)
			}
			return true
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
func ReadTableRoutes(h *netlink.Handle, table uint32, own *Protocols) ([]Route, error) {
	var out []Route
	for _, family := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		err := h.RouteListFilteredIter(family, &netlink.Route{Table: int(table)}, netlink.RT_FILTER_TABLE, func(r netlink.Route) bool {
			if r.Type != unix.RTN_UNICAST || own[uint8(r.Protocol)] || r.Table != int(table) {
				return true
			}
			prefix := defaultPrefix(family)
			if r.Dst != nil {
				var ok bool
				if prefix, ok = prefixOf(r.Dst); !ok {
					return true
				}
			}
			if prefix.Addr().IsLinkLocalUnicast() {
				return true
			}
			out = append(out, Route{Prefix: prefix.Masked(), Source: SourceKernel, Protocol: uint8(r.Protocol)})
			return true
		})
		if err != nil {
			return nil, fmt.Errorf("rib: listing the routes of table %d: %w", table, err)
		}
	}
	return out, nil
}

// kernelRoute is the RIB's route for a kernel route of family, when it is
// one ReadKernelRoutes keeps.
func kernelRoute(family int, r netlink.Route, ifname func(int) string, own *Protocols) (Route, bool) {
	if r.Type != unix.RTN_UNICAST || r.Protocol == unix.RTPROT_KERNEL || own[uint8(r.Protocol)] {
		return Route{}, false
	}
	prefix := defaultPrefix(family)
	if r.Dst != nil {
		var ok bool
		if prefix, ok = prefixOf(r.Dst); !ok {
			return Route{}, false
		}
	}
	// Static routes an operator added by hand are kernel routes too:
	// SourceStatic is lsrd's own configuration.
	route := Route{Prefix: prefix.Masked(), Source: SourceKernel, Distance: DistanceKernel, Protocol: uint8(r.Protocol)}
	add := func(gw net.IP, link int) {
		nh := NextHop{Ifname: ifname(link)}
		if a, ok := netip.AddrFromSlice(gw); ok {
			nh.Addr = a.Unmap()
		}
		route.NextHops = append(route.NextHops, nh)
	}
	if len(r.MultiPath) > 0 {
		for _, p := range r.MultiPath {
			add(p.Gw, p.LinkIndex)
		}
	} else {
		add(r.Gw, r.LinkIndex)
	}
	return route, true
}

func defaultPrefix(family int) netip.Prefix {
	if family == netlink.FAMILY_V6 {
		return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
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
