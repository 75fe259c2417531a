// Package topo builds router topologies inside the kernel lab for Go tests:
// routers as network namespaces, point-to-point links (veth), shared segments
// (a bridge in a namespace of its own), ZeroTier-like interfaces (named as
// ZeroTier One names them, MTU 2800, on a shared layer-2 segment), MPLS
// forwarding switched on, and real peers: FRR (zebra, staticd, ldpd, bgpd) and
// gobgpd.
//
// It owns everything it creates and removes it in the test's cleanup, even when
// the test fails, so that the next test in the same guest starts clean. It must
// only ever run inside the lab guest (LSRD_LAB=1): it rewrites network
// namespaces, sysctls and /etc/frr, which a developer's host must never see.
package topo
