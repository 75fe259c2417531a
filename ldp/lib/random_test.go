package lib

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/ldp/fec"
	"github.com/lsrd/lsrd/ldp/wire"
	"github.com/lsrd/lsrd/rib"
)

// held is a label a simulated peer holds from the LIB.
type held struct {
	fec   netip.Prefix
	label fib.Label
}

// sim drives one LIB with events decoded from bytes and plays its three
// peers by the rules of RFC 5036: they keep every mapping, answer every
// withdraw with a release (later, when an event says so) and sometimes
// release a mapping on their own. After every event it checks the LIB's
// invariants.
type sim struct {
	t     *testing.T
	l     *LIB
	up    map[netip.Addr]bool
	holds map[netip.Addr][]held // labels each peer holds
	owe   map[netip.Addr][]held // withdrawn, release not yet sent
	// repl are the labels a new mapping replaced when the range moved:
	// owed too (LMp.10a has the peer release them), held until then.
	repl map[netip.Addr][]held
	// renumbering is set while the outputs of SetLabelRange are delivered,
	// rangeMoved after the first: a FEC the new range had no label for
	// keeps its label from the old one.
	renumbering, rangeMoved bool
	reqID                   uint32
	events                  int
	// tbl is the table rebuilt from the LIB's deltas alone.
	tbl *fib.Table
	// allocated are the seeded FECs that had a label once; seedDropped
	// is set after DropSeed.
	allocated   map[fec.FEC]bool
	seedDropped bool
	// drainSteps counts Drain calls, betweenDrains the other events
	// handled while a drain was under way.
	drainSteps, betweenDrains int
}

var (
	simPeers = []netip.Addr{peerI, peerE, peerF}
	simAddrs = []netip.Addr{addrI, addrE, addrF}
	simFECs  = []netip.Prefix{pfx("10.1.0.0/24"), pfx("10.2.0.0/24"), pfx("10.3.0.0/24"),
		pfx("10.255.0.2/32"), pfx("10.4.0.0/16"), pfx("2001:db8:1::/64")}
)

// simSeed is the previous run's labels of a seeded sim: two FECs of the
// sim, one that never appears and one outside the range.
var simSeed = map[fec.FEC]fib.Label{
	fec.Prefix(pfx("10.1.0.0/24")): 18, fec.Prefix(pfx("10.3.0.0/24")): 16, fec.Prefix(pfx("10.9.9.0/24")): 17, fec.Prefix(pfx("2001:db8:1::/64")): 99,
}

func newSim(t *testing.T, seeded bool) *sim {
	// Two spares per peer: random mappings reach the retention bound.
	cfg := Config{LabelMin: 16, LabelMax: 19, MaxUnroutedPerPeer: 2}
	if seeded {
		cfg.Seed = simSeed
	}
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// A closed session's bindings are released two FECs a step, so that
	// the other events fall between the steps.
	l.piece = 2
	return &sim{t: t, l: l, up: map[netip.Addr]bool{}, holds: map[netip.Addr][]held{}, owe: map[netip.Addr][]held{},
		repl: map[netip.Addr][]held{}, tbl: fib.NewTable(), allocated: map[fec.FEC]bool{}}
}

func (s *sim) run(data []byte) {
	next := func() int {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return int(b)
	}
	for len(data) > 0 {
		op, a, b, c := next()%18, next(), next(), next()
		if op != 17 && s.l.Draining() {
			s.betweenDrains++
		}
		peer := simPeers[a%len(simPeers)]
		p := simFECs[b%len(simFECs)]
		var out []Outgoing
		switch op {
		case 0:
			r := rib.Route{Prefix: p}
			for i := range 3 {
				if c&(1<<i) != 0 {
					r.NextHops = append(r.NextHops, rib.NextHop{Addr: simAddrs[i], Ifname: "eth"})
				}
			}
			if c&8 != 0 || p.Addr().Is6() {
				r.NextHops = []rib.NextHop{{Ifname: "lan"}}
			}
			out = s.l.RouteUpdate(r)
		case 1:
			out = s.l.RouteDelete(p)
		case 2:
			out = s.l.NeighborUp(peer)
			s.up[peer] = true
		case 3:
			out = s.l.NeighborDown(peer)
			delete(s.up, peer)
			s.forget(peer)
		case 4, 5:
			if !s.up[peer] {
				continue
			}
			addrs := []netip.Addr{simAddrs[a%len(simAddrs)]}
			if op == 4 {
				out = s.l.NeighborAddresses(peer, addrs)
			} else {
				out = s.l.NeighborAddressesWithdrawn(peer, addrs)
			}
		case 6, 7, 8, 9, 10, 11:
			if !s.up[peer] {
				continue
			}
			m := s.peerMessage(op, peer, p, c)
			if m == nil {
				continue
			}
			out = s.l.LabelMessage(peer, m)
		case 13:
			// The peer restarts (RFC 3478): it holds nothing any more;
			// its labels stay, stale.
			if !s.up[peer] {
				continue
			}
			delete(s.up, peer)
			s.forget(peer)
			out = s.l.NeighborStale(peer)
		case 14:
			if !s.up[peer] {
				// Never came back: everything goes.
				s.forget(peer)
			}
			out = s.l.SweepStale(peer)
		case 15:
			out = s.l.DropSeed()
			s.seedDropped = true
		case 16:
			// The label range moves (a reload): 16-19, 20-23 or 24-27.
			lo := fib.Label(16 + 4*(c%3))
			var err error
			if out, err = s.l.SetLabelRange(lo, lo+3); err != nil {
				s.t.Fatal(err)
			}
			// The seed's labels outside the new range are given up.
			s.seedDropped = true
			s.renumbering, s.rangeMoved = true, true
		case 17:
			// A step of a closed session's release (drain.go), which
			// the engine interleaves with everything else.
			if !s.l.Draining() {
				continue
			}
			out = s.l.Drain()
			s.drainSteps++
		case 12:
			var addrs []netip.Addr
			if c&1 != 0 {
				addrs = append(addrs, netip.MustParseAddr("10.255.0.2"))
			}
			out = s.l.SetLocalAddresses(addrs)
		}
		s.events++
		s.deliver(out)
		s.renumbering = false
		s.check()
	}
}

func (s *sim) peerMessage(op int, peer netip.Addr, p netip.Prefix, c int) wire.Message {
	prefixFEC := wire.FEC{wire.PrefixFEC{Prefix: p}}
	switch op {
	case 6:
		labels := []uint32{3, 0, 2, 100, 101, 200}
		return &wire.LabelMapping{FEC: prefixFEC, Label: labels[c%len(labels)]}
	case 7:
		var fec wire.FEC
		switch c % 3 {
		case 0:
			fec = prefixFEC
		case 1:
			fec = wire.FEC{wire.WildcardFEC{}}
		default:
			fec = wire.FEC{wire.TypedWildcardFEC{Type: wire.FECPrefix, Family: wire.AFIPv4}}
		}
		return &wire.LabelWithdraw{FEC: fec}
	case 8: // answer the oldest withdraw or replacement
		if len(s.owe[peer]) == 0 {
			return nil
		}
		h := s.owe[peer][0]
		s.owe[peer] = s.owe[peer][1:]
		s.repl[peer] = slices.DeleteFunc(s.repl[peer], func(x held) bool { return x == h })
		s.drop(peer, h)
		v := uint32(h.label)
		return &wire.LabelRelease{FEC: wire.FEC{wire.PrefixFEC{Prefix: h.fec}}, Label: &v}
	case 9: // release a mapping nobody withdrew
		for _, h := range s.holds[peer] {
			if h.fec == p && !s.owes(peer, h) {
				s.drop(peer, h)
				v := uint32(h.label)
				return &wire.LabelRelease{FEC: prefixFEC, Label: &v}
			}
		}
		return nil
	case 10:
		s.reqID++
		return &wire.LabelRequest{MsgID: s.reqID, FEC: prefixFEC}
	default:
		return &wire.LabelAbortRequest{MsgID: 1 << 20, FEC: prefixFEC, LabelRequestID: s.reqID}
	}
}

func (s *sim) owes(peer netip.Addr, h held) bool {
	for _, o := range s.owe[peer] {
		if o == h {
			return true
		}
	}
	return false
}

func (s *sim) drop(peer netip.Addr, h held) {
	for i, x := range s.holds[peer] {
		if x == h {
			s.holds[peer] = append(s.holds[peer][:i:i], s.holds[peer][i+1:]...)
			return
		}
	}
	s.t.Fatalf("event %d: model error: %v does not hold %v", s.events, peer, h)
}

// deliver plays the peers' side of what the LIB sent.
func (s *sim) deliver(out []Outgoing) {
	for _, o := range out {
		if _, err := wire.AppendMessage(nil, o.Msg); err != nil {
			s.t.Fatalf("event %d: %s does not encode: %v", s.events, describe(o), err)
		}
		if !s.up[o.Peer] {
			s.t.Fatalf("event %d: %s sent to a peer without a session", s.events, describe(o))
		}
		switch m := o.Msg.(type) {
		case *wire.LabelMapping:
			h := held{m.FEC[0].(wire.PrefixFEC).Prefix, fib.Label(m.Label)}
			if !s.owes(o.Peer, h) {
				for _, x := range s.holds[o.Peer] {
					if x.fec != h.fec || x.label == h.label || contains(s.repl[o.Peer], x) {
						continue
					}
					if !s.renumbering || (x.label >= s.l.cfg.LabelMin && x.label <= s.l.cfg.LabelMax) {
						s.t.Fatalf("event %d: %s while the peer holds %v for it", s.events, describe(o), x.label)
					}
					// The range moved: the peer replaces x and owes its
					// release (RFC 5036 A.1.2, LMp.10a).
					s.repl[o.Peer] = append(s.repl[o.Peer], x)
					s.owe[o.Peer] = append(s.owe[o.Peer], x)
				}
			}
			if !contains(s.holds[o.Peer], h) {
				s.holds[o.Peer] = append(s.holds[o.Peer], h)
			}
		case *wire.LabelWithdraw:
			h := held{m.FEC[0].(wire.PrefixFEC).Prefix, fib.Label(*m.Label)}
			if !contains(s.holds[o.Peer], h) || s.owes(o.Peer, h) {
				s.t.Fatalf("event %d: %s for a label the peer does not hold", s.events, describe(o))
			}
			s.owe[o.Peer] = append(s.owe[o.Peer], h)
		}
	}
}

// forget drops what a peer whose session ended held and owed.
func (s *sim) forget(peer netip.Addr) {
	delete(s.holds, peer)
	delete(s.owe, peer)
	delete(s.repl, peer)
}

func contains(hs []held, h held) bool {
	for _, x := range hs {
		if x == h {
			return true
		}
	}
	return false
}

// check verifies the invariants: no label bound to two FECs, every LFIB
// label in the range and owned by its FEC, no label a peer holds back in
// the pool, holder counts that match, and incremental forwarding state
// equal to a recomputation.
func (s *sim) check() {
	t, l := s.t, s.l
	t.Helper()
	// The counts metrics export are those of the bindings operators see.
	var local, remote int
	for _, b := range l.Bindings() {
		if b.HasLocal {
			local++
		}
		remote += len(b.Remote)
	}
	if st := l.Stats(); st.LocalBindings != local || st.RemoteBindings != remote {
		t.Fatalf("event %d: Stats counts %d local and %d remote bindings, Bindings shows %d and %d",
			s.events, st.LocalBindings, st.RemoteBindings, local, remote)
	}
	owner := map[fib.Label]fec.FEC{}
	for p, f := range l.fecs {
		if !f.allocated {
			continue
		}
		if q, dup := owner[f.local]; dup {
			t.Fatalf("event %d: label %d bound to %v and %v", s.events, f.local, p, q)
		}
		owner[f.local] = p
		if u, ok := l.alloc.used[f.local]; !ok || !u.bound || u.fec != p {
			t.Fatalf("event %d: %v's label %d is %+v in the allocator", s.events, p, f.local, u)
		}
	}
	// Replaced labels a peer still holds switch as their FEC does.
	lingering := map[fib.Label]fec.FEC{}
	for p, f := range l.fecs {
		for _, lb := range f.lingering {
			lingering[lb] = p
			if e, ok := l.lfib[lb]; !ok || !slices.EqualFunc(e.NextHops, l.lfib[f.lfibLabel].NextHops, fib.NextHop.Equal) {
				t.Fatalf("event %d: %v's replaced label %d switches %v, its label %d %v", s.events, p, lb, e, f.lfibLabel, l.lfib[f.lfibLabel])
			}
		}
		for _, e := range f.replaced {
			if _, ok := l.lfib[e.v]; f.inLFIB && !ok {
				t.Fatalf("event %d: %v's replaced label %d, held by %v, has no LFIB entry", s.events, p, e.v, e.peer)
			}
		}
	}
	for lb := range l.lfib {
		_, linger := lingering[lb]
		_, bound := owner[lb]
		if (lb < l.cfg.LabelMin || lb > l.cfg.LabelMax) && !linger && !(bound && s.rangeMoved) {
			t.Fatalf("event %d: LFIB label %d outside the range", s.events, lb)
		}
		if !bound && !linger {
			t.Fatalf("event %d: LFIB label %d belongs to no FEC", s.events, lb)
		}
	}
	for peer, hs := range s.holds {
		for _, h := range hs {
			if h.label < fib.FirstUnreserved {
				continue
			}
			if u, ok := l.alloc.used[h.label]; !ok || u.fec != fec.Prefix(h.fec) {
				t.Fatalf("event %d: %v holds %d for %v but the allocator has %+v (in use %v)", s.events, peer, h.label, h.fec, u, ok)
			}
		}
	}
	holders := map[fib.Label]int{}
	for _, f := range l.fecs {
		for _, e := range f.sent {
			holders[e.v]++
		}
		for _, e := range f.wdraw {
			holders[e.v]++
		}
		for _, e := range f.replaced {
			holders[e.v]++
		}
	}
	for lb, u := range l.alloc.used {
		if u.holders != holders[lb] {
			t.Fatalf("event %d: label %d has %d holders, peers hold it %d times", s.events, lb, u.holders, holders[lb])
		}
	}
	s.checkDrains()
	unrouted := map[netip.Addr]int{}
	for _, f := range l.fecs {
		for _, e := range f.remote {
			if f.route == nil {
				unrouted[e.peer]++
			}
		}
	}
	for id, n := range l.nbrs {
		if n.unrouted != unrouted[id] {
			t.Fatalf("event %d: %v counted with %d labels for FECs without a route, it has %d", s.events, id, n.unrouted, unrouted[id])
		}
	}
	s.checkRestart()
	inRange := 0
	for lb := range l.alloc.used {
		if l.alloc.inRange(lb) {
			inRange++
		}
	}
	if got, want := inRange+l.alloc.available(), l.alloc.size(); got != want {
		t.Fatalf("event %d: %d labels used or free, range has %d", s.events, got, want)
	}
	// The deltas, applied in turn, give the table.
	s.tbl.Apply(l.TakeDelta())
	want := l.Table()
	same := len(want.LFIB) == len(s.tbl.LFIB) && len(want.FTN) == len(s.tbl.FTN)
	for k, e := range want.LFIB {
		same = same && e.Equal(s.tbl.LFIB[k])
	}
	for k, e := range want.FTN {
		same = same && e.Equal(s.tbl.FTN[k])
	}
	if !same {
		t.Fatalf("event %d: the table from deltas\n%s\nis not the table\n%s", s.events, describeTable(s.tbl), describeTable(want))
	}
	g := l.gen
	for _, f := range l.fecs {
		l.updateForwarding(f)
	}
	if l.gen != g {
		t.Fatalf("event %d: forwarding state was stale", s.events)
	}
}

// checkRestart verifies the graceful restart state: stale marks only on
// labels and addresses the neighbour has, a neighbour without a session
// has nothing but stale ones (it cannot advertise), the stale count
// operators see is the marks', and seeded labels are kept in the allocator
// for their FEC alone.
func (s *sim) checkRestart() {
	t, l := s.t, s.l
	t.Helper()
	stale := 0
	for id, n := range l.nbrs {
		stale += len(n.stale)
		remote := 0
		for _, f := range l.fecs {
			if _, ok := f.remote.get(id); ok {
				remote++
			}
		}
		for p := range n.stale {
			f := l.fecs[p]
			if f == nil {
				t.Fatalf("event %d: %v has a stale mark on %v, an unknown FEC", s.events, id, p)
			}
			if _, ok := f.remote.get(id); !ok {
				t.Fatalf("event %d: %v has a stale mark on %v without a label for it", s.events, id, p)
			}
		}
		for a := range n.staleAddrs {
			if _, ok := n.addrs[a]; !ok {
				t.Fatalf("event %d: %v has stale address %v it does not have", s.events, id, a)
			}
		}
		if !n.up && (remote != len(n.stale) || len(n.addrs) != len(n.staleAddrs)) {
			t.Fatalf("event %d: %v has no session but %d of its %d labels and %d of its %d addresses are not stale",
				s.events, id, remote-len(n.stale), remote, len(n.addrs)-len(n.staleAddrs), len(n.addrs))
		}
		if n.up != s.up[id] {
			t.Fatalf("event %d: %v up=%v in the LIB, %v in the model", s.events, id, n.up, s.up[id])
		}
	}
	if st := l.Stats(); st.StaleBindings != stale || st.SeededLabels != len(l.alloc.seed) {
		t.Fatalf("event %d: Stats counts %d stale and %d seeded, there are %d and %d", s.events, st.StaleBindings, st.SeededLabels, stale, len(l.alloc.seed))
	}
	reserved := 0
	for lb, u := range l.alloc.used {
		if !u.reserved {
			continue
		}
		reserved++
		if got, ok := l.alloc.seed[u.fec]; !ok || got != lb || u.bound {
			t.Fatalf("event %d: label %d reserved for %v, the seed has %d (%v), bound %v", s.events, lb, u.fec, got, ok, u.bound)
		}
	}
	if reserved != len(l.alloc.seed) {
		t.Fatalf("event %d: %d labels reserved, %d seeded", s.events, reserved, len(l.alloc.seed))
	}
	for lb := range l.alloc.ahead {
		if lb < l.alloc.next {
			t.Fatalf("event %d: label %d ahead of next %d", s.events, lb, l.alloc.next)
		}
		if _, ok := l.alloc.used[lb]; !ok {
			t.Fatalf("event %d: label %d ahead of next but not in use", s.events, lb)
		}
	}
	for _, lb := range l.alloc.free[l.alloc.head:] {
		if _, ok := l.alloc.used[lb]; ok || lb >= l.alloc.next {
			t.Fatalf("event %d: free label %d in use or not handed out yet (next %d)", s.events, lb, l.alloc.next)
		}
	}
	// A FEC of the seed gets its old label the first time it needs one,
	// unless the seed was dropped before.
	for p, f := range l.fecs {
		want, ok := simSeed[p]
		if !ok || l.cfg.Seed == nil || !f.allocated || s.allocated[p] {
			continue
		}
		s.allocated[p] = true
		if !s.seedDropped && want >= l.cfg.LabelMin && want <= l.cfg.LabelMax && f.local != want {
			t.Fatalf("event %d: %v got label %d, the seed kept %d", s.events, p, f.local, want)
		}
	}
	seen := map[fib.Label]fec.FEC{}
	for p, lb := range l.LocalLabels() {
		if q, dup := seen[lb]; dup {
			t.Fatalf("event %d: LocalLabels gives %d to %v and %v", s.events, lb, p, q)
		}
		seen[lb] = p
	}
}

func TestRandomEvents(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var drainSteps, between int
	for i := range 600 {
		data := make([]byte, 1600)
		for i := range data {
			data[i] = byte(r.UintN(256))
		}
		s := newSim(t, i%2 == 1)
		s.run(data)
		drainSteps += s.drainSteps
		between += s.betweenDrains
	}
	// The runs must have cut releases into pieces, with other events
	// between the pieces, for checkDrains to mean anything.
	if drainSteps < 1000 || between < 1000 {
		t.Fatalf("%d drain steps and %d other events during drains in all runs", drainSteps, between)
	}
	t.Logf("%d drain steps, %d other events during drains", drainSteps, between)
}

func FuzzEvents(f *testing.F) {
	f.Add([]byte{2, 0, 0, 0, 2, 1, 0, 0, 4, 1, 1, 0, 0, 0, 0, 2, 6, 1, 0, 0, 7, 1, 0, 0, 8, 1, 0, 0})
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 8, 0, 0, 1, 8, 0, 0, 2, 8, 0, 0, 4, 8, 0, 0, 4, 8, 1, 0, 0, 0, 8, 0, 0, 0, 3, 0, 0, 0})
	f.Add([]byte{1, 2, 0, 0, 0, 4, 0, 0, 0, 1, 6, 0, 0, 3, 13, 0, 0, 0, 2, 0, 0, 0, 6, 0, 0, 4, 14, 0, 0, 0, 15, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		newSim(t, len(data)%2 == 1).run(data)
	})
}

// checkDrains verifies what a session that ended leaves while its release
// is under way (drain.go): no address of its maps a next hop to it, and
// it is no neighbour; once no drain is left, no FEC holds anything for a
// peer the LIB does not know.
func (s *sim) checkDrains() {
	t, l := s.t, s.l
	t.Helper()
	for _, d := range l.drains {
		if _, ok := l.nbrs[d.id]; ok {
			t.Fatalf("event %d: %v is a neighbour while its ended session is drained", s.events, d.id)
		}
		for a, owner := range l.addrOwner {
			if owner == d.id {
				t.Fatalf("event %d: address %v maps to %v, whose session ended", s.events, a, d.id)
			}
		}
	}
	if len(l.drains) > 0 {
		return
	}
	for p, f := range l.fecs {
		var peers []netip.Addr
		for _, e := range f.remote {
			peers = append(peers, e.peer)
		}
		for _, m := range []peerMap[fib.Label]{f.sent, f.wdraw, f.replaced} {
			for _, e := range m {
				peers = append(peers, e.peer)
			}
		}
		for _, e := range f.reqs {
			peers = append(peers, e.peer)
		}
		for _, id := range peers {
			if _, ok := l.nbrs[id]; !ok {
				t.Fatalf("event %d: %v still holds state for %v, whose session ended", s.events, p, id)
			}
		}
	}
}
