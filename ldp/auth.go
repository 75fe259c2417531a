package ldp

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/lsrd/lsrd/ldp/wire"
)

// TCP-MD5 session protection (RFC 5036 section 2.9, RFC 2385), as every
// vendor configures it: a key per neighbour LSR ID, or per prefix of LSR IDs
// (Cisco's "password option ... for ACL" matches LDP router IDs too).
//
// The kernel checks the signatures; the engine only decides which key goes
// with which transport address, and when:
//
//   - a neighbour's key is installed for its transport address (SetAuth)
//     when a hello makes it a neighbour, before any connection to or from it
//     can exist, and removed when the neighbour goes, as FRR's ldpd does
//     (nbr_new, nbr_del);
//   - a dialled connection carries the key itself (Dial.AuthKey);
//   - an accepted connection is authenticated only when the runtime had
//     the key for its source installed when it accepted it
//     (ConnAccepted.Authenticated). A connection accepted before the hello
//     that named its peer (SYN overtaking hello) was not, and is closed
//     when its peer turns out to need a key: it must not become a session
//     that looks protected and is not.
//
// A key mismatch leaves no trace in LDP: the kernel drops the segments. So
// the engine says what it can once per neighbour: the active side when its
// connection fails with a key configured, the passive side when no session
// arrived within AuthWaitWarn of the neighbour's discovery.

// AuthKey is the TCP-MD5 key of the neighbours whose LSR IDs are in Peers
// (a /32 for one neighbour). The longest matching prefix wins.
type AuthKey struct {
	Peers netip.Prefix
	Key   string
}

// MaxAuthKeyLen is the longest key Linux takes (TCP_MD5SIG_MAXKEYLEN).
const MaxAuthKeyLen = 80

// AuthWaitWarn is how long a passive LSR with a key for a neighbour waits
// for its session before saying that a key mismatch may be the reason.
const AuthWaitWarn = 30 * time.Second

// Security counts what the engine dropped or refused to protect sessions
// and discovery (Counters.Security).
type Security string

// The events counted in Counters.Security.
const (
	// SecMD5NoAnswer: a connection dialled with a TCP-MD5 key failed (a
	// peer with another key, or none, drops the SYN).
	SecMD5NoAnswer Security = "md5-no-answer"
	// SecMD5Unsigned: an accepted connection without TCP-MD5 came from a
	// neighbour that needs a key, and was closed.
	SecMD5Unsigned Security = "md5-unsigned-connection"
	// SecMD5NoSession: no session came from a neighbour with a key within
	// AuthWaitWarn while this LSR was the passive side.
	SecMD5NoSession Security = "md5-no-session"
	// SecGTSMHello: a link hello arrived with a TTL below 255 where GTSM
	// checks hellos (RFC 6720), and was dropped.
	SecGTSMHello Security = "gtsm-hello-ttl"
)

// SetAuth asks the runtime to install Key as the TCP-MD5 key for
// connections with Peer (a transport address) on the session listener, or
// to remove it when Key is empty. The runtime keeps the keys it installed,
// to report ConnAccepted.Authenticated.
type SetAuth struct {
	Peer netip.Addr
	Key  string
}

func (SetAuth) isAction() {}

// String hides the key: actions are logged and kept in conformance files.
func (a SetAuth) String() string {
	if a.Key == "" {
		return fmt.Sprintf("SetAuth{%v none}", a.Peer)
	}
	return fmt.Sprintf("SetAuth{%v md5}", a.Peer)
}

// authKey returns the key configured for the neighbour with LSR ID id, or
// "" when its sessions are not authenticated.
func (c Config) authKey(id netip.Addr) string {
	best, key := -1, ""
	for _, k := range c.Auth {
		if k.Peers.Contains(id) && k.Peers.Bits() > best {
			best, key = k.Peers.Bits(), k.Key
		}
	}
	return key
}

func (c Config) validateAuth() error {
	for i, k := range c.Auth {
		f := fmt.Sprintf("Auth[%d]", i)
		if !k.Peers.IsValid() || !k.Peers.Addr().Is4() || k.Peers != k.Peers.Masked() {
			return configErr(f+".Peers", k.Peers, "must be an IPv4 prefix of LSR IDs without host bits")
		}
		if len(k.Key) == 0 || len(k.Key) > MaxAuthKeyLen {
			return configErr(f+".Key", fmt.Sprintf("of %d bytes", len(k.Key)), fmt.Sprintf("must be 1 to %d bytes", MaxAuthKeyLen))
		}
		for _, o := range c.Auth[:i] {
			if o.Peers == k.Peers {
				return configErr(f+".Peers", k.Peers, "listed twice")
			}
		}
	}
	return nil
}

// authNew installs the key of a neighbour just discovered.
func (e *Engine) authNew(n *neighbor) {
	n.authKey = e.cfg.authKey(n.id)
	n.authWarned = false
	if n.authKey == "" {
		return
	}
	e.emit(SetAuth{Peer: n.transport, Key: n.authKey})
	if !e.active(n) {
		e.arm(&n.authWaitAt, e.now.Add(AuthWaitWarn))
	}
}

// authGone removes the key of a neighbour that went, unless another
// neighbour shares its transport address.
func (e *Engine) authGone(n *neighbor) {
	e.arm(&n.authWaitAt, time.Time{})
	if n.authKey != "" && e.transports[n.transport] <= 0 {
		e.emit(SetAuth{Peer: n.transport})
	}
}

// authReconfigure applies changed keys: a neighbour whose key changed gets
// the new one installed and its session re-formed with it at once; no
// other session is touched.
func (e *Engine) authReconfigure() {
	for _, id := range sortedAddrs(e.nbrs) {
		n := e.nbrs[id]
		key := e.cfg.authKey(id)
		if key == n.authKey || !n.transport.IsValid() {
			continue
		}
		e.log.Info("ldp: TCP-MD5 key changed, session re-forms", "lsr-id", id, "md5", key != "")
		e.emit(SetAuth{Peer: n.transport, Key: key})
		n.authKey, n.authWarned = key, false
		e.arm(&n.authWaitAt, time.Time{})
		if key != "" && !e.active(n) {
			e.arm(&n.authWaitAt, e.now.Add(AuthWaitWarn))
		}
		if s := n.sess; s != nil {
			s.admin = true
			s.endedBy("reason", "TCP-MD5 key changed")
			e.closeSession(s, wire.StatusShutdown)
		}
		e.resetBackoff(n)
		e.maybeConnect(n)
	}
}

// authAccept checks an accepted connection against its neighbour's key,
// closing it when the neighbour needs one the connection was not signed
// with.
func (e *Engine) authAccept(s *session, n *neighbor) bool {
	if n.authKey == "" || s.authenticated {
		return true
	}
	e.security(SecMD5Unsigned)
	e.authWarn(n, "connection without TCP-MD5 from a neighbour with a key, closed", "remote", s.remote)
	e.closeSession(s, noNotification)
	return false
}

// authDialFailed reports a failed dial to a neighbour with a key.
func (e *Engine) authDialFailed(n *neighbor, err error) {
	if n == nil || n.authKey == "" {
		return
	}
	e.security(SecMD5NoAnswer)
	e.authWarn(n, "no TCP answer with TCP-MD5: the neighbour's key differs or it has none", "err", err)
}

// authWaited fires the passive side's wait timers.
func (e *Engine) authWaited() {
	for _, id := range sortedAddrs(e.nbrs) {
		n := e.nbrs[id]
		if n.authWaitAt.IsZero() || n.authWaitAt.After(e.now) {
			continue
		}
		e.arm(&n.authWaitAt, time.Time{})
		if n.sess == nil || n.sess.state != Operational {
			e.security(SecMD5NoSession)
			e.authWarn(n, fmt.Sprintf("no session %v after discovery with TCP-MD5 configured: a neighbour whose key differs or is missing is dropped by the kernel", AuthWaitWarn))
		}
	}
}

// authWarn logs a key problem once per neighbour until its session forms
// or its key changes: the kernel drops every retried SYN, and one line per
// SYN would drown the log.
func (e *Engine) authWarn(n *neighbor, msg string, args ...any) {
	if n.authWarned {
		return
	}
	n.authWarned = true
	e.log.Warn("ldp session not established: "+msg, append([]any{"lsr-id", n.id, "transport", n.transport}, args...)...)
}

func (e *Engine) security(ev Security) {
	if e.counts.security == nil {
		e.counts.security = map[Security]uint64{}
	}
	e.counts.security[ev]++
}
