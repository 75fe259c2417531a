// Package transport is the LDP engine's edge to the network: the UDP socket
// that sends and receives hellos (multicast to 224.0.0.2 on each LDP
// interface, unicast for targeted neighbours) and the TCP connections that
// carry sessions on port 646.
//
// It owns sockets and the goroutines that read and write them, and reports
// what arrives as plain values. It never parses or decides anything about LDP:
// bytes in, bytes out. The engine (package ldp) decides; lsrd's parent joins
// the two.
package transport

import "net/netip"

// Port is LDP's well-known port for discovery (UDP) and sessions (TCP), RFC
// 5036 section 3.10.
const Port = 646

// AllRouters is the group basic hellos are sent to, "all routers on this
// subnet" (RFC 5036 section 2.4.1).
var AllRouters = netip.MustParseAddr("224.0.0.2")
