// Package ldp is lsrd's LDP engine (RFC 5036): discovery (basic hellos on
// interfaces, extended hellos to targeted neighbours), sessions over TCP, and
// the exchange of label messages with neighbouring LSRs.
//
// It owns adjacencies, sessions and their timers, as a deterministic state
// machine: events in (a PDU arrived, a timer fired, an interface or route
// changed, the configuration changed), actions out (send this PDU, these
// bindings changed). Its sub-packages divide the work the way OpenBSD ldpd
// does: ldp/wire is the codec and nothing else; the label decision part (the
// LIB) decides which FEC gets which label from what each neighbour said.
//
// It must never write the kernel (the desired LFIB/FTN goes to netlinkfib
// through lsrd's parent), never decide routes (it takes them from rib), and
// never block on I/O inside the state machine: sockets live at its edges.
//
// The runtime drives an Engine with Handle(now, event) and performs the
// returned actions in order; it calls Handle(now, Tick{}) once at start and
// then at NextDeadline. Conformance cases in testdata/conformance replay
// timed events against expected actions (go test ./ldp -update rewrites
// them).
package ldp
