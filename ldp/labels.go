package ldp

import (
	"net/netip"
	"slices"

	"github.com/lsrd/lsrd/fib"
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
	// NeighborUp is called when the session with the peer of that LSR ID
	// becomes OPERATIONAL, NeighborDown exactly once when it ends.
	NeighborUp(netip.Addr) []lib.Outgoing
	NeighborDown(netip.Addr) []lib.Outgoing
	// NeighborAddresses and NeighborAddressesWithdrawn carry the peer's
	// Address and Address Withdraw messages.
	NeighborAddresses(netip.Addr, []netip.Addr) []lib.Outgoing
	NeighborAddressesWithdrawn(netip.Addr, []netip.Addr) []lib.Outgoing
	// LabelMessage carries label messages and advisory notifications.
	LabelMessage(netip.Addr, wire.Message) []lib.Outgoing
	// SetLocalAddresses tells the LIB this LSR's own interface addresses: a
	// host route to one of them makes this LSR the FEC's egress.
	SetLocalAddresses([]netip.Addr) []lib.Outgoing
	// Table returns the desired forwarding state.
	Table() *fib.Table
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
		if _, ok := byPeer[o.Peer]; !ok {
			peers = append(peers, o.Peer)
		}
		byPeer[o.Peer] = append(byPeer[o.Peer], o.Msg)
	}
	for _, p := range peers {
		n := e.nbrs[p]
		if n == nil || n.sess == nil || n.sess.state != Operational {
			e.log.Warn("ldp: LIB message for a peer without session dropped", "peer", p, "count", len(byPeer[p]))
			continue
		}
		e.sendMessages(n.sess, byPeer[p]...)
	}
}

// publishFIB emits the LIB's table when it differs from the last one
// emitted.
func (e *Engine) publishFIB() {
	if !e.libTouched {
		return
	}
	e.libTouched = false
	t := e.labels.Table()
	if t == nil {
		t = fib.NewTable()
	}
	if tablesEqual(t, e.lastFIB) {
		return
	}
	e.lastFIB = cloneTable(t)
	e.emit(FIBChanged{Table: cloneTable(t)})
}

func tablesEqual(a, b *fib.Table) bool {
	if len(a.LFIB) != len(b.LFIB) || len(a.FTN) != len(b.FTN) {
		return false
	}
	for k, x := range a.LFIB {
		if y, ok := b.LFIB[k]; !ok || !x.Equal(y) {
			return false
		}
	}
	for k, x := range a.FTN {
		if y, ok := b.FTN[k]; !ok || !x.Equal(y) {
			return false
		}
	}
	return true
}

// cloneTable copies a table deeply, so that neither the LIB nor the
// receiver of FIBChanged can change what the engine compares against.
func cloneTable(t *fib.Table) *fib.Table {
	c := fib.NewTable()
	cp := func(nhs []fib.NextHop) []fib.NextHop {
		out := make([]fib.NextHop, len(nhs))
		for i, nh := range nhs {
			nh.Labels = slices.Clone(nh.Labels)
			out[i] = nh
		}
		return out
	}
	for k, v := range t.LFIB {
		c.LFIB[k] = fib.LFIBEntry{InLabel: v.InLabel, NextHops: cp(v.NextHops)}
	}
	for k, v := range t.FTN {
		c.FTN[k] = fib.FTNEntry{Prefix: v.Prefix, NextHops: cp(v.NextHops)}
	}
	return c
}
