// Package rib is lsrd's routing information base: which IP routes exist and
// which one is best for each prefix.
//
// It owns the routes learned from every source (connected prefixes and
// interface state, routes other daemons or operators put in the kernel,
// static routes from the configuration, BGP), the choice of the best route
// per prefix by administrative distance, recursive next-hop resolution, and
// the change events its subscribers (the LDP engine's FEC set, the kernel
// layer) receive.
//
// It must never allocate labels (that is the LDP engine's label decision
// part) and never write the kernel (that is netlinkfib's alone).
package rib
