package speaker_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/lsrd/lsrd/ldp"
	"github.com/lsrd/lsrd/rib"
)

// The view operators read is taken when a reader asks for it, and
// otherwise at most once a second however many events change the engine:
// a router with 40 neighbours took it for every hello. A reader that asks
// gets a view taken after everything handled before it asked.
func TestViewOnDemand(t *testing.T) {
	p := upPair(t, linkHellos, short)
	n := p.a
	viewsSince := n.viewsSince
	// Two seconds of events, one every 20 ms, each handled when it comes:
	// the lanes run dry between them, which used to take a view each time.
	start := time.Now()
	for i := range 100 {
		n.post(t, ldp.RoutesChanged{Updates: []rib.Route{{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), 32),
			Source: rib.SourceStatic, Distance: 1, NextHops: []rib.NextHop{{Addr: n.peer, Ifname: n.ifname}}}}})
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	if got, most := viewsSince(start), int(elapsed/time.Second)+2; got > most {
		t.Errorf("%d views in %s of events, want at most %d (one a second)", got, elapsed.Round(time.Millisecond), most)
	}
	// A reader asks: a view taken after the last event.
	last := time.Now()
	n.post(t, ldp.RoutesChanged{Updates: []rib.Route{{Prefix: netip.MustParsePrefix("198.51.100.0/24"),
		Source: rib.SourceStatic, Distance: 1, NextHops: []rib.NextHop{{Addr: n.peer, Ifname: n.ifname}}}}})
	select {
	case <-n.sp.WantView():
	case <-time.After(2 * time.Second):
		t.Fatal("WantView: no view within 2 s")
	}
	if viewsSince(last) == 0 {
		t.Error("WantView returned without a view taken after the last event")
	}
	// Nothing changed since: the next reader needs no new view.
	before := viewsSince(start)
	select {
	case <-n.sp.WantView():
	case <-time.After(2 * time.Second):
		t.Fatal("WantView of a current view: not answered within 2 s")
	}
	if after := viewsSince(start); after > before+1 {
		t.Errorf("a current view was taken %d more times", after-before)
	}
}

// At rest (hellos and KeepAlives only) no view is taken unless a reader
// asks: a router with 40 neighbours spent a fifth of its CPU at rest
// taking one a second. A session that goes down is published unasked.
func TestViewAtRest(t *testing.T) {
	p := upPair(t, linkHellos, short)
	n := p.a
	views := n.viewsSince
	time.Sleep(1500 * time.Millisecond) // a view due from the set-up is taken
	// Hellos every 2 s and KeepAlives every 2 s each way (short timers).
	quiet := time.Now()
	time.Sleep(5 * time.Second)
	if got := views(quiet); got != 0 {
		t.Errorf("%d views in 5 s of hellos and KeepAlives, want none", got)
	}
	// Something changes: the view follows without a reader.
	down := time.Now()
	n.post(t, ldp.ClearNeighbor{LSRID: p.b.id})
	deadline := time.Now().Add(3 * time.Second)
	for views(down) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no view within 3 s of clearing the session")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// viewsSince counts the views n's speaker took after t0.
func (n *node) viewsSince(t0 time.Time) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, v := range n.views {
		if v.After(t0) {
			c++
		}
	}
	return c
}
