package lib

import (
	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/ldp/wire"
	"github.com/lsrd/lsrd/rib"
	"net/netip"
)

// Bounded liberal retention. A peer may advertise labels for any number of
// FECs this LSR has no route to, and liberal retention (RFC 5036 section
// 2.6.2.2) would keep them all: 200,000 mappings from one peer are hundreds
// of megabytes. Config.MaxUnroutedPerPeer bounds those spares per peer;
// labels for FECs with a route are always kept, since the RIB bounds them
// and they are the ones forwarding needs.

// retain decides whether a new mapping from peer id for f may be kept. A
// refused one is released at once, as conservative retention would (section
// 3.5.7.1), so that the peer's state says we do not hold it.
func (l *LIB) retain(f *binding, id netip.Addr, lb fib.Label) bool {
	if l.cfg.MaxUnroutedPerPeer == 0 || f.route != nil {
		return true
	}
	n := l.neighbor(id)
	if n.unrouted < l.cfg.MaxUnroutedPerPeer {
		return true
	}
	n.overflowed = true
	l.unroutedRefused++
	v := uint32(lb)
	l.send(id, &wire.LabelRelease{FEC: f.fec.TLV(), Label: &v})
	l.gc(f)
	return false
}

// UnroutedRefused counts the mappings released at once for
// Config.MaxUnroutedPerPeer (also in Stats; this one is O(1)).
func (l *LIB) UnroutedRefused() uint64 { return l.unroutedRefused }

// unroutedChanged counts a label of peer id for f kept (d=+1) or dropped
// (d=-1) while f has no route.
func (l *LIB) unroutedChanged(f *binding, id netip.Addr, d int) {
	if f.route == nil {
		if n := l.nbrs[id]; n != nil {
			n.unrouted += d
		}
	}
}

// routeChanged moves f's labels between the routed and the unrouted count
// when f gains (has=true) or loses its route, before f.route changes.
func (l *LIB) routeChanged(f *binding, has bool) {
	d := 1
	if has {
		d = -1
	}
	for _, e := range f.remote {
		if n := l.nbrs[e.peer]; n != nil {
			n.unrouted += d
		}
	}
}

// askOverflowed sends a Label Request (section 3.5.8) for f, which just got
// route r, to each next hop's peer that has had spares released for the
// bound and holds no label for f here: the label it may have advertised
// was released, and in downstream unsolicited mode it would not send it
// again unasked.
func (l *LIB) askOverflowed(f *binding, r *rib.Route) {
	for _, nh := range r.NextHops {
		id, ok := l.addrOwner[nh.Addr]
		if !ok {
			continue
		}
		n := l.nbrs[id]
		if n == nil || !n.up || !n.overflowed {
			continue
		}
		if _, has := f.remote.get(id); !has {
			l.send(id, &wire.LabelRequest{FEC: f.fec.TLV()})
		}
	}
}
