// Package vm is lsrd's kernel lab: it boots a stock Debian kernel that has MPLS
// forwarding under qemu (software emulation), lends the guest the host's whole
// userland read-only through 9p with a tmpfs overlay on top, runs one command in
// it and brings back the command's output and exit status through a writable
// share.
//
// It owns the lab cache (.lab/ in the checkout: the unpacked kernel, initramfs
// images, run directories) and the qemu process of each run. It never touches
// the host's network configuration and never leaves a qemu process behind: every
// run has a timeout, and a guest that hangs, panics or fails to load a module is
// reported as such with the tail of its console.
package vm
