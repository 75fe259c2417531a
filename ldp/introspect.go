package ldp

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/lsrd/lsrd/ldp/wire"
)

// NeighborInfo is one neighbour as operators see it ("show ldp neighbors"
// and "show ldp discovery").
type NeighborInfo struct {
	LSRID     netip.Addr `json:"lsr_id"`
	Transport netip.Addr `json:"transport_address"`
	// State is the session's state (RFC 5036 section 2.5.4), NON EXISTENT
	// when there is no session (yet).
	State string `json:"state"`
	// Since is when the session entered State; zero without a session.
	Since     time.Time      `json:"since,omitzero"`
	Active    bool           `json:"active"` // this LSR opened the session
	KeepAlive time.Duration  `json:"keepalive_ns,omitempty"`
	Remote    netip.AddrPort `json:"remote,omitzero"`
	// MD5 is true when the session's connection is TCP-MD5 signed; a
	// neighbour with a key never has a session without it.
	MD5 bool `json:"md5"`
	// GTSM is true when the session drops segments that arrive with a
	// TTL below 255 (RFC 6720).
	GTSM        bool            `json:"gtsm"`
	Adjacencies []AdjacencyInfo `json:"adjacencies"`
	// Synced is LDP-IGP synchronisation (RFC 5443) with this neighbour:
	// the session is OPERATIONAL and the neighbour's initial labels are
	// all in, as its End-of-LIB (RFC 5919) says; a neighbour that does
	// not signal End-of-LIB is synced once OPERATIONAL.
	Synced bool `json:"igp_sync"`

	// GracefulRestart is true when the session (the current one, or the
	// last OPERATIONAL one while this LSR helps the neighbour restart)
	// negotiated RFC 3478: both sides sent the FT Session TLV.
	// PeerReconnectTime and PeerRecoveryTime are the neighbour's FT
	// Reconnect Timeout and Recovery Time.
	GracefulRestart   bool          `json:"graceful_restart"`
	PeerReconnectTime time.Duration `json:"peer_reconnect_ns,omitempty"`
	PeerRecoveryTime  time.Duration `json:"peer_recovery_ns,omitempty"`
	// GRHelper is "reconnect-wait" while this LSR keeps the labels of a
	// neighbour whose session was lost, "recovering" once it is back and
	// re-advertising, empty otherwise. StaleBindings counts its labels
	// still stale; StaleUntil is when they are deleted if not refreshed.
	GRHelper      string    `json:"gr_helper,omitempty"`
	StaleBindings int       `json:"stale_bindings,omitempty"`
	StaleUntil    time.Time `json:"stale_until,omitzero"`
}

// Helper states of NeighborInfo.GRHelper.
const (
	GRReconnectWait = "reconnect-wait"
	GRRecovering    = "recovering"
)

// AdjacencyInfo is one Hello adjacency of a neighbour.
type AdjacencyInfo struct {
	Targeted  bool          `json:"targeted"`
	Interface string        `json:"interface,omitempty"` // link adjacencies
	Source    netip.Addr    `json:"source,omitzero"`     // the last hello's source address
	Hold      time.Duration `json:"hold_ns"`
	// Expires is when the adjacency ends without another Hello; zero when
	// the hold time is infinite.
	Expires time.Time `json:"expires,omitzero"`
}

// Neighbors describes every known neighbour, sorted by LSR ID, with those
// whose labels this LSR keeps for a graceful restart although no hello
// comes from them any more. It reads the engine's state and must be called
// from the goroutine that calls Handle.
func (e *Engine) Neighbors() []NeighborInfo {
	var out []NeighborInfo
	ids := sortedAddrs(e.nbrs)
	for _, id := range sortedAddrs(e.helping) {
		if e.nbrs[id] == nil {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, netip.Addr.Compare)
	for _, id := range ids {
		n := e.nbrs[id]
		if n == nil {
			ni := NeighborInfo{LSRID: id, State: NonExistent.String(), Adjacencies: []AdjacencyInfo{}}
			e.grInfo(&ni, nil)
			out = append(out, ni)
			continue
		}
		ni := NeighborInfo{LSRID: n.id, Transport: n.transport, State: NonExistent.String(), Adjacencies: []AdjacencyInfo{}}
		if s := n.sess; s != nil {
			ni.State = s.state.String()
			ni.Since = s.since
			ni.Active = s.active
			ni.Remote = s.remote
			ni.MD5 = s.authenticated
			ni.GTSM = s.gtsm
			if s.state == Operational {
				ni.KeepAlive = s.keepAlive
				ni.Synced = s.eolReceived || !s.peerCaps[wire.TLVUnrecognizedNotifCap]
			}
		}
		e.grInfo(&ni, n.sess)
		for _, a := range n.adjs {
			ni.Adjacencies = append(ni.Adjacencies, AdjacencyInfo{
				Targeted: a.key.targeted, Interface: a.key.ifname, Source: a.source,
				Hold: a.hold, Expires: a.expires,
			})
		}
		sortAdjacencies(ni.Adjacencies)
		out = append(out, ni)
	}
	return out
}

func sortAdjacencies(as []AdjacencyInfo) {
	slices.SortFunc(as, func(a, b AdjacencyInfo) int {
		if a.Targeted != b.Targeted {
			if a.Targeted {
				return 1
			}
			return -1
		}
		if c := strings.Compare(a.Interface, b.Interface); c != 0 {
			return c
		}
		return a.Source.Compare(b.Source)
	})
}

// grInfo fills in the graceful restart fields of ni: from s when it is
// OPERATIONAL, from the helper state otherwise.
func (e *Engine) grInfo(ni *NeighborInfo, s *session) {
	if s != nil && s.state == Operational && s.peerGR() {
		ni.GracefulRestart = true
		ni.PeerReconnectTime = msDuration(s.peerFT.ReconnectTimeout)
		ni.PeerRecoveryTime = msDuration(s.peerFT.RecoveryTime)
	}
	h := e.helping[ni.LSRID]
	if h == nil {
		return
	}
	ni.StaleBindings = e.labels.StaleBindings(ni.LSRID)
	if !h.reconnectBy.IsZero() {
		ni.GRHelper, ni.StaleUntil = GRReconnectWait, h.reconnectBy
		ni.GracefulRestart = true // the session that was lost negotiated it
	} else {
		ni.GRHelper, ni.StaleUntil = GRRecovering, h.recoverBy
	}
}

// LDP-IGP synchronisation states of an interface (RFC 5443), as
// InterfaceSync reports them.
const (
	SyncAchieved    = "achieved"     // every LDP neighbour on the link is synced
	SyncNotAchieved = "not-achieved" // a neighbour on the link is not (yet)
	SyncNoPeer      = "no-peer"      // no LDP neighbour on the link: nothing to wait for
)

// InterfaceSync says whether LDP is in sync on interface ifname, from the
// neighbours with a link adjacency there: what an IGP would wait for
// before it advertises the link at its normal metric (RFC 5443 section
// 4). The IGP's own synchronisation is internal to each IGP daemon; this
// is the state an operator's tooling can act on.
func InterfaceSync(ns []NeighborInfo, ifname string) string {
	state := SyncNoPeer
	for _, n := range ns {
		onLink := slices.ContainsFunc(n.Adjacencies, func(a AdjacencyInfo) bool { return !a.Targeted && a.Interface == ifname })
		switch {
		case !onLink:
		case !n.Synced:
			return SyncNotAchieved
		default:
			state = SyncAchieved
		}
	}
	return state
}
