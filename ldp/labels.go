package ldp

import (
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/ldp/fec"
	"github.com/lsrd/lsrd/ldp/lib"
	"github.com/lsrd/lsrd/ldp/wire"
	"github.com/lsrd/lsrd/rib"
)

// LabelManager is the label decision part the engine drives (implemented by
// *lib.LIB). The engine tells it what happened on sessions and in the RIB;
// it answers with the label messages to send. It never sees a socket or a
// timer, and the engine never decides a label.
type LabelManager interface {
	// RouteUpdate and RouteDelete pass the RIB's best routes on.
	RouteUpdate(rib.Route) []lib.Outgoing
	RouteDelete(netip.Prefix) []lib.Outgoing
	// RouteTo returns the most specific route passed on that covers a,
	// if any: the path a session's connection takes (setup.go).
	RouteTo(a netip.Addr) (rib.Route, bool)
	// NeighborUp is called when the session with the peer of that LSR ID
	// becomes OPERATIONAL, NeighborDown exactly once when it ends.
	// The families are those the session serves (RFC 7552).
	NeighborUp(netip.Addr, ...fec.Family) []lib.Outgoing
	NeighborDown(netip.Addr) []lib.Outgoing
	// Draining tells whether a session's end left work to be done in
	// pieces, and Drain does the next piece (lib.DrainPiece FECs).
	Draining() bool
	Drain() []lib.Outgoing
	// NeighborAddresses and NeighborAddressesWithdrawn carry the peer's
	// Address and Address Withdraw messages.
	NeighborAddresses(netip.Addr, []netip.Addr) []lib.Outgoing
	NeighborAddressesWithdrawn(netip.Addr, []netip.Addr) []lib.Outgoing
	// LabelMessage carries label messages and advisory notifications.
	LabelMessage(netip.Addr, wire.Message) []lib.Outgoing
	// SetLocalAddresses tells the LIB this LSR's own interface addresses: a
	// host route to one of them makes this LSR the FEC's egress.
	SetLocalAddresses([]netip.Addr) []lib.Outgoing
	// SetLabelRange moves the local label range (a configuration change):
	// FECs outside it are renumbered without a session reset.
	SetLabelRange(min, max fib.Label) ([]lib.Outgoing, error)
	// Table returns a copy of the desired forwarding state, and Generation a
	// number that changes exactly when that state does: the engine copies the
	// table only when it changed, which keeps large tables linear.
	Table() *fib.Table
	Generation() uint64
	// TakeDelta returns what changed in the table since the previous call
	// (everything, the first time) and starts over.
	TakeDelta() *fib.Delta
	// UnroutedRefused counts the mappings released at once for the bound
	// on labels of FECs without a route (lib.Config.MaxUnroutedPerPeer).
	UnroutedRefused() uint64

	// Graceful restart (RFC 3478). NeighborStale replaces NeighborDown
	// when the session with a neighbour that preserves its forwarding
	// ends: its labels are kept, stale, until SweepStale deletes those it
	// did not advertise again (everything, when it did not come back).
	// StaleBindings counts them. DropSeed ends this LSR's own restart:
	// labels kept for FECs of the previous run are released.
	NeighborStale(netip.Addr) []lib.Outgoing
	SweepStale(netip.Addr) []lib.Outgoing
	StaleBindings(netip.Addr) int
	DropSeed() []lib.Outgoing
}

var _ LabelManager = (*lib.LIB)(nil)

// toLIB sends the LIB's messages, each to its peer's session, in order, and
// remembers that the forwarding state may have changed. Messages for a peer
// without an OPERATIONAL session are dropped: the LIB learns of the loss
// through NeighborDown.
func (e *Engine) toLIB(out []lib.Outgoing) {
	e.libTouched = true
	var peers []netip.Addr
	byPeer := map[netip.Addr][]wire.Message{}
	for _, o := range out {
		e.log.Debug("ldp: label message out", "lsr-id", o.Peer, "message", described{o.Msg})
		if _, ok := byPeer[o.Peer]; !ok {
			peers = append(peers, o.Peer)
		}
		byPeer[o.Peer] = append(byPeer[o.Peer], o.Msg)
	}
	for _, p := range peers {
		n := e.nbrs[p]
		if n == nil || n.sess == nil || n.sess.state != Operational {
			e.log.Warn("ldp: LIB message for a peer without session dropped", "lsr-id", p, "count", len(byPeer[p]))
			continue
		}
		e.sendMessages(n.sess, byPeer[p]...)
	}
}

// publishFIB emits the LIB's table when it changed since the last one
// emitted. The table is the LIB's fresh copy: the receiver may keep it.
func (e *Engine) publishFIB() {
	if !e.libTouched {
		return
	}
	e.libTouched = false
	gen := e.labels.Generation()
	if gen == e.lastGen {
		return
	}
	e.lastGen = gen
	if e.batchFIB {
		e.emit(FIBChanged{Delta: e.labels.TakeDelta()})
		return
	}
	e.emit(FIBChanged{Table: e.labels.Table()})
}

// described names a label message in debug logs, only when one is
// written: formatting every message of a label burst for a log line that
// is dropped cost a twentieth of a busy router's CPU.
type described struct{ m wire.Message }

func (d described) LogValue() slog.Value { return slog.StringValue(describe(d.m)) }

// describe names a label message.
func describe(m wire.Message) string {
	switch m := m.(type) {
	case *wire.LabelMapping:
		return fmt.Sprintf("mapping %v label %d", m.FEC, m.Label)
	case *wire.LabelWithdraw:
		return fmt.Sprintf("withdraw %v", m.FEC)
	case *wire.LabelRelease:
		return fmt.Sprintf("release %v", m.FEC)
	case *wire.LabelRequest:
		return fmt.Sprintf("request %v", m.FEC)
	}
	return fmt.Sprintf("%T", m)
}
