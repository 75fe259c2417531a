// Package daemon is lsrd's parent, in OpenBSD ldpd's sense: it reads the
// configuration, owns the RIB, starts the LDP speaker, and is the only part
// that hands forwarding state to the kernel layer. It joins the parts with
// plain values: routes and interfaces go to the LDP engine as events, the
// desired LFIB/FTN comes back from it.
//
// One goroutine owns the daemon's state; the speaker, the kernel watcher and
// the control API talk to it through channels. It never speaks LDP itself,
// never decides a label, and never writes a kernel route except through the
// kernel layer.
package daemon
