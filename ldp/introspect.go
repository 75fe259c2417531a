package ldp

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/ldp/wire"
)

// NeighborInfo is api.LDPNeighbor, the control API's wire type.
type NeighborInfo = api.LDPNeighbor

// Helper states of NeighborInfo.GRHelper.
const (
	GRReconnectWait = api.GRReconnectWait
	GRRecovering    = api.GRRecovering
)

// AdjacencyInfo is api.LDPAdjacency, the control API's wire type.
type AdjacencyInfo = api.LDPAdjacency

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
				ni.KeepAlive, ni.KeepaliveInterval = s.keepAlive, s.keepAlive/3
				ni.ProtocolVersion, ni.MaxPDU = wire.Version, s.maxPDU
				for t, on := range s.peerCaps {
					if on {
						ni.Capabilities = append(ni.Capabilities, t.String())
					}
				}
				slices.Sort(ni.Capabilities)
				ni.Synced = s.eolReceived || !s.peerCaps[wire.TLVUnrecognizedNotifCap]
			}
		}
		e.grInfo(&ni, n.sess)
		if c := e.counts.peers[n.id]; c != nil {
			for _, v := range c.Sent {
				ni.MessagesSent += v
			}
			for _, v := range c.Received {
				ni.MessagesReceived += v
			}
		}
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
