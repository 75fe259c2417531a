package ldp

import (
	"net/netip"
	"slices"
	"strings"
	"time"
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
	Since       time.Time       `json:"since,omitzero"`
	Active      bool            `json:"active"` // this LSR opened the session
	KeepAlive   time.Duration   `json:"keepalive_ns,omitempty"`
	Remote      netip.AddrPort  `json:"remote,omitzero"`
	Adjacencies []AdjacencyInfo `json:"adjacencies"`
}

// AdjacencyInfo is one Hello adjacency of a neighbour.
type AdjacencyInfo struct {
	Targeted  bool          `json:"targeted"`
	Interface string        `json:"interface,omitempty"` // link adjacencies
	Source    netip.Addr    `json:"source,omitzero"`     // targeted adjacencies
	Hold      time.Duration `json:"hold_ns"`
	// Expires is when the adjacency ends without another Hello; zero when
	// the hold time is infinite.
	Expires time.Time `json:"expires,omitzero"`
}

// Neighbors describes every known neighbour, sorted by LSR ID. It reads the
// engine's state and must be called from the goroutine that calls Handle.
func (e *Engine) Neighbors() []NeighborInfo {
	var out []NeighborInfo
	for _, id := range sortedAddrs(e.nbrs) {
		n := e.nbrs[id]
		ni := NeighborInfo{LSRID: n.id, Transport: n.transport, State: NonExistent.String(), Adjacencies: []AdjacencyInfo{}}
		if s := n.sess; s != nil {
			ni.State = s.state.String()
			ni.Since = s.since
			ni.Active = s.active
			ni.Remote = s.remote
			if s.state == Operational {
				ni.KeepAlive = s.keepAlive
			}
		}
		for _, a := range n.adjs {
			ni.Adjacencies = append(ni.Adjacencies, AdjacencyInfo{
				Targeted: a.key.targeted, Interface: a.key.ifname, Source: a.key.src,
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
