package ldp

import (
	"net/netip"
	"slices"
	"time"
)

// Limit names one of the engine's bounds on the state other LSRs can make
// it keep (Config.MaxNeighbors and the like). RFC 5036 sets none; without
// them a flood of hellos from made-up LSR IDs, or of idle connections,
// costs memory and time without end.
type Limit string

// The engine's bounds, as counted in Counters.Limits.
const (
	// LimitInterfaceAdjacencies: a hello that would have made one more
	// link adjacency than Config.MaxAdjacenciesPerInterface.
	LimitInterfaceAdjacencies Limit = "interface-adjacencies"
	// LimitNeighbors: a hello from a new LSR ID beyond Config.MaxNeighbors.
	LimitNeighbors Limit = "neighbors"
	// LimitPendingConnections: a connection accepted beyond
	// Config.MaxPendingConnections, closed at once.
	LimitPendingConnections Limit = "pending-connections"
	// LimitInitTimeout: a connection closed because it did not name its
	// peer within Config.PendingConnTimeout, or its peer's Initialization
	// was not accepted within Config.InitTimeout.
	LimitInitTimeout Limit = "init-timeout"
	// LimitUnroutedLabels: a Label Mapping for a FEC without a route
	// beyond lib.Config.MaxUnroutedPerPeer, released at once.
	LimitUnroutedLabels Limit = "unrouted-labels"
)

// limitLogEvery spaces the log lines of a bound that keeps being hit: one
// line when it is first reached, then at most one every limitLogEvery with
// the number refused meanwhile, so that a flood cannot flood the log too.
const limitLogEvery = 10 * time.Second

type limitState struct {
	count   uint64
	lastLog time.Time
	unlog   uint64 // hits not yet in a log line
}

// limitHit counts a refusal by the bound l and logs it, rate-limited.
func (e *Engine) limitHit(l Limit, args ...any) { e.limitHitN(l, 1, args...) }

// limitHitN counts n refusals by the bound l.
func (e *Engine) limitHitN(l Limit, n uint64, args ...any) {
	if e.counts.limits == nil {
		e.counts.limits = map[Limit]*limitState{}
	}
	st := e.counts.limits[l]
	if st == nil {
		st = &limitState{}
		e.counts.limits[l] = st
	}
	st.count += n
	st.unlog += n
	if !st.lastLog.IsZero() && e.now.Sub(st.lastLog) < limitLogEvery {
		return
	}
	e.log.Warn("ldp: bound reached, refused", append([]any{"limit", string(l), "refused", st.unlog, "total", st.count}, args...)...)
	st.lastLog = e.now
	st.unlog = 0
}

// admitAdjacency decides whether a hello that would create the adjacency
// key may do so. It is asked before any state is kept for the hello.
func (e *Engine) admitAdjacency(key adjKey) bool {
	if key.targeted && slices.Contains(e.cfg.Targets, key.src) {
		return true // configured: never crowded out
	}
	if !key.targeted {
		if i := e.ifaces[key.ifname]; i != nil && i.adjs >= e.cfg.MaxAdjacenciesPerInterface {
			e.limitHit(LimitInterfaceAdjacencies, "interface", key.ifname, "lsr-id", key.lsrID, "max", e.cfg.MaxAdjacenciesPerInterface)
			return false
		}
	}
	if e.nbrs[key.lsrID] == nil && len(e.nbrs) >= e.cfg.MaxNeighbors {
		e.limitHit(LimitNeighbors, "lsr-id", key.lsrID, "max", e.cfg.MaxNeighbors)
		return false
	}
	return true
}

// admitConnection decides whether an accepted connection from remote may
// wait for its first PDU, and for how long: a connection from an address
// that is no neighbour's transport address gets the short
// PendingConnTimeout (a SYN may overtake the hello, no more).
func (e *Engine) admitConnection(remote netip.Addr) (time.Duration, bool) {
	if e.pending >= e.cfg.MaxPendingConnections {
		e.limitHit(LimitPendingConnections, "remote", remote, "max", e.cfg.MaxPendingConnections)
		return 0, false
	}
	if e.transports[remote] == 0 {
		return e.cfg.PendingConnTimeout, true
	}
	return e.cfg.InitTimeout, true
}
