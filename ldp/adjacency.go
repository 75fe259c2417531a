package ldp

import (
	"net/netip"
	"time"

	"github.com/lsrd/lsrd/ldp/fec"
	"github.com/lsrd/lsrd/ldp/wire"
)

// adjKey identifies a Hello adjacency (RFC 5036 section 2.4): a Link Hello
// adjacency per (interface, family, LSR ID), a Targeted Hello adjacency per
// (source address, LSR ID). The family is that of the hellos (RFC 7552).
type adjKey struct {
	targeted bool
	ifname   string     // link adjacencies
	src      netip.Addr // targeted adjacencies
	lsrID    netip.Addr
	family   Family
}

func (k adjKey) String() string {
	if k.targeted {
		return "targeted " + k.src.String() + " " + k.lsrID.String()
	}
	if k.family == fec.IPv6 {
		return "link " + k.ifname + " ipv6 " + k.lsrID.String()
	}
	return "link " + k.ifname + " " + k.lsrID.String()
}

func (k adjKey) less(o adjKey) bool {
	if k.targeted != o.targeted {
		return !k.targeted
	}
	if k.ifname != o.ifname {
		return k.ifname < o.ifname
	}
	if k.family != o.family {
		return k.family < o.family
	}
	if c := k.src.Compare(o.src); c != 0 {
		return c < 0
	}
	return k.lsrID.Less(o.lsrID)
}

// adjacency is one Hello adjacency and its hold timer (section 2.5.5).
type adjacency struct {
	key     adjKey
	nbr     *neighbor
	hold    time.Duration // negotiated; InfiniteHold never expires
	expires time.Time     // zero when the hold time is infinite
	// peerGTSM: the neighbour's last link hello carried the G flag (RFC
	// 6720 section 3).
	peerGTSM bool
	// source is the last hello's source address: on a link, the
	// neighbour's address there.
	source netip.Addr
	// hello is the PDU accepted last and helloTTL its TTL: what a repeat
	// must match (repeats.go).
	hello    []byte
	helloTTL int
}

// refresh restarts the hold timer of a on receipt of a matching Hello.
func (e *Engine) refresh(a *adjacency, hold time.Duration) {
	a.hold = hold
	if hold == InfiniteHold {
		e.arm(&a.expires, time.Time{})
		return
	}
	e.arm(&a.expires, e.now.Add(hold))
}

// negotiateHelloHold applies RFC 5036 section 3.5.2: each side proposes a
// hold time, 0 standing for the default (15 s for Link Hellos, 45 s for
// Targeted Hellos) and 0xffff for infinite; the adjacency uses the smaller.
func negotiateHelloHold(local time.Duration, remote uint16, targeted bool) time.Duration {
	r := time.Duration(remote) * time.Second
	if remote == 0 {
		r = DefaultLinkHelloHold
		if targeted {
			r = DefaultTargetedHelloHold
		}
	}
	return min(local, r)
}

// addAdjacency creates an adjacency and, when it is the neighbour's first,
// the neighbour: dualStack says whether its hello carried the Dual-Stack
// TLV (and this LSR is dual-stack), which fixes the families its session
// serves (family.go).
func (e *Engine) addAdjacency(key adjKey, transport netip.Addr, dualStack bool) *adjacency {
	n := e.nbrs[key.lsrID]
	if n == nil {
		n = &neighbor{id: key.lsrID, adjs: map[adjKey]*adjacency{}, backoff: initialBackoff,
			dualStack: dualStack, firstFamily: key.family, families: bitOf(key.family)}
		if dualStack {
			n.families = e.cfg.families()
		}
		e.nbrs[key.lsrID] = n
		e.log.Info("ldp neighbour discovered", "lsr-id", n.id, "transport", transport, "families", n.families.list())
	}
	n.helloTransport[key.family] = transport
	e.learnTransport(n, key.family, transport)
	a := &adjacency{key: key, nbr: n}
	n.adjs[key] = a
	e.adjs[key] = a
	e.shape++
	if i := e.ifaces[key.ifname]; i != nil && !key.targeted {
		i.adjs++
	}
	e.log.Info("ldp adjacency up", "adjacency", key.String())
	return a
}

// deleteAdjacency removes an adjacency. When it was the neighbour's last,
// RFC 5036 section 2.5.5 has the session terminated with a Notification:
// status is the one sent (Hold Timer Expired when the hello hold timer ran
// out, Shutdown when lsrd removed the adjacency on purpose).
func (e *Engine) deleteAdjacency(a *adjacency, code wire.StatusCode) {
	delete(e.adjs, a.key)
	e.arm(&a.expires, time.Time{})
	n := a.nbr
	delete(n.adjs, a.key)
	e.shape++
	if i := e.ifaces[a.key.ifname]; i != nil && !a.key.targeted {
		i.adjs--
	}
	e.log.Info("ldp adjacency down", "adjacency", a.key.String(), "reason", code.String())
	if a.key.targeted {
		e.dropDynamicTarget(a.key.src)
	}
	if len(n.adjs) > 0 {
		return
	}
	if n.sess != nil {
		// Shutdown: lsrd removed the adjacency (interface down,
		// configuration), not a neighbour gone quiet.
		n.sess.admin = code == wire.StatusShutdown
		e.closeSession(n.sess, code)
	}
	delete(e.nbrs, n.id)
	e.arm(&n.retryAt, time.Time{})
	if n.transport.IsValid() {
		if e.transports[n.transport]--; e.transports[n.transport] <= 0 {
			delete(e.transports, n.transport)
		}
		e.authGone(n)
	}
	e.peerGone(n.id)
	e.log.Info("ldp neighbour gone", "lsr-id", n.id)
}

// expireAdjacencies fires the hello hold timers due at now.
func (e *Engine) expireAdjacencies() {
	for _, k := range sortedAdjKeys(e.adjs) {
		a := e.adjs[k]
		if a != nil && !a.expires.IsZero() && !a.expires.After(e.now) {
			e.deleteAdjacency(a, wire.StatusHoldTimerExpired)
		}
	}
}
