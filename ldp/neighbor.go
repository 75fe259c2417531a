package ldp

import (
	"net/netip"
	"time"

	"github.com/lsrd/lsrd/ldp/fec"
	"github.com/lsrd/lsrd/ldp/wire"
)

// neighbor is a peer LSR known through at least one Hello adjacency. It
// holds at most one session: lsrd has a single platform-wide label space, so
// one session per peer LSR ID (RFC 5036 section 2.2.2).
type neighbor struct {
	id netip.Addr
	// transport is where its session runs: from the Transport Address
	// TLV, or the source, of a hello of the session's family
	// (sessionFamily); invalid until one came.
	transport netip.Addr
	adjs      map[adjKey]*adjacency
	sess      *session
	// RFC 7552 (family.go): whether it is dual-stack (its first hello
	// carried the Dual-Stack TLV and this LSR is dual-stack too), the
	// family of its first hello, and the families its session serves.
	dualStack   bool
	firstFamily Family
	families    familyBit
	// helloTransport is the transport address its hellos of each family
	// (indexed by Family) gave.
	helloTransport [3]netip.Addr

	// Session initialization backoff of the active side (RFC 5036
	// section 2.5.3): retryAt is when the next attempt may start, zero
	// when no attempt is being held back.
	backoff time.Duration
	retryAt time.Time
	// A failure a hello or a route can cure (setup.go): retry after the
	// next hello sent to the neighbour, at most maxQuickRetries in a row,
	// and after a change of the route to its transport address.
	waitHello    bool
	quickRetries int
	waitRoute    bool

	// TCP-MD5 (auth.go): the key installed for transport, "" for none;
	// whether a key problem was logged; when the passive side says no
	// session came.
	authKey    string
	authWarned bool
	authWaitAt time.Time
}

// ldpID is the identifier the peer must use in its PDU headers.
func (n *neighbor) ldpID() wire.LDPID { return wire.LDPID{LSRID: n.id} }

// Session initialization backoff (RFC 5036 section 2.5.3): the first retry
// waits 15 s, each further one twice as long, never more than 2 minutes.
const (
	initialBackoff = 15 * time.Second
	maxBackoff     = 2 * time.Minute
)

// activeRole reports whether this LSR opens the session: RFC 5036 section
// 2.5.2 makes the LSR with the higher transport address (compared as
// unsigned integers, of the session's family: RFC 7552 section 6.1.2)
// active.
func activeRole(local, remote netip.Addr) bool { return local.Compare(remote) > 0 }

// active reports whether this LSR opens the session with n.
func (e *Engine) active(n *neighbor) bool {
	return activeRole(e.cfg.transport(fec.FamilyOf(n.transport)), n.transport)
}

// holdBack schedules the next initialization attempt after a failed one
// and doubles the delay for the attempt after it.
func (e *Engine) holdBack(n *neighbor) {
	e.arm(&n.retryAt, e.now.Add(n.backoff))
	n.backoff = min(2*n.backoff, maxBackoff)
}

// resetBackoff forgets earlier failures; called when a session reaches
// OPERATIONAL, or when the operator clears the neighbour.
func (e *Engine) resetBackoff(n *neighbor) {
	n.backoff = initialBackoff
	n.waitHello, n.quickRetries, n.waitRoute = false, 0, false
	n.authWarned = false
	e.arm(&n.retryAt, time.Time{})
}

// maybeConnect starts a session with n when this LSR has the active role, no
// session exists and the backoff allows it; the passive side waits for the
// peer's connection (section 2.5.2).
func (e *Engine) maybeConnect(n *neighbor) {
	if n.sess != nil || !n.transport.IsValid() || !e.active(n) {
		return
	}
	if !n.retryAt.IsZero() && n.retryAt.After(e.now) {
		return
	}
	e.arm(&n.retryAt, time.Time{})
	e.dialSeq++
	id := DialBit | ConnID(e.dialSeq)
	s := e.newSession(id, true)
	s.nbr = n
	s.remote = netip.AddrPortFrom(n.transport, Port)
	e.notePath(s)
	s.authenticated = n.authKey != ""
	minTTL := e.gtsmMinTTL(n)
	s.gtsm = minTTL > 0
	n.sess = s
	local := e.cfg.transport(fec.FamilyOf(n.transport))
	e.emit(Dial{Conn: id, Local: netip.AddrPortFrom(local, 0), Remote: s.remote, AuthKey: n.authKey, MinTTL: minTTL})
	e.log.Info("ldp session connecting", "lsr-id", n.id, "remote", s.remote)
}

// retryConnections fires the backoff timers due at now.
func (e *Engine) retryConnections() {
	for _, id := range sortedAddrs(e.nbrs) {
		n := e.nbrs[id]
		if !n.retryAt.IsZero() && !n.retryAt.After(e.now) {
			e.arm(&n.retryAt, time.Time{})
			e.maybeConnect(n)
		}
	}
}
