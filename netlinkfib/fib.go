package netlinkfib

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsrd/lsrd/fib"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// FIB reconciles the kernel's MPLS and IP forwarding with lsrd's desired
// table. Producers publish whole snapshots; the FIB compares each with what
// the kernel holds (never with the previous snapshot), so a failed or lost
// change is simply found again by the next pass.
//
// Two ways to drive it, on the same state:
//   - Apply(ctx, t) programs t now and returns what failed (tests, tools,
//     and a daemon that wants to wait for the kernel);
//   - Set(t) publishes t and returns at once; Run(ctx) reconciles after each
//     Set, retries failures with exponential backoff, re-reads the kernel
//     periodically and whenever a kernel notification says something of
//     lsrd's changed behind its back.
//
// All methods are safe for concurrent use; kernel passes are serialized.
type FIB struct {
	log     *slog.Logger
	ns      netns.NsHandle
	own     owner
	target  routeTarget // lsrd's own routes (main table by default)
	ingress routeTarget // labelled copies of others' routes; table 0: none
	// vrf: a VRF's FIB (WithVRF): IP routes in its table only, no label
	// routes, its own slot of nexthop IDs.
	vrf            bool
	rulePriority   int // of the rule that sends lookups to the ingress table
	backoffMin     time.Duration
	backoffMax     time.Duration
	resyncInterval time.Duration
	obs            Observer

	mu    sync.Mutex // serializes passes and guards everything below
	c     *conn
	rules *netlink.Handle // for the ingress table's rules; opened on first use
	// rulesWanted is what the last syncRules left in place (IPv4, IPv6);
	// rulesKnown says it still holds, until the kernel is re-read.
	rulesKnown  bool
	rulesWanted [2]bool
	desired     *fib.Table
	have        *kernelState
	// The last pass's desired table in kernel terms, with the entries it
	// could not resolve; a scoped pass patches them (wantValid: they
	// match desired), and links is the interface map they were resolved
	// with.
	want      desiredState
	wantErrs  Errors
	wantValid bool
	links     map[string]int
	// scoped and full count the passes of each kind (Status).
	scopedPasses, fullPasses uint64
	lastScoped               bool
	stale                    bool   // have must be re-read from the kernel before the next diff
	nextID                   uint32 // where the ID allocator goes on searching
	sent                     int    // requests the last pass sent
	total                    uint64 // requests sent since New
	// time the last pass spent programming the kernel
	kernelTime time.Duration

	dirty atomic.Bool // the watcher saw a change of lsrd's it did not make

	// A previous run's state, kept until the sweep (stale.go); nil when
	// nothing was adopted or once swept. adopted says whether the first
	// read of the kernel (which adopts) has happened.
	keep       *adoption
	adopted    bool
	staleCount int    // what a sweep would delete, as of the last pass
	sweepAsked string // a sweep taken from the slot, not done yet (a pass failed before it)

	// What the producer published and no pass took yet: a whole table
	// (Set) and the changes after it, or after the table the last pass
	// took (Change). It has a lock of its own so that neither waits for a
	// pass (seconds at 100,000 routes): the parent must not stall on the
	// kernel.
	slot      sync.Mutex
	next      *fib.Table
	nextDelta *fib.Delta
	// sweep is the reason the parent gave in SweepStale, not yet acted on
	// by a pass ("" when none): in the slot, so the sweep pass takes the
	// table published before it.
	sweep string
	// status is the view Status returns, replaced after each pass so that
	// operators and metrics never wait for one either.
	status atomic.Pointer[Status]
	// view guards what Installed reads: desired (the pass in progress
	// changes it only under view, when it takes what was published), the
	// entries taken but not yet programmed (pendingAll, pending), and what
	// the last pass that got to the kernel failed.
	view       sync.RWMutex
	pendingAll bool
	pending    scope
	failed     scope
	passed     bool // a pass got to the kernel

	kick chan struct{} // Set and the watcher wake Run
}

// Option configures a FIB.
type Option func(*FIB)

// WithNetNS makes the FIB open its netlink sockets (and write its sysctls)
// in ns instead of the process's namespace: the lab runs one FIB per router
// namespace from the guest's root namespace. New keeps a duplicate of the
// handle (the watcher opens sockets later), so the caller may close its own.
func WithNetNS(ns netns.NsHandle) Option { return func(f *FIB) { f.ns = ns } }

// WithLogger sets the structured logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(f *FIB) { f.log = l } }

// WithProtocol sets the route and nexthop protocol number lsrd's objects
// carry (default DefaultProtocol), and with it the block of nexthop IDs.
func WithProtocol(proto uint8) Option { return func(f *FIB) { f.own = newOwner(proto, f.own.legacy) } }

// WithLegacyProtocol names a number an earlier lsrd used (LegacyProtocol by
// default; 0 for none): what the first read finds of it is adopted and
// moved to lsrd's own number, and after the sweep it is left alone.
func WithLegacyProtocol(proto uint8) Option {
	return func(f *FIB) { f.own = newOwner(f.own.proto, proto) }
}

// WithIngressTable gives lsrd a routing table of its own for the labelled
// copies of other daemons' routes (fib.FTNEntry.Foreign), with a policy
// rule at priority that looks it up before the main table. Table 0 (the
// default) disables them.
func WithIngressTable(table uint32, priority int) Option {
	return func(f *FIB) { f.ingress.table, f.rulePriority = table, priority }
}

// WithVRF makes the FIB a VRF's: its IP routes go in table (the VRF's), it
// never reads or writes label routes (the main FIB has them all), and its
// nexthop objects come from a slot of IDs of their own (the table modulo
// VRFSlots; two VRFs' tables must differ there), so that FIBs of the same
// protocol never take each other's objects for garbage. No legacy
// protocol is adopted and no ingress table is kept.
func WithVRF(table uint32) Option {
	return func(f *FIB) { f.target.table, f.vrf = table, true }
}

// WithRouteTable puts lsrd's IP routes in table (default main, 254).
func WithRouteTable(table uint32) Option { return func(f *FIB) { f.target.table = table } }

// WithRouteMetric gives lsrd's IP routes a metric (default 0). A route of
// another protocol with the same prefix, table and metric is a conflict lsrd
// reports and never overwrites; a different metric lets both exist.
func WithRouteMetric(metric uint32) Option { return func(f *FIB) { f.target.metric = metric } }

// WithBackoff bounds the delay before Run retries a failed pass (default
// 100 ms doubling to 30 s).
func WithBackoff(minDelay, maxDelay time.Duration) Option {
	return func(f *FIB) { f.backoffMin, f.backoffMax = minDelay, maxDelay }
}

// WithResyncInterval sets how often Run re-reads the whole kernel state even
// without a reason (default 5 minutes; 0 disables). The kernel drops routes
// silently when an interface goes away; this finds them.
func WithResyncInterval(d time.Duration) Option { return func(f *FIB) { f.resyncInterval = d } }

// New opens the FIB's netlink socket. It does not touch the kernel's tables:
// the first pass (or Adopt) reads them and adopts what an earlier run left,
// which then stays until SweepStale.
func New(opts ...Option) (*FIB, error) {
	f := &FIB{
		log:            slog.Default(),
		ns:             netns.None(),
		own:            newOwner(DefaultProtocol, LegacyProtocol),
		target:         routeTarget{table: unix.RT_TABLE_MAIN},
		backoffMin:     100 * time.Millisecond,
		backoffMax:     30 * time.Second,
		resyncInterval: 5 * time.Minute,
		desired:        fib.NewTable(),
		have:           newKernelState(),
		stale:          true,
		kick:           make(chan struct{}, 1),
		obs:            nopObserver{},
	}
	for _, o := range opts {
		o(f)
	}
	if f.vrf {
		f.own = owner{proto: f.own.proto, block: vrfBlockOf(f.own.proto, f.target.table)}
		f.ingress.table = 0
	}
	f.target.proto, f.ingress.proto = f.own.proto, f.own.proto
	f.nextID = f.own.block.first
	if f.ingress.table == f.target.table {
		f.ingress.table = 0 // one table cannot be both
	}
	if f.ns.IsOpen() {
		fd, err := unix.FcntlInt(uintptr(f.ns), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("netlinkfib: keeping the namespace handle: %w", err)
		}
		f.ns = netns.NsHandle(fd)
	}
	c, err := dial(f.ns)
	if err != nil {
		f.ns.Close()
		return nil, fmt.Errorf("netlinkfib: %w", err)
	}
	f.c = c
	return f, nil
}

// Close closes the netlink socket. It leaves the kernel as it is: call Flush
// first to remove lsrd's routes.
func (f *FIB) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ns.IsOpen() {
		f.ns.Close()
	}
	if f.rules != nil {
		f.rules.Close()
	}
	return f.c.close()
}

// Set publishes a new desired table for Run and returns at once. The FIB
// keeps t and changes it with the deltas that follow (Change): the caller
// must not touch it afterwards.
func (f *FIB) Set(t *fib.Table) {
	f.slot.Lock()
	f.next, f.nextDelta = t, nil
	f.slot.Unlock()
	f.wake()
}

// Change publishes what changed since the table or changes published
// before, and returns at once. The next pass then resolves and compares
// only those entries, when the rest can be trusted (reconcile), so its
// cost follows the change, not the table. The FIB keeps d; the entries are
// the producer's, never changed in place (fib.Delta). Before any Set,
// changes amend an empty table.
func (f *FIB) Change(d *fib.Delta) {
	if d.Empty() {
		return
	}
	f.slot.Lock()
	if f.nextDelta == nil {
		f.nextDelta = d
	} else {
		f.nextDelta.Merge(d)
	}
	f.slot.Unlock()
	f.wake()
}

// takeNext brings desired up to what was published, and returns the scope
// of what changed since the last pass's (nil: anything; empty when nothing
// was published) and the reason of a sweep SweepStale asked for ("" for
// none); called with f.mu held at the start of a pass.
func (f *FIB) takeNext() (changed *scope, sweep string) {
	f.slot.Lock()
	t, d := f.next, f.nextDelta
	f.next, f.nextDelta = nil, nil
	sweep, f.sweep = f.sweep, ""
	f.slot.Unlock()

	changed = &scope{}
	f.view.Lock()
	defer f.view.Unlock()
	if t != nil {
		f.desired, changed = t, nil
		f.pendingAll = true
	}
	if d != nil {
		f.desired.Apply(d)
		if changed != nil {
			changed = deltaScope(d)
			f.pending.add(changed)
		}
	}
	return changed, sweep
}

// setDesired makes t the desired table, whole (Apply, Flush): what was
// published and not taken is dropped, and the next pass is a full one.
func (f *FIB) setDesired(t *fib.Table) {
	f.slot.Lock()
	f.next, f.nextDelta = nil, nil
	f.slot.Unlock()
	f.view.Lock()
	f.desired, f.pendingAll = t, true
	f.view.Unlock()
	f.wantValid = false
}

// Apply publishes t and reconciles the kernel with it now. The error, when
// not nil, is Errors listing each label, prefix or nexthop object that
// failed and why; everything else was programmed.
func (f *FIB) Apply(ctx context.Context, t *fib.Table) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setDesired(t)
	return f.reconcile(ctx)
}

// Resync re-reads everything lsrd owns from the kernel and reconciles: the
// recovery after a restart or lost notifications.
func (f *FIB) Resync(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stale = true
	return f.reconcile(ctx)
}

// Flush removes every route and nexthop object of lsrd's protocol from the
// kernel, whoever installed them, and forgets the desired table, so a
// running Run does not put them back. The daemon calls it on shutdown when
// forwarding should stop with it. What a previous run left goes too, swept
// or not.
func (f *FIB) Flush(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setDesired(fib.NewTable())
	f.slot.Lock()
	f.sweep = ""
	f.slot.Unlock()
	f.sweepAsked = ""
	f.stale = true
	f.adopted, f.keep = true, nil
	return f.reconcile(ctx)
}

// Adopt reads what lsrd's protocol holds in the kernel now, before any
// pass, and keeps it as a previous run's stale state: no pass deletes any
// of it until SweepStale. It returns what it found, so that the parent
// knows whether it has anything to wait for (nothing: no sweep is needed).
// Without Adopt the first pass adopts; after a pass Adopt only reports
// what the first one found.
func (f *FIB) Adopt(ctx context.Context) (Adopted, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.adopted {
		have, err := f.readKernel(ctx)
		if err != nil {
			f.obs.Error("read")
			return Adopted{}, err
		}
		f.obs.Resync()
		f.have, f.stale = have, false
		f.rulesKnown = false
		f.adoptState()
		f.publishStatus()
	}
	var a Adopted
	if k := f.keep; k != nil {
		a = Adopted{Labels: len(k.labels), Prefixes: len(k.routes), Nexthops: len(k.objects)}
	}
	return a, nil
}

// adoptState keeps what the first read of the kernel found; called with
// f.mu held, once.
func (f *FIB) adoptState() {
	f.adopted = true
	f.keep = adopt(f.have, time.Now())
	f.staleCount = f.keep.stale(desiredState{}, f.have) // nothing is wanted yet
	if k := f.keep; k != nil {
		f.log.Debug("netlinkfib: adopted routes from a previous run; they stay until the sweep",
			"routes", len(k.labels)+len(k.routes), "label_routes", len(k.labels), "prefixes", len(k.routes), "nexthop_objects", len(k.objects))
	}
}

// SweepStale is the parent's declaration that every producer has
// re-published what it wants after a restart: the next pass deletes, in
// one go, whatever the previous run left that the desired table does not
// want, and from then on the FIB deletes as usual. The pass takes the
// table Set published before SweepStale, so publish first. It returns at
// once; reason goes into the log line of the sweep. Without adopted state
// it does nothing.
func (f *FIB) SweepStale(reason string) {
	if reason == "" {
		reason = "swept"
	}
	f.slot.Lock()
	f.sweep = reason
	f.slot.Unlock()
	f.wake()
}

func (f *FIB) wake() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}
