package netlinkfib

import (
	"time"
)

// Observer is told what the FIB does with the kernel, for metrics. Its
// methods are called from the goroutine running a pass, with the FIB's lock
// held: they must be quick and must never call the FIB.
type Observer interface {
	// Operation reports one kernel request. kind is the object and what
	// was asked of the kernel: label_add, label_replace, label_delete,
	// nexthop_add, nexthop_replace, nexthop_delete, group_add,
	// group_replace, group_delete, route_add, route_replace, route_delete.
	// result is "ok" or "error". d is the request's latency: requests go
	// to the kernel in pipelined batches, so it is the time from sending
	// the batch that carried it until the kernel acknowledged that batch.
	Operation(kind, result string, d time.Duration)
	// Resync reports a pass that re-read everything lsrd owns from the
	// kernel (at start, periodically, after a failure, and when lsrd's
	// routes changed behind its back).
	Resync()
	// Pass reports a pass that got as far as comparing: scoped when it
	// looked only at the entries the producer named as changed (entries
	// of them), full when it went over the whole desired table; d is the
	// time it took, kernel requests included.
	Pass(scoped bool, entries int, d time.Duration)
	// Rides reports, for a scoped pass, the LSPs whose riding routes
	// (fib.Ride, per address family) moved by rewriting the object they
	// share in place, and those whose routes were compared one by one.
	Rides(inPlace, perRoute int)
	// Error reports one thing a pass could not do. kind is "refused" (the
	// kernel refused a request), "conflict" (another protocol's route
	// holds the prefix), "resolve" (a next hop's interface is missing) or
	// "read" (reading the kernel's state failed).
	Error(kind string)
}

// WithObserver makes the FIB report its kernel requests, resyncs and
// errors to o (default: nobody).
func WithObserver(o Observer) Option { return func(f *FIB) { f.obs = o } }

type nopObserver struct{}

func (nopObserver) Operation(string, string, time.Duration) {}
func (nopObserver) Resync()                                 {}
func (nopObserver) Pass(bool, int, time.Duration)           {}
func (nopObserver) Rides(int, int)                          {}
func (nopObserver) Error(string)                            {}

// errorKind names an ItemError for Observer.Error.
func errorKind(e *ItemError) string {
	switch e.Op {
	case "conflict", "resolve":
		return e.Op
	}
	return "refused"
}
