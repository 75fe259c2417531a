package ldp

import (
	"errors"
	"net/netip"
	"time"

	"github.com/lsrd/lsrd/ldp/wire"
	"github.com/lsrd/lsrd/rib"
)

// session is one LDP session over one TCP connection (RFC 5036 section 2.5).
// A session of an accepted connection has no neighbour until its first PDU
// names the peer (section 2.5.3).
type session struct {
	conn      ConnID
	nbr       *neighbor
	active    bool // this LSR opened the connection
	connected bool // the transport connection is established
	remote    netip.AddrPort
	state     State
	since     time.Time // when state was entered
	closed    bool
	buf       []byte // received bytes not yet framed into a PDU

	// Negotiated at Initialization (section 3.5.3).
	keepAlive time.Duration
	maxPDU    int
	peerCaps  map[wire.TLVType]bool

	holdExpires   time.Time // session KeepAlive (hold) timer
	nextKeepAlive time.Time // when a KeepAlive is due if nothing else is sent
	msgID         uint32    // last Message ID used on this session
	operational   bool      // reached OPERATIONAL: NeighborDown is owed
	// eolOwed: End-of-LIB (RFC 5919) is held back until this LSR's own
	// graceful restart has recovered (gracefulrestart.go).
	eolOwed bool
	// eolReceived: the peer's End-of-LIB arrived (its initial labels are
	// all here), for LDP-IGP synchronisation (RFC 5443).
	eolReceived bool
	cause       []any // why the session ends, for the log (endedBy)
	parked      bool  // its first PDU waits for a hello (setup.go)
	// authenticated: the connection is TCP-MD5 signed (auth.go); gtsm:
	// it drops segments with a TTL below 255 (gtsm.go).
	authenticated bool
	gtsm          bool
	curable       bool      // ended by something a hello or route can cure
	began         time.Time // when the connection was dialled or accepted
	// path: the route to the remote address known then, if pathKnown
	// (setup.go: only a change of it starts the set-up over).
	path      rib.Route
	pathKnown bool
	// restart: set-up starts over at once, with no backoff (setup.go).
	restart bool

	// Graceful restart (RFC 3478): whether our Initialization carried the
	// FT Session TLV, the peer's, and whether this LSR ends the session on
	// purpose (then the peer's labels go at once: no helper).
	sentFT bool
	peerFT *wire.FTSession
	admin  bool
}

func (e *Engine) newSession(id ConnID, active bool) *session {
	s := &session{
		conn:      id,
		active:    active,
		keepAlive: e.cfg.KeepAlive,
		maxPDU:    wire.DefaultMaxPDULen,
		began:     e.now,
	}
	e.conns[id] = s
	return s
}

// connUp starts the hold timer of a new transport connection: until the
// Initialization exchange negotiates a KeepAlive time, the proposed one
// bounds how long the peer may stay silent (section 2.5.4 leaves the
// initialization timeout to the implementation).
func (e *Engine) connUp(s *session, wait time.Duration) {
	s.connected = true
	e.arm(&s.holdExpires, e.now.Add(min(s.keepAlive, wait)))
	e.setState(s, Initialized)
}

// restartHold restarts the session hold timer on receipt of a PDU (section
// 2.5.6). Until the peer's Initialization is accepted the peer has
// InitTimeout, not the KeepAlive time: a connection that opens and idles
// holds nothing for minutes. From then on (OPENREC) the session's hold is
// the KeepAlive time the two negotiated: the peer has named itself and
// agreed, and its KeepAlive may be late. With InitTimeout there, on a
// 60-router segment whose starts lost packets for seconds, the active side
// went OPERATIONAL on the peer's Initialization and KeepAlive while its
// own KeepAlive, in TCP's retransmission backoff, reached the peer after
// the peer had given up: the active side's session then flapped.
func (e *Engine) restartHold(s *session) {
	hold := s.keepAlive
	if s.state != Operational && s.state != OpenRec {
		hold = min(hold, e.cfg.InitTimeout)
	}
	e.arm(&s.holdExpires, e.now.Add(hold))
}

func (e *Engine) connAccepted(ev ConnAccepted) {
	if ev.Conn&DialBit != 0 || e.conns[ev.Conn] != nil {
		e.log.Warn("ldp: runtime passed an unusable connection id", "conn", uint64(ev.Conn), "remote", ev.Remote)
		e.emit(Close{Conn: ev.Conn})
		return
	}
	wait, ok := e.admitConnection(ev.Remote.Addr())
	if !ok {
		e.emit(Close{Conn: ev.Conn})
		return
	}
	s := e.newSession(ev.Conn, false)
	s.remote = ev.Remote
	e.notePath(s)
	s.authenticated = ev.Authenticated
	e.pending++
	e.connUp(s, wait)
}

func (e *Engine) connEstablished(ev ConnEstablished) {
	s := e.conns[ev.Conn]
	if s == nil || !s.active || s.connected {
		return
	}
	e.connUp(s, e.cfg.InitTimeout)
	// The active LSR opens with Initialization (section 2.5.3).
	e.sendInit(s)
	e.setState(s, OpenSent)
}

func (e *Engine) connLost(id ConnID, err error) {
	s := e.conns[id]
	if s == nil {
		return
	}
	e.log.Info("ldp connection lost", "conn", uint64(id), "remote", s.remote, "err", err)
	s.endedBy("reason", "transport error", "err", err)
	// Refused or reset before initialization: the peer may not listen
	// yet, or not have our hello.
	s.curable = s.state != Operational
	e.closeSession(s, noNotification)
}

func (e *Engine) connAlive(ev ConnAlive) {
	if s := e.conns[ev.Conn]; s != nil && s.connected && s.state == Operational {
		e.restartHold(s)
	}
}

// connData frames the stream into PDUs (section 3.1) and handles each.
func (e *Engine) connData(ev ConnData) {
	s := e.conns[ev.Conn]
	if s == nil || !s.connected {
		return
	}
	s.buf = append(s.buf, ev.Data...)
	for !s.closed {
		n, err := wire.PDUSize(s.buf, s.maxPDU)
		if err != nil {
			// The stream cannot be framed any further.
			e.decodeFailure(s, err)
			return
		}
		if n == 0 || len(s.buf) < n {
			break
		}
		if e.parkable(s) {
			break
		}
		pdu := s.buf[:n:n]
		s.buf = s.buf[n:]
		e.handlePDU(s, pdu)
	}
	if len(s.buf) == 0 {
		s.buf = nil
	}
}

// handlePDU processes one framed PDU.
func (e *Engine) handlePDU(s *session, b []byte) {
	e.restartHold(s)
	pdu, err := wire.DecodePDU(b)
	if pdu == nil {
		if s.nbr == nil && !e.bindFromHeader(s, b) {
			return
		}
		e.decodeFailure(s, err)
		return
	}
	if s.nbr == nil {
		if !e.bind(s, pdu.ID) {
			return
		}
	} else if pdu.ID != s.nbr.ldpID() {
		// Section 3.5.1.2.1: a PDU header with an LDP Identifier other
		// than the session's is a fatal Bad LDP Identifier.
		e.closeSession(s, wire.StatusBadLDPIdentifier)
		return
	}
	for _, m := range pdu.Messages {
		e.counts.message(s, m, false)
	}
	if pdu.UnknownTLVs > 0 {
		e.counts.peer(s.nbr.id).UnknownTLVs += uint64(pdu.UnknownTLVs)
	}
	skip := map[int]bool{}
	var me wire.MessageErrors
	if errors.As(err, &me) {
		// Section 3.5: the message is ignored, the peer advised, and
		// the rest of the PDU processed.
		for _, de := range me {
			skip[de.Index] = true
			st := wire.NewStatus(de.Status, de.MsgID, de.MsgType)
			if de.MsgType == wire.MsgInitialization && s.state != Operational {
				// An Initialization that cannot be read (no Common
				// Session Parameters, section 3.5.3) is one that
				// cannot be accepted: ignored, it would leave the
				// session waiting for the hold timer. Section 2.5.4
				// has the LSR send the error and close.
				e.log.Info("ldp: session rejected, bad Initialization", "lsr-id", s.peerName(), "status", de.Status.String(), "err", de)
				st.Fatal = true
				e.notify(s, st)
				e.closeSession(s, noNotification)
				return
			}
			e.notify(s, st)
		}
	}
	for i, m := range pdu.Messages {
		if s.closed {
			return
		}
		if !skip[i] {
			e.handleMessage(s, m)
		}
	}
}

// decodeFailure reports a PDU that could not be decoded with the status the
// codec chose; fatal ones end the session (section 3.5.1.2).
func (e *Engine) decodeFailure(s *session, err error) {
	var de *wire.DecodeError
	if !errors.As(err, &de) {
		e.closeSession(s, wire.StatusInternalError)
		return
	}
	e.log.Warn("ldp: bad PDU", "lsr-id", s.peerName(), "status", de.Status.String(), "err", err)
	st := wire.NewStatus(de.Status, de.MsgID, de.MsgType)
	if !de.Fatal() {
		e.notify(s, st)
		return
	}
	e.notify(s, st)
	e.closeSession(s, noNotification)
}

// bindFromHeader names the peer of an accepted connection whose first PDU
// cannot be decoded, so that the error goes through the normal path; it
// fails like bind does.
func (e *Engine) bindFromHeader(s *session, b []byte) bool {
	if len(b) < wire.HeaderLen {
		e.closeSession(s, wire.StatusSessionRejectedNoHello)
		return false
	}
	id := wire.LDPID{LSRID: netip.AddrFrom4([4]byte(b[4:8])), LabelSpace: uint16(b[8])<<8 | uint16(b[9])}
	return e.bind(s, id)
}

// bind matches an accepted connection to a neighbour: section 2.5.3 has
// the passive LSR find the Hello adjacency from the transport address the
// connection comes from and the LDP Identifier in the first PDU. Without
// one it rejects the session with "Session Rejected/No Hello".
func (e *Engine) bind(s *session, id wire.LDPID) bool {
	n := e.nbrs[id.LSRID]
	if n == nil || id.LabelSpace != 0 || n.transport != s.remote.Addr() {
		e.log.Info("ldp: session rejected, no hello", "ldp-id", id, "remote", s.remote)
		e.closeSession(s, wire.StatusSessionRejectedNoHello)
		return false
	}
	if e.active(n) {
		// From the side that should have waited: we open ourselves.
		e.log.Info("ldp: redundant connection closed", "lsr-id", n.id, "remote", s.remote)
		e.closeSession(s, noNotification)
		return false
	}
	if !e.authAccept(s, n) {
		return false
	}
	// The peer dials (it has the higher transport address) and already has
	// an OPERATIONAL session with us, yet opens another connection: it has
	// lost that session (it restarted, or its end of the connection went
	// without a word reaching us; with GTSM even its kernel's RST is
	// dropped, since a RST leaves with the default TTL). Waiting for the
	// keepalive timer (3 minutes by default) would keep its labels away
	// that long: once the new connection passes the same checks, it
	// replaces the old session.
	//
	// The same holds for a session still setting up: the peer, which dials
	// one connection at a time, has given up on it, though its close may
	// never have reached us (GTSM drops a segment that took a longer path).
	if old := n.sess; old != nil {
		e.log.Info("ldp: neighbour opened a new connection; its previous session is gone", "lsr-id", n.id, "remote", s.remote)
		old.endedBy("reason", "superseded by a new connection from the peer")
		e.closeSession(old, noNotification)
	}
	if ttl := e.gtsmMinTTL(n); ttl > 0 {
		s.gtsm = true
		e.emit(Protect{Conn: s.conn, MinTTL: ttl})
	}
	s.nbr = n
	n.sess = s
	e.pending--
	e.shape++
	e.emit(SessionState{LSRID: n.id, Conn: s.conn, From: NonExistent, To: s.state})
	return true
}

// noNotification closes a session without telling the peer, when the
// connection is already gone or the peer ended the session.
const noNotification wire.StatusCode = 0

// closeSession ends a session: it sends a Notification with code (unless
// noNotification), closes the connection, reports the state change and,
// when the session had reached OPERATIONAL, tells the LIB exactly once.
// Only this session is touched; other sessions never see its errors.
func (e *Engine) closeSession(s *session, code wire.StatusCode) {
	if s.closed {
		return
	}
	if code != noNotification && s.connected {
		s.endedBy("reason", "notification sent", "status", code.String())
		e.notify(s, wire.NewStatus(code, 0, 0))
	} else if code != noNotification {
		s.endedBy("reason", "closed before connecting: "+code.String())
	}
	s.endedBy("reason", "closed without notification")
	s.closed = true
	delete(e.conns, s.conn)
	e.arm(&s.holdExpires, time.Time{})
	e.arm(&s.nextKeepAlive, time.Time{})
	e.emit(Close{Conn: s.conn})
	n := s.nbr
	if n == nil {
		if !s.active {
			e.pending--
		}
		return
	}
	wasUp := s.operational
	from := s.state
	e.setState(s, NonExistent)
	n.sess = nil
	e.log.Info("ldp session closed", append(append([]any{"lsr-id", n.id}, s.cause...), "from", from.String())...)
	if wasUp {
		e.sessionLost(s)
	}
	// Section 2.5.3: the active side retries a failed initialization
	// with exponential backoff; sooner when what stopped it can be seen to
	// go (setup.go). A session that was up did not fail to initialize: it
	// is tried again at once, and if the peer is restarting (refused until
	// it listens again) the quick retries follow our hellos, so that a
	// graceful restart helper gets its neighbour's session back in
	// seconds, not after the backoff's 15.
	if s.active && len(n.adjs) > 0 {
		switch {
		case wasUp:
			e.resetBackoff(n)
			e.arm(&n.retryAt, e.now.Add(quickRetryDelay))
		case s.restart:
			e.arm(&n.retryAt, e.now.Add(quickRetryDelay))
		default:
			e.holdBack(n)
			if s.curable {
				n.waitRoute = true
				e.retryOnHello(n)
			}
		}
	}
}

// closeAdmin ends a session on purpose (operator's clear, configuration,
// this LSR's transport address gone): Shutdown, and no graceful restart
// help for the peer, whose labels go at once.
func (e *Engine) closeAdmin(s *session) {
	s.admin = true
	e.closeSession(s, wire.StatusShutdown)
}

// endedBy records why s ends, as log attributes: the fatal status this LSR
// sent, the one the peer sent, or the transport error. The first cause
// wins: what follows it (the close, the peer hanging up) is its effect.
// closeSession logs it; code 0 is Success on the wire, so a session closed
// without a Notification is never logged with the status it did not send.
func (s *session) endedBy(attrs ...any) {
	if s.cause == nil {
		s.cause = attrs
	}
}

func (s *session) peerName() string {
	if s.nbr != nil {
		return s.nbr.id.String()
	}
	return s.remote.String()
}
