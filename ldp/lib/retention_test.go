package lib

import (
	"github.com/lsrd/lsrd/ldp/fec"
	"testing"

	"github.com/lsrd/lsrd/ldp/wire"
)

func request(p string) *wire.LabelRequest {
	return &wire.LabelRequest{FEC: wire.FEC{wire.PrefixFEC{Prefix: pfx(p)}}}
}

// TestUnroutedBound: E may leave at most two labels for FECs without a
// route; the third is released at once and counted. A label for a FEC with
// a route is always kept. When a route via E appears for the refused FEC,
// the LIB asks E for its label again; when one of the kept spares gets a
// route, E has room for a new spare.
func TestUnroutedBound(t *testing.T) {
	l := newLIB(t, Config{MaxUnroutedPerPeer: 2})
	withPeers(t, l)
	l.RouteUpdate(route("10.9.0.0/24", via(addrE, "e")))

	expect(t, "first spare", l.LabelMessage(peerE, mapping("10.1.0.0/24", 101)))
	expect(t, "second spare", l.LabelMessage(peerE, mapping("10.2.0.0/24", 102)))
	expect(t, "third spare, over the bound", l.LabelMessage(peerE, mapping("10.3.0.0/24", 103)),
		to(peerE, release("10.3.0.0/24", 103)))
	expect(t, "a new label for a kept spare replaces it", l.LabelMessage(peerE, mapping("10.2.0.0/24", 112)),
		to(peerE, release("10.2.0.0/24", 102)))
	out := l.LabelMessage(peerE, mapping("10.9.0.0/24", 109))
	for _, o := range out {
		if _, ok := o.Msg.(*wire.LabelRelease); ok {
			t.Fatalf("routed FEC: %s", describeAll(out))
		}
	}
	if st := l.Stats(); st.UnroutedRefused != 1 || st.RemoteBindings != 3 {
		t.Fatalf("Stats %+v, want 1 refused and 3 remote bindings", st)
	}
	if _, ok := l.fecs[fec.Prefix(pfx("10.3.0.0/24"))]; ok {
		t.Fatal("the refused FEC is still kept")
	}
	// F is not E: its own spares are counted apart.
	expect(t, "F's spare", l.LabelMessage(peerF, mapping("10.3.0.0/24", 203)))

	var asked bool
	for _, o := range l.RouteUpdate(route("10.3.0.0/24", via(addrE, "e"))) {
		if r, ok := o.Msg.(*wire.LabelRequest); ok && o.Peer == peerE && r.FEC[0] == request("10.3.0.0/24").FEC[0] {
			asked = true
		}
	}
	if !asked {
		t.Fatal("the released label was not asked for again when the route appeared")
	}
	l.RouteUpdate(route("10.1.0.0/24", via(addrE, "e")))
	expect(t, "room again after a spare got a route", l.LabelMessage(peerE, mapping("10.4.0.0/24", 104)))
	expect(t, "and full again", l.LabelMessage(peerE, mapping("10.5.0.0/24", 105)),
		to(peerE, release("10.5.0.0/24", 105)))
}
