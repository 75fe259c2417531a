package ldp

import (
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/lsrd/lsrd/ldp/wire"
)

// Counters are the engine's protocol counters since it was created: what
// went over the wire and how sessions fared. They are facts of the protocol
// run, kept by the engine itself (deterministically, from the events it was
// given), so that a replayed run counts exactly the same. They only grow
// while they exist. A peer's counters are kept only for a peer that reached
// OPERATIONAL at least once (state from strangers is bounded): they outlive
// its sessions and adjacencies for Config.CountersLinger, then go.
type Counters struct {
	// Peers are the session counters by peer LSR ID, sorted. Messages on a
	// connection whose peer was never identified (its first PDU named no
	// neighbour of ours) count under the zero Addr.
	Peers []PeerCounters
	// Hellos are the discovery counters, link hellos by interface first
	// (sorted), then targeted hellos.
	Hellos []HelloCounters
	// Limits counts what the engine refused or closed because one of its
	// bounds was reached (Config.MaxNeighbors and the like).
	Limits map[Limit]uint64
	// Security counts connections and hellos refused or failing for
	// TCP-MD5 or GTSM (auth.go).
	Security map[Security]uint64
	// RejectionsSent and RejectionsReceived count session initializations
	// refused with a Session Rejected status (RFC 5036 section 3.9: no
	// Hello, advertisement mode, max PDU length, label range, keepalive
	// time), every neighbour together, those that never reached
	// OPERATIONAL included: MPLS-LDP-STD-MIB's
	// mplsLdpEntityStatsSessionAttempts (RFC 3815) counts these NAKs.
	RejectionsSent, RejectionsReceived uint64
}

// PeerCounters are the counters of the sessions with one peer.
type PeerCounters struct {
	LSRID netip.Addr
	// Sent and Received count session messages by type, and Received the
	// Hellos the peer sent too (Hellos sent are counted per interface only,
	// in HelloCounters: a link Hello goes to every LSR on the link). Types
	// the codec does not know count under wire.MsgType(0).
	Sent, Received map[wire.MsgType]uint64
	// NotificationsSent and NotificationsReceived count Notification
	// messages by status code; codes the codec does not know count under
	// wire.StatusCode(0xffffffff).
	NotificationsSent, NotificationsReceived map[wire.StatusCode]uint64
	// Flaps counts sessions that left OPERATIONAL (RFC 5036 section 2.5.4).
	Flaps uint64
	// UnknownTLVs counts TLVs of the peer's messages the codec did not
	// know: ignored (U bit set) or refused with Unknown TLV (U bit clear)
	// (RFC 5036 section 3.3; RFC 3815's mplsLdpSessionStatsUnknownTlvErrors).
	UnknownTLVs uint64
}

// HelloCounters count the Hellos of one interface (link hellos) or of
// extended discovery (Targeted true, Interface empty).
type HelloCounters struct {
	Targeted  bool
	Interface string
	// Sent counts Hellos this LSR sent; Received counts datagrams from
	// other LSRs that carried a usable Hello, accepted or not.
	Sent, Received uint64
}

// UnknownStatus is the key unknown status codes count under in
// PeerCounters.
const UnknownStatus wire.StatusCode = 0xffffffff

// counters is the engine's live state behind Counters.
type counters struct {
	peers  map[netip.Addr]*peerCounts
	hellos map[helloKey]*HelloCounters
	limits map[Limit]*limitState
	// security counts Counters.Security.
	security map[Security]uint64
	// rejectionsSent and rejectionsReceived count Counters' fields.
	rejectionsSent, rejectionsReceived uint64
	// sweepAt is the timer of the next peer whose counters expire.
	sweepAt time.Time
}

// peerCounts are one peer's counters and their lifetime.
type peerCounts struct {
	PeerCounters
	reachedOp bool      // a session with the peer reached OPERATIONAL
	goneAt    time.Time // when the neighbour went; zero while it exists
}

type helloKey struct {
	targeted bool
	ifname   string
}

func (c *counters) peer(id netip.Addr) *peerCounts {
	if c.peers == nil {
		c.peers = map[netip.Addr]*peerCounts{}
	}
	p := c.peers[id]
	if p == nil {
		p = &peerCounts{PeerCounters: PeerCounters{LSRID: id, Sent: map[wire.MsgType]uint64{}, Received: map[wire.MsgType]uint64{},
			NotificationsSent: map[wire.StatusCode]uint64{}, NotificationsReceived: map[wire.StatusCode]uint64{}}}
		c.peers[id] = p
	}
	p.goneAt = time.Time{}
	return p
}

// peerGone starts the linger of a neighbour's counters when it reached
// OPERATIONAL, and drops them at once otherwise.
func (e *Engine) peerGone(id netip.Addr) {
	p := e.counts.peers[id]
	if p == nil {
		return
	}
	if !p.reachedOp {
		delete(e.counts.peers, id)
		return
	}
	p.goneAt = e.now
	if at := e.now.Add(e.cfg.CountersLinger); e.counts.sweepAt.IsZero() || at.Before(e.counts.sweepAt) {
		e.arm(&e.counts.sweepAt, at)
	}
}

// sweepCounters drops the counters of peers gone for CountersLinger and
// sets the timer for the next.
func (e *Engine) sweepCounters() {
	if e.counts.sweepAt.IsZero() || e.counts.sweepAt.After(e.now) {
		return
	}
	var next time.Time
	for id, p := range e.counts.peers {
		if p.goneAt.IsZero() {
			continue
		}
		at := p.goneAt.Add(e.cfg.CountersLinger)
		if !at.After(e.now) {
			delete(e.counts.peers, id)
		} else if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	e.arm(&e.counts.sweepAt, next)
}

func (c *counters) hello(targeted bool, ifname string) *HelloCounters {
	if c.hellos == nil {
		c.hellos = map[helloKey]*HelloCounters{}
	}
	if targeted {
		ifname = ""
	}
	k := helloKey{targeted, ifname}
	h := c.hellos[k]
	if h == nil {
		h = &HelloCounters{Targeted: targeted, Interface: ifname}
		c.hellos[k] = h
	}
	return h
}

// message counts one session message sent (out) or received on s.
func (c *counters) message(s *session, m wire.Message, out bool) {
	var id netip.Addr
	if s.nbr != nil {
		id = s.nbr.id
	}
	p := c.peer(id)
	t := m.Type()
	if !t.Known() {
		t = 0
	}
	byType, byStatus := p.Received, p.NotificationsReceived
	if out {
		byType, byStatus = p.Sent, p.NotificationsSent
	}
	byType[t]++
	if n, ok := m.(*wire.Notification); ok {
		code := n.Status.Code
		if !code.Known() {
			code = UnknownStatus
		}
		byStatus[code]++
		if code.SessionRejected() {
			if out {
				c.rejectionsSent++
			} else {
				c.rejectionsReceived++
			}
		}
	}
}

// Counters returns a copy of the engine's protocol counters. Like
// Neighbors, it must be called from the goroutine that calls Handle.
func (e *Engine) Counters() Counters {
	var out Counters
	for _, id := range slices.SortedFunc(maps.Keys(e.counts.peers), netip.Addr.Compare) {
		p := e.counts.peers[id]
		if !p.reachedOp && id.IsValid() {
			continue
		}
		out.Peers = append(out.Peers, PeerCounters{LSRID: p.LSRID, Flaps: p.Flaps, UnknownTLVs: p.UnknownTLVs,
			Sent: maps.Clone(p.Sent), Received: maps.Clone(p.Received),
			NotificationsSent: maps.Clone(p.NotificationsSent), NotificationsReceived: maps.Clone(p.NotificationsReceived)})
	}
	for _, k := range slices.SortedFunc(maps.Keys(e.counts.hellos), func(a, b helloKey) int {
		if a.targeted != b.targeted {
			if a.targeted {
				return 1
			}
			return -1
		}
		return strings.Compare(a.ifname, b.ifname)
	}) {
		out.Hellos = append(out.Hellos, *e.counts.hellos[k])
	}
	for l, st := range e.counts.limits {
		if out.Limits == nil {
			out.Limits = map[Limit]uint64{}
		}
		out.Limits[l] = st.count
	}
	out.Security = maps.Clone(e.counts.security)
	out.RejectionsSent, out.RejectionsReceived = e.counts.rejectionsSent, e.counts.rejectionsReceived
	return out
}
