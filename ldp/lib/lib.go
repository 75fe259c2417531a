package lib

import (
	"fmt"
	"github.com/google/btree"
	"github.com/lsrd/lsrd/ldp/fec"
	"net/netip"
	"slices"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/ldp/wire"
)

// LIB is the label information base of one LSR and the decisions taken on
// it. It is a deterministic state machine: every method runs to completion,
// starts no goroutine, reads no clock and does no I/O, and the same inputs
// always give the same outputs in the same order. It is not safe for
// concurrent use; the LDP engine owns it.
type LIB struct {
	cfg   Config
	alloc allocator

	fecs map[fec.FEC]*binding
	// order holds fecs' bindings in FEC order (fec.FEC.Compare), so that
	// what goes through every FEC does so in a stable order without a
	// sort, and can stop and resume at a FEC (drain.go).
	order *btree.BTreeG[*binding]
	// drains are sessions that ended whose bindings are being released
	// in pieces, oldest first (drain.go).
	drains []drain
	piece  int // FECs a drain visits per step: DrainPiece, fewer in tests
	// routes are the FECs' routes, one per set of next hops (hops.go).
	routes routeSet
	// byNexthop indexes FECs by the gateway addresses of their routes, so
	// that an Address message re-evaluates only the FECs it can affect.
	byNexthop map[netip.Addr]map[fec.FEC]struct{}
	// starved are FECs that need a label the range could not give.
	starved map[fec.FEC]struct{}
	// localAddrs are this LSR's own interface addresses: a route to one of
	// them as a host prefix makes this LSR the FEC's egress.
	localAddrs map[netip.Addr]struct{}

	nbrs map[netip.Addr]*neighbor
	up   []netip.Addr // LSR IDs of operational sessions, sorted
	// addrOwner maps an interface address to the neighbour that
	// advertised it (RFC 5036 section 2.7: next hop -> LDP peer).
	addrOwner map[netip.Addr]netip.Addr

	lfib map[fib.Label]fib.LFIBEntry
	ftn  map[netip.Prefix]fib.FTNEntry
	gen  uint64
	// localGen changes whenever an allocated local label does (LocalLabels).
	localGen uint64
	// The keys changed since the last TakeDelta.
	dirtyLFIB map[fib.Label]struct{}
	dirtyFTN  map[netip.Prefix]struct{}

	allocFailures   uint64
	unroutedRefused uint64     // mappings released for MaxUnroutedPerPeer
	out             []Outgoing // messages produced by the input being handled
}

// CheckLabelRange reports whether min..max can be a local label range:
// unreserved labels (RFC 3032 section 2.1), min not above max.
func CheckLabelRange(min, max fib.Label) error {
	switch {
	case min < fib.FirstUnreserved || min > fib.MaxLabel:
		return fmt.Errorf("LabelMin %d outside %d..%d", min, fib.FirstUnreserved, fib.MaxLabel)
	case max < fib.FirstUnreserved || max > fib.MaxLabel:
		return fmt.Errorf("LabelMax %d outside %d..%d", max, fib.FirstUnreserved, fib.MaxLabel)
	case min > max:
		return fmt.Errorf("LabelMin %d above LabelMax %d", min, max)
	}
	return nil
}

// New checks cfg and returns an empty LIB.
func New(cfg Config) (*LIB, error) {
	if err := CheckLabelRange(cfg.LabelMin, cfg.LabelMax); err != nil {
		return nil, fmt.Errorf("ldp lib config: %w", err)
	}
	if cfg.Control != Ordered && cfg.Control != Independent {
		return nil, fmt.Errorf("ldp lib config: Control %d is neither ordered nor independent", cfg.Control)
	}
	return &LIB{
		cfg:        cfg,
		alloc:      newAllocator(cfg.LabelMin, cfg.LabelMax, cfg.Seed),
		fecs:       map[fec.FEC]*binding{},
		order:      btree.NewG(32, bindingLess),
		piece:      DrainPiece,
		byNexthop:  map[netip.Addr]map[fec.FEC]struct{}{},
		starved:    map[fec.FEC]struct{}{},
		localAddrs: map[netip.Addr]struct{}{},
		nbrs:       map[netip.Addr]*neighbor{},
		addrOwner:  map[netip.Addr]netip.Addr{},
		lfib:       map[fib.Label]fib.LFIBEntry{},
		ftn:        map[netip.Prefix]fib.FTNEntry{},
		dirtyLFIB:  map[fib.Label]struct{}{},
		dirtyFTN:   map[netip.Prefix]struct{}{},
	}, nil
}

// SetLocalAddresses replaces the set of this LSR's own interface addresses.
// A route whose prefix is a host prefix of one of them makes this LSR that
// FEC's egress (RFC 5036 section 2.6.1: "the FEC refers to the LSR itself").
func (l *LIB) SetLocalAddresses(addrs []netip.Addr) []Outgoing {
	l.begin()
	changed := map[netip.Addr]struct{}{}
	for a := range l.localAddrs {
		changed[a] = struct{}{}
	}
	next := make(map[netip.Addr]struct{}, len(addrs))
	for _, a := range addrs {
		a = a.Unmap()
		next[a] = struct{}{}
		if _, ok := changed[a]; ok {
			delete(changed, a)
		} else {
			changed[a] = struct{}{}
		}
	}
	l.localAddrs = next
	var ps []fec.FEC
	for a := range changed {
		if _, ok := l.fecs[fec.Prefix(netip.PrefixFrom(a, a.BitLen()))]; ok {
			ps = append(ps, fec.Prefix(netip.PrefixFrom(a, a.BitLen())))
		}
	}
	l.updateAll(ps)
	return l.end()
}

// SetLabelRange moves the local label range to min..max (a configuration
// reload), without a session reset. Each FEC whose label falls outside the
// new range gets a new one from it, and every peer holding the old label
// gets a Label Mapping with the new one at once, with no Label Withdraw
// first: the peer replaces the old label and releases it (RFC 5036
// appendix A.1.2, LMp.10a), so the LSP is never withdrawn. Until a peer's
// release arrives (or its session ends) the old label keeps switching like
// the new one, and stays out of the pool. A FEC the new range cannot give
// a label keeps its old one. Labels inside the new range do not change.
func (l *LIB) SetLabelRange(min, max fib.Label) ([]Outgoing, error) {
	if err := CheckLabelRange(min, max); err != nil {
		return nil, fmt.Errorf("ldp lib: new label range: %w", err)
	}
	l.begin()
	l.finishDrain(netip.Addr{})
	l.cfg.LabelMin, l.cfg.LabelMax = min, max
	l.alloc.setRange(min, max)
	for _, p := range l.sortedFECs() {
		f := l.fecs[p]
		if !f.allocated || l.alloc.inRange(f.local) {
			continue
		}
		old := f.local
		lb, ok := l.alloc.fresh(f.fec)
		if !ok {
			l.allocFailures++
			continue
		}
		l.setLocal(f, lb, true, true)
		for _, e := range slices.Clone(f.sent) {
			if e.v != old {
				continue
			}
			f.replaced = append(f.replaced, peerEntry[fib.Label]{e.peer, old})
			f.sent.set(e.peer, lb)
			l.alloc.hold(lb)
			l.send(e.peer, l.mapping(f, nil))
		}
		l.update(f)
	}
	return l.end(), nil
}

// begin and end bracket every input: the messages it causes are collected
// in l.out, and labels it freed are offered to starved FECs before
// returning (section 3.9 "Label Resources Available" follows from that).
func (l *LIB) begin() { l.out = nil }

func (l *LIB) end() []Outgoing {
	l.notifyResources(l.retryStarved())
	out := l.out
	l.out = nil
	return out
}

func (l *LIB) send(peer netip.Addr, m wire.Message) {
	l.out = append(l.out, Outgoing{Peer: peer, Msg: m})
}

// updateAll re-evaluates the FECs in ps, in prefix order so that the
// messages come out in a stable order.
func (l *LIB) updateAll(ps []fec.FEC) {
	ps = slices.Compact(sortRun(ps))
	for _, p := range ps {
		if f := l.fecs[p]; f != nil {
			l.update(f)
		}
	}
}

// sortRun sorts ps, which is often a sorted run (a walk in FEC order)
// followed by a few more: the rest is sorted on its own and merged in.
func sortRun(ps []fec.FEC) []fec.FEC {
	i := 1
	for i < len(ps) && ps[i-1].Compare(ps[i]) <= 0 {
		i++
	}
	if i >= len(ps) {
		return ps
	}
	if i < len(ps)/2 {
		slices.SortFunc(ps, fec.FEC.Compare)
		return ps
	}
	run, rest := ps[:i], slices.Clone(ps[i:])
	slices.SortFunc(rest, fec.FEC.Compare)
	out := make([]fec.FEC, 0, len(ps))
	for len(run) > 0 && len(rest) > 0 {
		if run[0].Compare(rest[0]) <= 0 {
			out, run = append(out, run[0]), run[1:]
		} else {
			out, rest = append(out, rest[0]), rest[1:]
		}
	}
	return append(append(out, run...), rest...)
}

// sortedFECs returns every known FEC prefix in order.
func (l *LIB) sortedFECs() []fec.FEC {
	ps := make([]fec.FEC, 0, len(l.fecs))
	l.order.Ascend(func(f *binding) bool {
		ps = append(ps, f.fec)
		return true
	})
	return ps
}

func bindingLess(a, b *binding) bool { return a.fec.Compare(b.fec) < 0 }

// addFEC makes f the binding of its FEC.
func (l *LIB) addFEC(f *binding) {
	l.fecs[f.fec] = f
	l.order.ReplaceOrInsert(f)
}

// dropFEC forgets f, the binding of its FEC.
func (l *LIB) dropFEC(f *binding) {
	delete(l.fecs, f.fec)
	l.order.Delete(f)
}
