package topo

import (
	"fmt"
	"strconv"

	"github.com/lsrd/lsrd/zerotier"
)

// ZeroTierMTU is the MTU ZeroTier One gives its tap devices: room for an
// Ethernet payload of 1500 bytes and a label stack, with plenty to spare.
const ZeroTierMTU = 2800

// Link joins two routers with a veth pair named "<a>-<b>" in a and "<b>-<a>" in
// b, addresses given with prefix length ("" for none), and returns the two
// interface names.
func (l *Lab) Link(a, b *Router, addrA, addrB string) (string, string) {
	l.t.Helper()
	ifA, ifB := a.Name+"-"+b.Name, b.Name+"-"+a.Name
	l.mustHost("ip", "link", "add", ifA, "netns", a.Name, "type", "veth", "peer", "name", ifB, "netns", b.Name)
	a.up(ifA, addrA)
	b.up(ifB, addrB)
	return ifA, ifB
}

func (r *Router) up(ifname, cidr string) {
	r.lab.t.Helper()
	if cidr != "" {
		r.Run("ip", "addr", "add", cidr, "dev", ifname)
	}
	r.Run("ip", "link", "set", ifname, "up")
}

// Segment is a shared layer-2 segment: a bridge in a namespace of its own, one
// port per attached router.
type Segment struct {
	lab    *Lab
	Name   string // the namespace holding the bridge
	ifname string // the device name every member gets ("" for per-router names)
	mtu    int
}

// Segment creates an empty shared segment with the given MTU.
func (l *Lab) Segment(name string, mtu int) *Segment {
	l.t.Helper()
	l.mustHost("ip", "netns", "add", name)
	l.t.Cleanup(func() { l.host("ip", "netns", "del", name) })
	s := &Segment{lab: l, Name: name, mtu: mtu}
	s.run("ip", "link", "add", "br0", "mtu", strconv.Itoa(mtu), "type", "bridge", "mcast_snooping", "0")
	s.run("ip", "link", "set", "br0", "up")
	return s
}

// ZeroTier creates a ZeroTier-like network: a shared segment whose members all
// get a device named as ZeroTier One names the tap of network nwid ("zt" and
// eight base32 characters), with ZeroTier's MTU.
func (l *Lab) ZeroTier(nwid uint64) *Segment {
	l.t.Helper()
	s := l.Segment(fmt.Sprintf("zt-%016x", nwid), ZeroTierMTU)
	s.ifname = zerotier.DeviceName(nwid)
	return s
}

// Attach connects a router to the segment and returns the router's device
// name: the ZeroTier name on a ZeroTier segment, "<segment>" otherwise.
func (s *Segment) Attach(r *Router, cidr string) string {
	s.lab.t.Helper()
	ifname := s.ifname
	if ifname == "" {
		ifname = s.Name
	}
	mtu := strconv.Itoa(s.mtu)
	s.lab.mustHost("ip", "link", "add", ifname, "mtu", mtu, "netns", r.Name, "type", "veth",
		"peer", "name", r.Name, "mtu", mtu, "netns", s.Name)
	s.run("ip", "link", "set", r.Name, "master", "br0")
	s.run("ip", "link", "set", r.Name, "up")
	r.up(ifname, cidr)
	return ifname
}

func (s *Segment) run(args ...string) {
	s.lab.t.Helper()
	s.lab.mustHost(append([]string{"ip", "netns", "exec", s.Name}, args...)...)
}
