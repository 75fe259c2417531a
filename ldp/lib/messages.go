package lib

import (
	"github.com/lsrd/lsrd/ldp/fec"
	"net/netip"
	"slices"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/ldp/wire"
)

// LabelMessage handles a label distribution message from the neighbour with
// LSR ID id: Label Mapping, Label Request, Label Withdraw, Label Release
// or Label Abort Request (RFC 5036 section 3.5.7 to 3.5.11). For the
// engine's convenience Address and Address Withdraw are accepted too and
// passed to NeighborAddresses and NeighborAddressesWithdrawn. Other
// messages are ignored.
//
// FEC elements other than Prefix, Wildcard and Typed Wildcard (for Prefix
// FECs) are skipped: the engine answers them ("Unknown FEC") before they
// get here. Hop Count and Path Vector are ignored: this LIB does no loop
// detection (RFC 5036 section 2.8 makes it optional; on frame-mode links
// the TTL catches loops).
func (l *LIB) LabelMessage(id netip.Addr, m wire.Message) []Outgoing {
	switch m := m.(type) {
	case *wire.Address:
		return l.NeighborAddresses(id, m.Addresses.Addrs)
	case *wire.AddressWithdraw:
		return l.NeighborAddressesWithdrawn(id, m.Addresses.Addrs)
	}
	l.begin()
	l.neighbor(id)
	switch m := m.(type) {
	case *wire.LabelMapping:
		l.recvMapping(id, m)
	case *wire.LabelRequest:
		l.recvRequest(id, m)
	case *wire.LabelWithdraw:
		l.recvWithdraw(id, m)
	case *wire.LabelRelease:
		l.recvRelease(id, m)
	case *wire.LabelAbortRequest:
		l.recvAbort(id, m)
	}
	return l.end()
}

// recvMapping keeps the peer's label for each prefix of the FEC TLV,
// whether or not the peer is the next hop (liberal retention, RFC 5036
// section 2.6.2.2). A different label for a FEC the peer had already mapped
// replaces the old one, which is released (appendix A.1.2, LMp.10a).
func (l *LIB) recvMapping(id netip.Addr, m *wire.LabelMapping) {
	lb := fib.Label(m.Label)
	for _, e := range m.FEC {
		p, ok := fec.FromElement(e)
		if !ok {
			// A wildcard cannot be mapped (RFC 5036 section 3.4.1).
			continue
		}
		if !validRemote(lb, p) {
			continue
		}
		f := l.fecs[p]
		if f == nil {
			f = &binding{fec: p}
			l.addFEC(f)
		}
		old, had := f.remote.get(id)
		if !had && !l.retain(f, id, lb) {
			continue
		}
		if l.refresh(id, p) {
			// A label kept stale across the peer's restart: the
			// peer no longer holds the old one, nothing to release
			// (RFC 3478 section 3).
		} else if had && old != lb {
			v := uint32(old)
			l.send(id, &wire.LabelRelease{FEC: p.TLV(), Label: &v})
		}
		f.remote.set(id, lb)
		if !had {
			l.unroutedChanged(f, id, +1)
		}
		l.update(f)
	}
}

// validRemote accepts the labels a peer may advertise for prefix p: implicit
// null, the explicit null of p's family and the unreserved range (RFC 3032
// section 2.1). The other family's explicit null is refused like the other
// reserved labels: pushed, it would make the egress pop and forward an IPv4
// packet as IPv6 (label 2) or an IPv6 packet as IPv4 (label 0).
func validRemote(lb fib.Label, p fec.FEC) bool {
	switch lb {
	case fib.LabelImplicitNull:
		return true
	case fib.LabelIPv4ExplicitNull:
		return p.Family() == fec.IPv4
	case fib.LabelIPv6ExplicitNull:
		return p.Family() == fec.IPv6
	}
	return lb >= fib.FirstUnreserved && lb <= fib.MaxLabel
}

// recvRequest answers a Label Request (RFC 5036 section 3.5.8.1, appendix
// A.1.1). In downstream unsolicited mode the peer normally has the mapping
// already, but may ask again (after releasing it, say); it gets a Label
// Mapping carrying the request's Message ID. Without a route the answer is
// "No Route"; when the range is exhausted, "No Label Resources". Under
// ordered control a FEC still waiting for its downstream mapping keeps the
// request pending, and the mapping answers it when it can be sent.
func (l *LIB) recvRequest(id netip.Addr, m *wire.LabelRequest) {
	for _, e := range m.FEC {
		p, ok := fec.FromElement(e)
		if !ok {
			continue
		}
		f := l.fecs[p]
		switch {
		case f == nil || f.route == nil:
			l.send(id, noRoute(m.MsgID))
		case !f.hasLocal:
			l.nbrs[id].refused = true
			l.send(id, &wire.Notification{Status: wire.NewStatus(wire.StatusNoLabelResources, m.MsgID, wire.MsgLabelRequest)})
		default:
			if _, ok := f.reqs.get(id); ok {
				// A duplicate of a pending request (LRq.6-7).
				continue
			}
			f.reqs.set(id, m.MsgID)
			l.syncPeer(f, id, l.advertisable(f))
		}
	}
}

// recvAbort handles a Label Abort Request (RFC 5036 section 3.5.9.1): a
// request still pending is dropped and acknowledged with "Label Request
// Aborted" carrying its Message ID; one already answered (the usual case,
// since this LIB answers at once unless ordered control makes it wait) or
// unknown is ignored, as the RFC says.
func (l *LIB) recvAbort(id netip.Addr, m *wire.LabelAbortRequest) {
	for _, e := range m.FEC {
		p, ok := fec.FromElement(e)
		if !ok {
			continue
		}
		f := l.fecs[p]
		if f == nil {
			continue
		}
		if req, ok := f.reqs.get(id); ok && req == m.LabelRequestID {
			f.reqs.del(id)
			l.send(id, &wire.Notification{
				Status:         wire.NewStatus(wire.StatusLabelRequestAborted, m.MsgID, wire.MsgLabelAbortRequest),
				LabelRequestID: &req,
			})
			l.gc(f)
		}
	}
}

// recvWithdraw removes the peer's mappings the withdraw names and answers
// with one Label Release echoing its FEC TLV and Label TLV, so that a
// Wildcard withdraw gets a Wildcard release and a Typed Wildcard one a
// Typed Wildcard release (RFC 5036 section 3.5.10: the release MUST follow
// even for a FEC we had no mapping for; RFC 5918 section 4).
func (l *LIB) recvWithdraw(id netip.Addr, m *wire.LabelWithdraw) {
	var ps []fec.FEC
	l.match(m.FEC, func(f *binding) {
		if lb, ok := f.remote.get(id); ok && (m.Label == nil || *m.Label == uint32(lb)) {
			f.remote.del(id)
			l.refresh(id, f.fec)
			l.unroutedChanged(f, id, -1)
			ps = append(ps, f.fec)
		}
	})
	rel := &wire.LabelRelease{FEC: slices.Clone(m.FEC)}
	if m.Label != nil {
		v := *m.Label
		rel.Label = &v
	}
	l.send(id, rel)
	l.updateAll(ps)
}

// recvRelease records that the peer no longer holds our label for the FECs
// named (RFC 5036 section 3.5.11, appendix A.1.6). A withdrawn label
// returns to the allocator once every holder released it, and a mapping
// held back by the withdraw may now go out. A release of a mapping we did
// not withdraw just stops counting the peer as a holder; it gets the
// mapping again the next time the FEC changes, as with any DU peer.
func (l *LIB) recvRelease(id netip.Addr, m *wire.LabelRelease) {
	var resumed, dropped []fec.FEC
	l.match(m.FEC, func(f *binding) {
		ok := func(lb fib.Label) bool { return m.Label == nil || *m.Label == uint32(lb) }
		if lb, had := f.wdraw.get(id); had && ok(lb) {
			f.wdraw.del(id)
			l.alloc.drop(lb)
			resumed = append(resumed, f.fec)
		} else if lb, had := f.takeReplaced(id, m.Label); had {
			// The release LMp.10a asks for: the peer took the mapping
			// that replaced lb.
			l.alloc.drop(lb)
			l.linger(f)
			dropped = append(dropped, f.fec)
		} else if lb, had := f.sent.get(id); had && ok(lb) {
			f.sent.del(id)
			l.alloc.drop(lb)
			dropped = append(dropped, f.fec)
		}
	})
	up := l.nbrs[id].up
	slices.SortFunc(resumed, fec.FEC.Compare)
	for _, p := range resumed {
		f := l.fecs[p]
		if up || f.reqs != nil {
			l.syncPeer(f, id, l.advertisable(f))
		}
		l.gc(f)
	}
	for _, p := range dropped {
		l.gc(l.fecs[p])
	}
}

// match calls fn for each known FEC an element of fe names: a Prefix
// element names its prefix, a Wildcard every FEC, a Typed Wildcard for
// Prefix FECs every FEC of its address family (RFC 5036 section 3.4.1, RFC
// 5918 section 3). Each FEC is visited once, in prefix order.
func (l *LIB) match(fe wire.FEC, fn func(*binding)) {
	var ps []fec.FEC
	for _, e := range fe {
		switch e := e.(type) {
		case wire.PrefixFEC:
			if p := fec.Prefix(e.Prefix); l.fecs[p] != nil {
				ps = append(ps, p)
			}
		case wire.WildcardFEC:
			ps = append(ps, l.sortedFECs()...)
		case wire.TypedWildcardFEC:
			if e.Type != wire.FECPrefix {
				continue
			}
			for p := range l.fecs {
				if p.Kind() == fec.KindPrefix && p.Family() == e.Family {
					ps = append(ps, p)
				}
			}
		}
	}
	slices.SortFunc(ps, fec.FEC.Compare)
	for _, p := range slices.Compact(ps) {
		fn(l.fecs[p])
	}
}
