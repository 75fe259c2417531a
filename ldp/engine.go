package ldp

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/lsrd/lsrd/ldp/fec"
	"github.com/lsrd/lsrd/ldp/wire"
	"github.com/lsrd/lsrd/rib"
)

// Engine is one LDP instance: its discovery, adjacencies, sessions and
// timers. It is a deterministic state machine driven only through Handle;
// it is not safe for concurrent use (the runtime owns it from one
// goroutine).
type Engine struct {
	cfg    Config
	labels LabelManager
	log    *slog.Logger

	now     time.Time
	started bool
	out     []Action

	ifaces  map[string]*iface
	targets map[netip.Addr]*target
	adjs    map[adjKey]*adjacency
	nbrs    map[netip.Addr]*neighbor // by LSR ID
	conns   map[ConnID]*session

	advertised []netip.Addr // interface addresses sent to peers
	// transportLocal records whether the transport address was one of our
	// interface addresses at the last look.
	transportLocal bool
	helloSeq       uint32 // Message IDs of hellos
	dialSeq        uint64 // ConnIDs of dials, below DialBit

	counts counters // protocol counters (Counters)
	// transports counts the neighbours per transport address, pending the
	// accepted connections whose peer is not named yet: both are looked
	// up per connection, so they are kept rather than counted.
	transports map[netip.Addr]int
	pending    int
	timers     timerHeap

	// Graceful restart (gracefulrestart.go): neighbours whose labels are
	// kept stale while they restart, by LSR ID, and this LSR's own
	// restart after ForwardingPreserved.
	helping map[netip.Addr]*helper
	restart *restartState

	libTouched bool
	lastGen    uint64 // the LIB generation last published
	// shape counts the changes to neighbours, adjacencies and sessions
	// (Shape): what a published view must follow, where a hello or a
	// KeepAlive only moves counters and timers.
	shape uint64
	// repeatGen counts the other changes to what Repeats answers: a
	// changed hello, configuration, interfaces.
	repeatGen uint64
	// batchFIB leaves publishing the forwarding state to the runtime
	// (FlushFIB) instead of doing it at the end of every Handle.
	batchFIB bool
}

// New returns an engine for cfg that consults labels for every label
// decision. Nothing is sent until the first call to Handle, since the engine
// has no clock of its own; the runtime starts it with Handle(now, Tick{}).
func New(cfg Config, labels LabelManager) (*Engine, error) {
	if labels == nil {
		return nil, errors.New("ldp: New: nil LabelManager")
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Engine{
		cfg:     cfg,
		labels:  labels,
		log:     cfg.Logger,
		ifaces:  map[string]*iface{},
		targets: map[netip.Addr]*target{},
		adjs:    map[adjKey]*adjacency{},
		nbrs:    map[netip.Addr]*neighbor{},
		conns:   map[ConnID]*session{},

		transports: map[netip.Addr]int{},
		helping:    map[netip.Addr]*helper{},
	}, nil
}

// Validate reports whether cfg would be accepted by New or ConfigChanged,
// naming the offending field and value.
func (c Config) Validate() error { return c.withDefaults().validate() }

// Handle processes one event that happened at now and returns what the
// runtime must do, in order. Timers due at or before now fire first, so an
// event delivered late never overtakes a timer. Time never runs backwards:
// a now before the previous one is taken as the previous one.
func (e *Engine) Handle(now time.Time, ev Event) []Action {
	if now.After(e.now) {
		e.now = now
	}
	e.out = nil
	if !e.started {
		e.started = true
		e.syncTargets()
	}
	if ev, ok := ev.(HellosSeen); ok {
		// Before the timers: these hellos arrived before now.
		e.hellosSeen(ev)
	}
	e.tick()
	switch ev := ev.(type) {
	case Tick, HellosSeen:
	case Continue:
		if e.labels.Draining() {
			e.toLIB(e.labels.Drain())
		}
	case InterfaceUp:
		e.repeatGen++
		e.interfaceUp(ev)
	case InterfaceDown:
		e.repeatGen++
		e.interfaceDown(ev)
	case HelloReceived:
		e.helloReceived(ev)
	case ConnAccepted:
		e.connAccepted(ev)
	case ConnEstablished:
		e.connEstablished(ev)
	case ConnFailed:
		if s := e.conns[ev.Conn]; s != nil && s.active {
			e.authDialFailed(s.nbr, ev.Err)
		}
		e.connLost(ev.Conn, ev.Err)
	case ConnClosed:
		e.connLost(ev.Conn, ev.Err)
	case ConnData:
		e.connData(ev)
	case ConnAlive:
		e.connAlive(ev)
	case RouteUpdate:
		e.toLIB(e.labels.RouteUpdate(ev.Route))
		e.transportRoutesChanged(nil, []rib.Route{ev.Route})
	case RouteDelete:
		e.toLIB(e.labels.RouteDelete(ev.Prefix))
		e.transportRoutesChanged([]netip.Prefix{ev.Prefix}, nil)
	case RoutesChanged:
		for _, p := range ev.Deletes {
			e.toLIB(e.labels.RouteDelete(p))
		}
		for _, r := range ev.Updates {
			e.toLIB(e.labels.RouteUpdate(r))
		}
		e.transportRoutesChanged(ev.Deletes, ev.Updates)
	case ConfigChanged:
		e.repeatGen++
		e.reconfigure(ev.Config)
	case ClearNeighbor:
		e.clearNeighbor(ev.LSRID)
	case ForwardingPreserved:
		e.forwardingPreserved(ev)
	}
	if !e.batchFIB {
		e.publishFIB()
	}
	out := e.out
	e.out = nil
	return out
}

func (e *Engine) emit(a Action) { e.out = append(e.out, a) }

// Pending tells whether the engine has work of its own cut into pieces
// (the labels of a session that closed with many of them): the runtime
// sends Continue until it has not, serving other events between the
// pieces, so that no one step grows with the size of the table.
func (e *Engine) Pending() bool { return e.labels.Draining() }

// BatchFIB makes the runtime responsible for publishing the forwarding
// state: Handle no longer emits FIBChanged, FlushFIB does. A burst of label
// messages then costs one copy of the table per flush instead of one per
// event; the speaker flushes when it runs out of events, and regularly
// while it does not.
func (e *Engine) BatchFIB(on bool) { e.batchFIB = on }

// FIBPending tells whether label work since the last FlushFIB may have
// changed the forwarding state. A hello or a KeepAlive does not: the
// runtime need not wake again to flush after one.
func (e *Engine) FIBPending() bool { return e.libTouched }

// Shape is a count of the changes to neighbours, adjacencies and sessions
// so far: the runtime republishes what operators read when it moves or
// when FIBPending, and otherwise only when a reader asks (a hello or a
// KeepAlive refreshes timers and counters, no more).
func (e *Engine) Shape() uint64 { return e.shape }

// FlushFIB returns FIBChanged with the LIB's table when it changed since
// the last one published, and nothing otherwise.
func (e *Engine) FlushFIB() []Action {
	e.out = nil
	e.publishFIB()
	out := e.out
	e.out = nil
	return out
}

func (e *Engine) interfaceUp(ev InterfaceUp) {
	i := e.ifaces[ev.Name]
	if i == nil {
		i = &iface{name: ev.Name}
		e.ifaces[ev.Name] = i
	}
	i.index = ev.Index
	i.addrs = slices.Clone(ev.Addrs)
	e.syncInterface(ev.Name, wire.StatusShutdown)
	e.syncAddresses()
}

func (e *Engine) interfaceDown(ev InterfaceDown) {
	i := e.ifaces[ev.Name]
	if i == nil {
		return
	}
	delete(e.ifaces, ev.Name)
	e.arm(&i.nextHello, time.Time{})
	for _, af := range i.joined.list() {
		e.emit(LeaveMulticast{Ifname: ev.Name, Family: af})
	}
	// The link adjacencies go at once rather than after their hold time:
	// lsrd knows the link is gone.
	e.syncInterface(ev.Name, wire.StatusShutdown)
	e.syncAddresses()
}

// localAddrs returns the addresses this LSR advertises in Address messages
// (RFC 5036 section 3.5.5): the addresses of its interfaces in the families
// LDP runs in, so that peers can map next hops to LDP identifiers (section
// 2.7). IPv6 link-local addresses are included: IPv6 routes go through
// link-local next hops, and FRR's ldpd maps them the same way.
func (e *Engine) localAddrs() []netip.Addr {
	fams := e.cfg.families()
	var out []netip.Addr
	for _, i := range e.ifaces {
		for _, p := range i.addrs {
			a := p.Addr().Unmap().WithZone("")
			if fams.has(fec.FamilyOf(a)) && !a.IsLoopback() && !a.IsUnspecified() && !a.IsMulticast() {
				out = append(out, a)
			}
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

// addrsOf returns the addresses of family af in as.
func addrsOf(as []netip.Addr, af Family) []netip.Addr {
	var out []netip.Addr
	for _, a := range as {
		if fec.FamilyOf(a) == af {
			out = append(out, a)
		}
	}
	return out
}

// syncAddresses tells OPERATIONAL peers about interface addresses that
// appeared (Address) or disappeared (Address Withdraw, section 3.5.6).
func (e *Engine) syncAddresses() {
	cur := e.localAddrs()
	var added, removed []netip.Addr
	for _, a := range cur {
		if _, ok := slices.BinarySearchFunc(e.advertised, a, netip.Addr.Compare); !ok {
			added = append(added, a)
		}
	}
	for _, a := range e.advertised {
		if _, ok := slices.BinarySearchFunc(cur, a, netip.Addr.Compare); !ok {
			removed = append(removed, a)
		}
	}
	e.advertised = cur
	e.checkTransportAddress(cur)
	if len(added) == 0 && len(removed) == 0 {
		return
	}
	e.toLIB(e.labels.SetLocalAddresses(cur))
	for _, id := range sortedAddrs(e.nbrs) {
		s := e.nbrs[id].sess
		if s == nil || s.state != Operational {
			continue
		}
		var msgs []wire.Message
		for _, af := range s.nbr.families.list() {
			if r := addrsOf(removed, af); len(r) > 0 {
				msgs = append(msgs, &wire.AddressWithdraw{Addresses: wire.AddressList{Family: af, Addrs: r}})
			}
		}
		for _, af := range s.nbr.families.list() {
			if a := addrsOf(added, af); len(a) > 0 {
				msgs = append(msgs, &wire.Address{Addresses: wire.AddressList{Family: af, Addrs: a}})
			}
		}
		e.sendMessages(s, msgs...)
	}
}

// reconfigure applies a new configuration. A new LSR ID or transport
// address changes who this LSR is to its peers, so everything starts over;
// any other change touches only the interfaces and targets that changed.
func (e *Engine) reconfigure(c Config) {
	c = c.withDefaults()
	if err := c.validate(); err != nil {
		e.log.Error("ldp: configuration change refused", "err", err)
		return
	}
	if !e.cfg.sameIdentity(c) {
		e.shutdownAll()
		e.cfg, e.log = c, c.Logger
		e.syncTargets()
		for _, name := range sortedNames(e.ifaces) {
			e.syncInterface(name, wire.StatusShutdown)
		}
		return
	}
	old := e.cfg
	e.cfg, e.log = c, c.Logger
	if old.GracefulRestart.Enabled && !c.GracefulRestart.Enabled {
		e.gracefulRestartOff()
	}
	e.authReconfigure()
	if c.LabelMin != 0 && (c.LabelMin != old.LabelMin || c.LabelMax != old.LabelMax) {
		out, err := e.labels.SetLabelRange(c.LabelMin, c.LabelMax)
		if err != nil {
			e.log.Error("ldp: label range change refused", "err", err)
		} else {
			e.log.Info("ldp: label range changed", "from", fmt.Sprintf("%d-%d", old.LabelMin, old.LabelMax),
				"to", fmt.Sprintf("%d-%d", c.LabelMin, c.LabelMax), "mappings", len(out))
		}
		e.toLIB(out)
	}
	names := append(slices.Clone(old.Interfaces), c.Interfaces...)
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		e.syncInterface(name, wire.StatusShutdown)
	}
	e.syncTargets()
}

// shutdownAll ends every session with Shutdown (section 3.5.1.2.2: the
// status an LSR sends when it closes a session on purpose) and forgets all
// discovery state.
func (e *Engine) shutdownAll() {
	for _, id := range sortedConns(e.conns) {
		if s := e.conns[id]; s != nil {
			e.closeAdmin(s)
		}
	}
	// This LSR is starting over as another: neighbours it was helping
	// will meet it anew.
	for _, id := range sortedAddrs(e.helping) {
		e.sweepStale(id, "this LSR's identity changed")
	}
	for _, name := range sortedNames(e.ifaces) {
		if i := e.ifaces[name]; i.joined != 0 {
			for _, af := range i.joined.list() {
				e.emit(LeaveMulticast{Ifname: name, Family: af})
			}
			i.joined = 0
			e.arm(&i.nextHello, time.Time{})
		}
	}
	for _, a := range e.adjs {
		e.arm(&a.expires, time.Time{})
	}
	for _, n := range e.nbrs {
		e.arm(&n.retryAt, time.Time{})
	}
	for _, t := range e.targets {
		e.arm(&t.nextHello, time.Time{})
	}
	clear(e.transports)
	for _, id := range sortedAddrs(e.nbrs) {
		e.authGone(e.nbrs[id])
		e.peerGone(id)
	}
	for _, i := range e.ifaces {
		i.adjs = 0
	}
	clear(e.adjs)
	clear(e.nbrs)
	clear(e.targets)
	clear(e.transports)
}

// clearNeighbor is the operator's reset: the session ends with Shutdown,
// earlier failures are forgotten and, on the active side, a new session is
// attempted at once. Labels kept stale for the neighbour's graceful restart
// go too: the operator asked for a fresh start.
func (e *Engine) clearNeighbor(id netip.Addr) {
	n := e.nbrs[id]
	if e.helping[id] != nil && (n == nil || n.sess == nil || n.sess.state != Operational) {
		e.sweepStale(id, "neighbour cleared by the operator")
	}
	if n == nil {
		return
	}
	if n.sess != nil {
		e.closeAdmin(n.sess)
	}
	e.resetBackoff(n)
	e.maybeConnect(n)
}

// checkTransportAddress closes every session when the transport address
// stops being one of this LSR's addresses (the loopback it sat on lost it):
// their TCP connections can carry nothing any more, and waiting for the
// KeepAlive hold would keep dead label bindings in use for minutes. The
// sessions re-form once the address is back.
func (e *Engine) checkTransportAddress(local []netip.Addr) {
	_, now := slices.BinarySearchFunc(local, e.cfg.TransportAddr, netip.Addr.Compare)
	was := e.transportLocal
	e.transportLocal = now
	if !was || now {
		return
	}
	e.log.Warn("ldp: transport address is gone from this router's interfaces: closing every session", "transport-address", e.cfg.TransportAddr)
	for _, id := range sortedConns(e.conns) {
		if s := e.conns[id]; s != nil {
			e.closeAdmin(s)
		}
	}
}
