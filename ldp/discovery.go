package ldp

import (
	"errors"
	"hash/fnv"
	"net/netip"
	"slices"
	"time"

	"github.com/lsrd/lsrd/ldp/fec"
	"github.com/lsrd/lsrd/ldp/wire"
)

// iface is an interface the runtime reported up. Basic discovery runs on it
// when it is also configured (RFC 5036 section 2.4.1).
type iface struct {
	name      string
	index     int
	addrs     []netip.Prefix
	joined    familyBit // families whose hello group was joined: discovery runs in them
	nextHello time.Time // zero when discovery does not run
	adjs      int       // link adjacencies on it
	lastHello time.Time // when a hello was last sent on it
}

// triggeredHelloGap is the least time between a hello on an interface and
// the early one a new neighbour there gets: it then learns of us within a
// second instead of at our next periodic hello (up to the hello interval
// later, the longest wait at start-up), and a flood of new LSR IDs gets at
// most five extra hellos a second out of us.
//
// On a shared segment the gap grows by triggeredHelloPerAdj for each
// adjacency on the interface, so that the early hellos of all K routers
// of a segment together stay under ten a second however large K is (each
// copied to K ports). With a fixed gap, 60 routers whose adjacencies come
// and go could put out 300 a second, feeding the churn they answer; once
// the gap passes the hello interval (50 neighbours at the default 5 s),
// the periodic hello is the only one.
const (
	triggeredHelloGap    = 200 * time.Millisecond
	triggeredHelloPerAdj = 100 * time.Millisecond
)

// triggeredGap is the least time between a hello on an interface with adjs
// adjacencies and an early one.
func triggeredGap(adjs int) time.Duration {
	return max(triggeredHelloGap, time.Duration(adjs)*triggeredHelloPerAdj)
}

// triggeredHelloStep spreads the early hellos a new neighbour gets on a
// shared segment: each LSR there sends its own after a delay of its own,
// below triggeredHelloStep per other adjacency on the interface (at most
// triggeredHelloSpread). Sent at once, they left a new router's 39
// neighbours on a 40-router segment answering in the same instant: 39
// multicasts copied to 39 ports, a burst that a host's input backlog (1,000
// packets by default) drops, hellos of established neighbours with it. On
// a point-to-point link (one adjacency) there is no delay.
const (
	triggeredHelloStep   = 25 * time.Millisecond
	triggeredHelloSpread = time.Second
)

// triggeredHelloDelay is this LSR's delay before the early hello for
// the new neighbour nbr on an interface with adjs adjacencies: a fixed
// function of the two LSR IDs (the engine stays deterministic), spread
// evenly over the window.
func (e *Engine) triggeredHelloDelay(adjs int, nbr netip.Addr) time.Duration {
	window := min(time.Duration(adjs-1)*triggeredHelloStep, triggeredHelloSpread)
	if window <= 0 {
		return 0
	}
	h := fnv.New64a()
	a, b := e.cfg.LSRID.As4(), nbr.As16()
	h.Write(a[:])
	h.Write(b[:])
	return time.Duration(h.Sum64()%uint64(window/time.Millisecond)) * time.Millisecond
}

// target is a destination of Targeted Hellos (section 2.4.2): configured,
// or a source that asked for them with the R bit and is accepted.
type target struct {
	addr       netip.Addr
	configured bool
	nextHello  time.Time
}

// discoveryOn reports whether basic discovery must run on ifname.
func (e *Engine) discoveryOn(ifname string) bool {
	_, up := e.ifaces[ifname]
	return up && slices.Contains(e.cfg.Interfaces, ifname)
}

// syncInterface starts or stops basic discovery on ifname to match the
// configuration and the interface state. Stopping it removes the link
// adjacencies learned there with status code.
func (e *Engine) syncInterface(ifname string, code wire.StatusCode) {
	i := e.ifaces[ifname]
	var want familyBit
	if e.discoveryOn(ifname) {
		want = e.cfg.interfaceFamilies(ifname)
	}
	if i != nil {
		have := i.joined
		for _, af := range (have &^ want).list() {
			e.emit(LeaveMulticast{Ifname: ifname, Family: af})
		}
		for _, af := range (want &^ have).list() {
			e.emit(JoinMulticast{Ifname: ifname, Family: af})
		}
		i.joined = want
		switch {
		case want == 0:
			e.arm(&i.nextHello, time.Time{})
		case want&^have != 0:
			e.sendLinkHello(i)
		}
	}
	if want != 3 {
		for _, k := range sortedAdjKeys(e.adjs) {
			if a := e.adjs[k]; a != nil && !k.targeted && k.ifname == ifname && !want.has(k.family) {
				e.deleteAdjacency(a, code)
			}
		}
	}
}

func (e *Engine) helloPDU(hold time.Duration, targeted bool, af Family) []byte {
	e.helloSeq++
	h := &wire.Hello{
		MsgID: e.helloSeq,
		Params: wire.CommonHelloParams{
			HoldTime:        uint16(hold / time.Second),
			Targeted:        targeted,
			RequestTargeted: targeted,
			// RFC 6720 section 3: link hellos only.
			GTSM: !targeted && !e.cfg.GTSM.Disabled,
		},
		// Always explicit, so the peer never has to guess our transport
		// address from the datagram's source (section 2.5.2); the one of
		// the hello's own family (RFC 7552 section 6.1).
		TransportAddr: e.cfg.transport(af),
	}
	if e.cfg.dualStack() {
		// RFC 7552 section 6.1.1: in every hello of a dual-stack LSR.
		h.DualStack = wire.NewDualStack(e.cfg.preference())
	}
	p := &wire.PDU{ID: wire.LDPID{LSRID: e.cfg.LSRID}, Messages: []wire.Message{h}}
	b, err := p.MarshalBinary()
	if err != nil {
		// Unreachable with a validated configuration.
		e.log.Error("ldp: cannot encode hello", "err", err)
		return nil
	}
	return b
}

func (e *Engine) sendLinkHello(i *iface) {
	for _, af := range i.joined.list() {
		e.emit(SendHello{Ifname: i.name, Dst: netip.AddrPortFrom(allGroup(af), Port), Data: e.helloPDU(e.cfg.LinkHelloHold, false, af)})
	}
	e.arm(&i.nextHello, e.now.Add(e.cfg.LinkHelloInterval))
	i.lastHello = e.now
	e.counts.hello(false, i.name).Sent++
	e.helloSent(func(n *neighbor) bool {
		for _, af := range i.joined.list() {
			if n.adjs[adjKey{ifname: i.name, lsrID: n.id, family: af}] != nil {
				return true
			}
		}
		return false
	})
}

func (e *Engine) sendTargetedHello(t *target) {
	// Sourced from the transport address: FRR and OpenBSD ldpd match a
	// targeted hello to a configured neighbour by its source address.
	af := fec.FamilyOf(t.addr)
	e.emit(SendHello{Src: e.cfg.transport(af), Dst: netip.AddrPortFrom(t.addr, Port), Data: e.helloPDU(e.cfg.TargetedHelloHold, true, af)})
	e.arm(&t.nextHello, e.now.Add(e.cfg.TargetedHelloInterval))
	e.counts.hello(true, "").Sent++
	e.helloSent(func(n *neighbor) bool {
		return n.adjs[adjKey{targeted: true, src: t.addr, lsrID: n.id, family: af}] != nil
	})
}

// sendDueHellos fires the hello timers due at now.
func (e *Engine) sendDueHellos() {
	for _, name := range sortedNames(e.ifaces) {
		i := e.ifaces[name]
		if !i.nextHello.IsZero() && !i.nextHello.After(e.now) {
			e.sendLinkHello(i)
		}
	}
	for _, a := range sortedAddrs(e.targets) {
		t := e.targets[a]
		if !t.nextHello.After(e.now) {
			e.sendTargetedHello(t)
		}
	}
}

// syncTargets starts Targeted Hellos to new configured targets and stops
// them, with their adjacencies, for targets no longer configured or
// accepted.
func (e *Engine) syncTargets() {
	for _, a := range e.cfg.Targets {
		t := e.targets[a]
		if t == nil {
			t = &target{addr: a}
			e.targets[a] = t
			t.configured = true
			e.sendTargetedHello(t)
		}
		t.configured = true
	}
	for _, a := range sortedAddrs(e.targets) {
		t := e.targets[a]
		t.configured = slices.Contains(e.cfg.Targets, a)
		switch {
		case t.configured:
		case !e.cfg.acceptsTargeted(a):
			e.arm(&t.nextHello, time.Time{})
			delete(e.targets, a)
		default:
			e.dropDynamicTarget(a)
		}
	}
	for _, k := range sortedAdjKeys(e.adjs) {
		if a := e.adjs[k]; a != nil && k.targeted && !e.cfg.acceptsTargeted(k.src) {
			e.deleteAdjacency(a, wire.StatusShutdown)
		}
	}
}

// dropDynamicTarget stops answering a source that is no longer adjacent and
// was never configured.
func (e *Engine) dropDynamicTarget(src netip.Addr) {
	t := e.targets[src]
	if t == nil || t.configured {
		return
	}
	for k := range e.adjs {
		if k.targeted && k.src == src {
			return
		}
	}
	e.arm(&t.nextHello, time.Time{})
	delete(e.targets, src)
}

// helloReceived processes a UDP datagram (sections 2.4, 3.5.2). Nothing is
// ever answered on UDP: a bad hello is dropped and logged.
func (e *Engine) helloReceived(ev HelloReceived) {
	drop := func(why string, args ...any) {
		e.log.Debug("ldp: hello dropped: "+why, append([]any{"src", ev.Src, "ifname", ev.Ifname}, args...)...)
	}
	pdu, err := wire.DecodePDU(ev.Data)
	if pdu == nil {
		drop("bad PDU", "err", err)
		return
	}
	skip := map[int]bool{}
	var me wire.MessageErrors
	if errors.As(err, &me) {
		for _, de := range me {
			skip[de.Index] = true
		}
	}
	var h *wire.Hello
	for i, m := range pdu.Messages {
		if hm, ok := m.(*wire.Hello); ok && !skip[i] {
			h = hm
			break
		}
	}
	if h != nil && pdu.ID.LSRID != e.cfg.LSRID {
		e.counts.hello(ev.Targeted, ev.Ifname).Received++
	}
	switch {
	case h == nil:
		drop("no usable Hello message", "err", err)
		return
	case pdu.ID.LSRID == e.cfg.LSRID:
		return // our own hello looped back
	case pdu.ID.LabelSpace != 0:
		drop("per-interface label space not supported", "ldp-id", pdu.ID)
		return
	case h.Params.Targeted != ev.Targeted:
		drop("T bit does not match how the hello arrived")
		return
	case e.gtsmHelloDropped(ev, pdu.ID.LSRID):
		return
	}
	src := ev.Src.Addr().Unmap()
	af := fec.FamilyOf(src)
	if !e.cfg.families().has(af) {
		drop("LDP does not run in the hello's address family", "family", af)
		return
	}
	if af == fec.IPv6 && !ev.Targeted && !src.IsLinkLocalUnicast() {
		// RFC 7552 section 5.1: link hellos come from link-local
		// addresses.
		drop("IPv6 link hello from a non link-local source")
		return
	}
	key := adjKey{targeted: ev.Targeted, lsrID: pdu.ID.LSRID, family: af}
	if ev.Targeted {
		if !e.cfg.acceptsTargeted(src) {
			drop("targeted hello from a source not accepted")
			return
		}
		key.src = src
	} else {
		if i := e.ifaces[ev.Ifname]; !e.discoveryOn(ev.Ifname) || !i.joined.has(af) {
			drop("basic discovery not enabled on interface", "family", af)
			return
		}
		key.ifname = ev.Ifname
	}
	transport := h.TransportAddr
	if !transport.IsValid() {
		transport = src
	}
	switch {
	case fec.FamilyOf(transport) != af:
		// RFC 7552 section 6.1: only the transport address of the
		// hello's own family counts.
		drop("transport address of another family than the hello", "transport", transport)
		return
	case !usableTransport(transport) || transport.Zone() != "":
		drop("unusable transport address", "transport", transport)
		return
	case transport == e.cfg.transport(af):
		drop("peer claims our transport address", "transport", transport)
		return
	}
	if n := e.nbrs[key.lsrID]; n != nil && n.helloTransport[af].IsValid() && n.helloTransport[af] != transport {
		// One session per peer: a hello with another transport address
		// cannot join the existing neighbour (the sessions would be
		// ambiguous), so it is ignored until the old adjacencies expire.
		drop("transport address differs from the neighbour's", "transport", transport, "known", n.helloTransport[af])
		return
	}
	if !e.dualStackHello(h, key.lsrID, key, af) {
		return
	}
	local := e.cfg.LinkHelloHold
	if ev.Targeted {
		local = e.cfg.TargetedHelloHold
	}
	a := e.adjs[key]
	newNbr := false
	if a == nil {
		if !e.admitAdjacency(key) {
			return
		}
		newNbr = e.nbrs[key.lsrID] == nil
		a = e.addAdjacency(key, transport, h.DualStack != nil && e.cfg.dualStack())
		if i := e.ifaces[key.ifname]; !key.targeted && i != nil && i.joined != 0 && !i.nextHello.IsZero() {
			// The new neighbour may have started after our last
			// hello: tell it about us now (RFC 5036 sets no minimum
			// spacing between hellos), or as soon as the gap allows:
			// a neighbour that starts just after our hello must not
			// wait a whole interval for the next. On a shared segment
			// after this LSR's own delay (triggeredHelloDelay).
			due := i.lastHello.Add(triggeredGap(i.adjs))
			if at := e.now.Add(e.triggeredHelloDelay(i.adjs, key.lsrID)); at.After(due) {
				due = at
			}
			if !due.After(e.now) {
				e.sendLinkHello(i)
			} else if due.Before(i.nextHello) {
				e.arm(&i.nextHello, due)
			}
		}
	}
	// Also by the LSR that sent it, with its session messages; only for
	// hellos that were accepted, so that strangers leave no counters.
	e.counts.peer(pdu.ID.LSRID).Received[wire.MsgHello]++
	if a.source != src {
		a.source = src
		e.shape++
	}
	e.refresh(a, negotiateHelloHold(local, h.Params.HoldTime, ev.Targeted))
	a.peerGTSM = h.Params.GTSM && !ev.Targeted
	e.acceptedHello(a, ev.Data, ev.TTL)
	if ev.Targeted && h.Params.RequestTargeted && e.targets[src] == nil {
		// Section 2.4.2: an accepted request for Targeted Hellos is
		// answered with our own, for as long as the adjacency lives.
		t := &target{addr: src}
		e.targets[src] = t
		e.sendTargetedHello(t)
	}
	e.maybeConnect(a.nbr)
	if newNbr && e.pending > 0 {
		e.resumeParked(a.nbr)
	}
}
