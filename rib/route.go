package rib

import (
	"fmt"
	"net/netip"
)

// Source says where a route was learned.
type Source uint8

// Route sources, each with its default administrative distance.
const (
	SourceConnected Source = iota + 1
	SourceStatic
	SourceKernel
	SourceBGP
)

func (s Source) String() string {
	switch s {
	case SourceConnected:
		return "connected"
	case SourceStatic:
		return "static"
	case SourceKernel:
		return "kernel"
	case SourceBGP:
		return "bgp"
	}
	return fmt.Sprintf("source(%d)", uint8(s))
}

// MarshalText writes the source's name, for the control API's JSON.
func (s Source) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// NextHop is a gateway and the interface it is reached through. A connected
// route has no gateway (Addr is the zero value).
type NextHop struct {
	Addr   netip.Addr `json:"addr"`
	Ifname string     `json:"ifname"`
}

// Route is one route to a prefix from one source.
type Route struct {
	Prefix   netip.Prefix `json:"prefix"`
	Source   Source       `json:"source"`
	Distance uint8        `json:"distance"`
	NextHops []NextHop    `json:"next_hops"`
	// Recursive holds, in a published route, the learned next-hop addresses
	// that were resolved through other routes (a BGP next hop on a remote
	// loopback): the kernel layer pushes the LSP label towards them.
	Recursive []netip.Addr `json:"recursive_next_hops,omitempty"`
	// Labels are labels the source asks to push, outermost first: the label
	// a BGP labelled-unicast peer advertised (RFC 8277). The kernel layer
	// pushes them under the LSP label towards the next hop.
	Labels []uint32 `json:"labels,omitempty"`
	// Protocol is a kernel route's protocol number (rtm_protocol: 188
	// for zebra's OSPF routes, 12 for BIRD's), for the label policy.
	Protocol uint8 `json:"protocol,omitempty"`
}
