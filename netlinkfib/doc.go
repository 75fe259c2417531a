// Package netlinkfib is lsrd's kernel layer: it makes the Linux kernel's MPLS
// and IP forwarding match the desired state the rest of lsrd publishes.
//
// It owns every kernel object lsrd installs, marked with lsrd's route
// protocol number: MPLS label routes (swap, pop, ECMP), nexthop objects that
// push labels, and the IP routes that use them. It reconciles desired state
// against what the kernel holds (add, replace, delete the difference, in
// pipelined netlink batches), retries what failed, repairs what changes
// behind its back, and rebuilds from a dump after a restart.
//
// It must never touch a kernel route it does not own, never decide a label or
// a route (it only programs what it is given), and never speak LDP or BGP.
package netlinkfib
