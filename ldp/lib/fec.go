package lib

import (
	"github.com/lsrd/lsrd/ldp/fec"
	"net/netip"
	"slices"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/ldp/wire"
	"github.com/lsrd/lsrd/rib"
)

// binding is everything known about one FEC: its route, its local label
// and, per neighbour, the label it advertised (liberal retention keeps them
// all, RFC 5036 section 2.6.2.2), the label we advertised to it, a label we
// withdrew and it has not released yet, and a Label Request not yet
// answered.
type binding struct {
	fec    fec.FEC
	route  *rib.Route // nil: no route, or Config.Allocate refused it
	egress bool

	local     fib.Label
	hasLocal  bool
	allocated bool // local came from the allocator (not a null label)

	remote peerMap[fib.Label]
	sent   peerMap[fib.Label]
	wdraw  peerMap[fib.Label]
	reqs   peerMap[uint32]
	// replaced are labels of ours a peer held when the label range moved
	// (SetLabelRange) and it got a new mapping in their place, until it
	// releases them (RFC 5036 appendix A.1.2, LMp.10a): a peer may hold
	// more than one if the range moved twice before its release.
	replaced []peerEntry[fib.Label]

	lfibLabel fib.Label // the LFIB entry this FEC owns, when inLFIB
	inLFIB    bool
	// lingering are the replaced labels that still switch like the FEC's
	// LFIB entry, for upstream peers that have not moved yet.
	lingering []fib.Label
	// seeded: local is the label of the previous run (Config.Seed) and
	// this LSR's restart is not over (DropSeed).
	seeded bool
}

// RouteUpdate records that r is now the best route to r.Prefix (added or
// changed) and returns the label messages that follow. A route refused by
// Config.Allocate, or without next hops, is treated as no route.
func (l *LIB) RouteUpdate(r rib.Route) []Outgoing {
	l.begin()
	p := r.Prefix.Masked()
	if !p.IsValid() {
		return l.end()
	}
	if len(r.NextHops) == 0 || (l.cfg.Allocate != nil && !l.cfg.Allocate(r)) {
		l.setRoute(fec.Prefix(p), nil)
		return l.end()
	}
	l.setRoute(fec.Prefix(p), l.routes.hold(r.NextHops))
	return l.end()
}

// RouteTo returns the most specific route held (one RouteUpdate gave and
// Config.Allocate accepted) that covers a.
func (l *LIB) RouteTo(a netip.Addr) (rib.Route, bool) {
	for bits := a.BitLen(); bits >= 0; bits-- {
		p, err := a.Prefix(bits)
		if err != nil {
			break
		}
		if f := l.fecs[fec.Prefix(p)]; f != nil && f.route != nil {
			// f.route is shared by every FEC with the same next hops
			// (hops.go): its Prefix is not p's.
			return rib.Route{Prefix: p, NextHops: f.route.NextHops}, true
		}
	}
	return rib.Route{}, false
}

// RouteDelete records that p has no route any more: its mapping is
// withdrawn from every peer (RFC 5036 section 3.5.10: the label no longer
// stands for the FEC) and its label stays reserved until they all released
// it.
func (l *LIB) RouteDelete(p netip.Prefix) []Outgoing {
	l.begin()
	if p = p.Masked(); p.IsValid() {
		l.setRoute(fec.Prefix(p), nil)
	}
	return l.end()
}

// setRoute gives p the route r: nil, or one held from l.routes for p.
func (l *LIB) setRoute(p fec.FEC, r *rib.Route) {
	f := l.fecs[p]
	if f == nil {
		if r == nil {
			return
		}
		f = &binding{fec: p}
		l.addFEC(f)
	}
	if f.route != nil {
		for _, nh := range f.route.NextHops {
			if nh.Addr.IsValid() {
				delete(l.byNexthop[nh.Addr], p)
				if len(l.byNexthop[nh.Addr]) == 0 {
					delete(l.byNexthop, nh.Addr)
				}
			}
		}
	}
	if (f.route == nil) != (r == nil) {
		l.routeChanged(f, r != nil)
	}
	hadRoute := f.route != nil
	if hadRoute {
		l.routes.release(f.route)
	}
	f.route = r
	if r != nil && !hadRoute {
		l.askOverflowed(f, r)
	}
	if r != nil {
		for _, nh := range r.NextHops {
			if nh.Addr.IsValid() {
				m := l.byNexthop[nh.Addr]
				if m == nil {
					m = map[fec.FEC]struct{}{}
					l.byNexthop[nh.Addr] = m
				}
				m[p] = struct{}{}
			}
		}
	}
	l.update(f)
}

// isEgress tells whether this LSR is the egress for f's route (RFC 5036
// section 2.6.1): the prefix is directly attached (a next hop without a
// gateway) or is one of this LSR's own addresses.
func (l *LIB) isEgress(f *binding) bool {
	for _, nh := range f.route.NextHops {
		if !nh.Addr.IsValid() {
			return true
		}
	}
	if f.fec.Prefix().IsSingleIP() {
		_, ok := l.localAddrs[f.fec.Prefix().Addr()]
		return ok
	}
	return false
}

// nullLabel is what this LSR advertises for a FEC it is egress for: implicit
// null, so that the penultimate hop pops (RFC 3031 section 3.16), or the
// family's explicit null when configured (RFC 3032 section 2.1).
func (l *LIB) nullLabel(p netip.Prefix) fib.Label {
	switch {
	case !l.cfg.ExplicitNull:
		return fib.LabelImplicitNull
	case p.Addr().Is4():
		return fib.LabelIPv4ExplicitNull
	}
	return fib.LabelIPv6ExplicitNull
}

// update re-evaluates one FEC after anything it depends on changed: its
// local label, which peers should hold a mapping for it, and its LFIB and
// FTN entries. Every input funnels into it, so the rules live in one place.
func (l *LIB) update(f *binding) {
	l.settle(f)
	switch {
	case f.route == nil:
		f.egress = false
		l.setLocal(f, 0, false, false)
		delete(l.starved, f.fec)
	default:
		f.egress = l.isEgress(f)
		if f.egress {
			l.setLocal(f, l.nullLabel(f.fec.Prefix()), true, false)
			delete(l.starved, f.fec)
		} else if !f.allocated {
			if lb, ok, seeded := l.alloc.get(f.fec); ok {
				l.setLocal(f, lb, true, true)
				f.seeded = seeded
				delete(l.starved, f.fec)
			} else {
				l.setLocal(f, 0, false, false)
				if _, ok := l.starved[f.fec]; !ok {
					l.starved[f.fec] = struct{}{}
					l.allocFailures++
				}
			}
		}
	}
	if f.route == nil {
		// Nobody will get an answer from this FEC any more (RFC 5036
		// section 3.5.8.1: "No Route").
		for _, e := range f.reqs {
			l.send(e.peer, noRoute(e.v))
		}
		f.reqs = nil
	}
	adv := l.advertisable(f)
	for _, p := range l.up {
		l.syncPeer(f, p, adv)
	}
	l.updateForwarding(f)
	l.gc(f)
}

// setLocal changes f's local label; an allocated label it replaces goes
// back to the allocator once no peer holds it.
func (l *LIB) setLocal(f *binding, lb fib.Label, has, allocated bool) {
	if f.hasLocal == has && f.local == lb && f.allocated == allocated {
		return
	}
	if f.allocated {
		l.alloc.unbind(f.local)
	}
	if f.allocated || allocated {
		l.localGen++
	}
	f.local, f.hasLocal, f.allocated = lb, has, allocated
	f.seeded = false
}

// takeReplaced removes and returns a label peer p held before a
// renumbering: the one a release names, or the oldest for a release that
// names none.
func (f *binding) takeReplaced(p netip.Addr, label *uint32) (fib.Label, bool) {
	for i, e := range f.replaced {
		if e.peer == p && (label == nil || *label == uint32(e.v)) {
			f.replaced = slices.Delete(f.replaced, i, i+1)
			if len(f.replaced) == 0 {
				f.replaced = nil
			}
			return e.v, true
		}
	}
	return 0, false
}

// advertisable tells whether peers should hold a mapping for f now (RFC 5036
// section 2.6.1): with independent control as soon as it has a local label;
// with ordered control only when this LSR is the egress or a next hop's
// neighbour has given us a mapping for it.
func (l *LIB) advertisable(f *binding) bool {
	if !f.hasLocal || f.route == nil {
		return false
	}
	if l.cfg.Control == Independent || f.egress {
		return true
	}
	for _, nh := range f.route.NextHops {
		if _, ok := l.downstream(f, nh); ok {
			return true
		}
	}
	return false
}

// downstream returns the label the neighbour owning next hop nh advertised
// for f, if any: a mapping is usable only from the peer whose Address
// messages listed the next hop (RFC 5036 section 2.7).
func (l *LIB) downstream(f *binding, nh rib.NextHop) (fib.Label, bool) {
	if !nh.Addr.IsValid() {
		return 0, false
	}
	owner, ok := l.addrOwner[nh.Addr]
	if !ok {
		return 0, false
	}
	return f.remote.get(owner)
}

// syncPeer brings what peer p holds for f in line with what it should hold,
// and answers p's pending Label Request once a mapping can be given.
//
// A mapping that must go (route gone, ordered-control condition lost, label
// changed) is withdrawn and remembered until p releases it (RFC 5036
// section 3.5.10). A new mapping for the same FEC waits for that release, as
// FRR's ldpd does: otherwise a late release of the old label could not be
// told from a release of the new one.
func (l *LIB) syncPeer(f *binding, p netip.Addr, adv bool) {
	if n := l.nbrs[p]; n != nil && !n.serves(f.fec) {
		// Another family's session (RFC 7552): never sent anything.
		return
	}
	if lb, ok := f.sent.get(p); ok {
		if adv && lb == f.local {
			if id, ok := f.reqs.del(p); ok {
				// Re-sent to answer the request (RFC 5036 A.1.1 LRq.9).
				l.send(p, l.mapping(f, &id))
			}
			return
		}
		f.sent.del(p)
		f.wdraw.set(p, lb)
		v := uint32(lb)
		l.send(p, &wire.LabelWithdraw{FEC: f.fec.TLV(), Label: &v})
		return
	}
	if _, ok := f.wdraw.get(p); ok || !adv {
		return
	}
	var req *uint32
	if id, ok := f.reqs.del(p); ok {
		req = &id
	}
	l.send(p, l.mapping(f, req))
	f.sent.set(p, f.local)
	l.alloc.hold(f.local)
}

// mapping builds a Label Mapping for f's local label; req is the Message ID
// of the Label Request it answers (RFC 5036 section 3.5.7: Label Request
// Message ID TLV).
func (l *LIB) mapping(f *binding, req *uint32) *wire.LabelMapping {
	return &wire.LabelMapping{FEC: f.fec.TLV(), Label: uint32(f.local), LabelRequestID: req}
}

func noRoute(reqID uint32) *wire.Notification {
	return &wire.Notification{Status: wire.NewStatus(wire.StatusNoRoute, reqID, wire.MsgLabelRequest)}
}

// gc forgets a FEC nothing refers to any more.
func (l *LIB) gc(f *binding) {
	if f.route == nil && !f.hasLocal && !f.inLFIB && f.remote == nil && f.sent == nil && f.wdraw == nil && f.reqs == nil &&
		f.replaced == nil && f.lingering == nil {
		if _, ok := l.ftn[f.fec.Prefix()]; !ok {
			l.dropFEC(f)
		}
	}
}

// retryStarved gives labels freed by the input just handled to the FECs that
// went without, in prefix order (RFC 5036 section 3.5.1.2: a FEC that could
// not get a label is retried when resources become available).
func (l *LIB) retryStarved() (progressed bool) {
	if len(l.starved) == 0 || l.alloc.available() == 0 {
		return false
	}
	ps := make([]fec.FEC, 0, len(l.starved))
	for p := range l.starved {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, fec.FEC.Compare)
	for _, p := range ps {
		if l.alloc.available() == 0 {
			break
		}
		if f := l.fecs[p]; f != nil {
			l.update(f)
			progressed = progressed || f.hasLocal
		} else {
			delete(l.starved, p)
		}
	}
	return progressed
}

// notifyResources tells peers that were refused a label that labels were
// freed (RFC 5036 section 3.9, "Label Resources Available"), whether they
// are still free or were just given to starved FECs.
func (l *LIB) notifyResources(progressed bool) {
	if !progressed && l.alloc.available() == 0 {
		return
	}
	for _, id := range l.up {
		if n := l.nbrs[id]; n != nil && n.refused {
			n.refused = false
			l.send(id, &wire.Notification{Status: wire.NewStatus(wire.StatusLabelResourcesAvailable, 0, 0)})
		}
	}
}
