package ldp

import (
	"fmt"
	"net/netip"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/ldp/fec"
	"github.com/lsrd/lsrd/ldp/lib"
	"github.com/lsrd/lsrd/ldp/wire"
	"github.com/lsrd/lsrd/rib"
)

// fakeLIB stands in for *lib.LIB: it records every call as a line of text
// and answers from a script.
type fakeLIB struct {
	calls []libCall
	// pos reports how many actions the engine has produced so far in the
	// current Handle, so that calls print where they happened.
	pos func() int
	// replies maps "Call arg" to the messages returned to arg's peer (or
	// the peer of the rule) each time the call happens.
	replies map[string][]lib.Outgoing
	// ftn maps "Call arg" to FTN entries the table gains on that call.
	ftn   map[string][]fib.FTNEntry
	table *fib.Table
	gen   uint64
	// routes: those RouteUpdate passed on, for RouteTo.
	routes map[netip.Prefix]rib.Route
}

type libCall struct {
	pos  int
	line string
}

func newFakeLIB() *fakeLIB {
	return &fakeLIB{replies: map[string][]lib.Outgoing{}, ftn: map[string][]fib.FTNEntry{}, table: fib.NewTable()}
}

func (f *fakeLIB) call(name, arg, detail string) []lib.Outgoing {
	line := "lib " + name + " " + arg
	if detail != "" {
		line += " " + detail
	}
	c := libCall{line: line}
	if f.pos != nil {
		c.pos = f.pos()
	}
	f.calls = append(f.calls, c)
	key := name + " " + arg
	for _, e := range f.ftn[key] {
		if old, ok := f.table.FTN[e.Prefix]; !ok || !old.Equal(e) {
			f.table.FTN[e.Prefix] = e
			f.gen++
		}
	}
	var out []lib.Outgoing
	for _, o := range f.replies[key] {
		// A fresh copy each time: the engine stamps Message IDs.
		out = append(out, lib.Outgoing{Peer: o.Peer, Msg: cloneMessage(o.Msg)})
	}
	return out
}

func cloneMessage(m wire.Message) wire.Message {
	b, err := wire.AppendMessage(nil, m)
	if err != nil {
		panic(err)
	}
	p, err := wire.DecodePDU(append([]byte{0, 1, byte((len(b) + 6) >> 8), byte(len(b) + 6), 9, 9, 9, 9, 0, 0}, b...))
	if p == nil {
		panic(err)
	}
	return p.Messages[0]
}

func (f *fakeLIB) RouteUpdate(r rib.Route) []lib.Outgoing {
	if f.routes == nil {
		f.routes = map[netip.Prefix]rib.Route{}
	}
	f.routes[r.Prefix.Masked()] = r
	return f.call("RouteUpdate", r.Prefix.String(), fmt.Sprint(r.NextHops))
}

func (f *fakeLIB) RouteDelete(p netip.Prefix) []lib.Outgoing {
	delete(f.routes, p.Masked())
	return f.call("RouteDelete", p.String(), "")
}

// RouteTo answers from the routes passed on, as the LIB does; it is not a
// call the transcripts show.
func (f *fakeLIB) RouteTo(a netip.Addr) (rib.Route, bool) {
	for bits := a.BitLen(); bits >= 0; bits-- {
		p, _ := a.Prefix(bits)
		if r, ok := f.routes[p]; ok {
			return r, true
		}
	}
	return rib.Route{}, false
}

func (f *fakeLIB) NeighborUp(id netip.Addr, families ...fec.Family) []lib.Outgoing {
	if len(families) == 1 && families[0] == fec.IPv4 {
		return f.call("NeighborUp", id.String(), "")
	}
	return f.call("NeighborUp", id.String(), fmt.Sprint(families))
}

func (f *fakeLIB) NeighborDown(id netip.Addr) []lib.Outgoing {
	return f.call("NeighborDown", id.String(), "")
}

// The fake LIB's NeighborDown does all its work at once.
func (f *fakeLIB) Draining() bool        { return false }
func (f *fakeLIB) Drain() []lib.Outgoing { return nil }

func (f *fakeLIB) NeighborAddresses(id netip.Addr, a []netip.Addr) []lib.Outgoing {
	return f.call("NeighborAddresses", id.String(), joinAddrs(a))
}

func (f *fakeLIB) NeighborAddressesWithdrawn(id netip.Addr, a []netip.Addr) []lib.Outgoing {
	return f.call("NeighborAddressesWithdrawn", id.String(), joinAddrs(a))
}

func (f *fakeLIB) LabelMessage(id netip.Addr, m wire.Message) []lib.Outgoing {
	return f.call("LabelMessage", id.String(), renderMessage(m))
}

func (f *fakeLIB) SetLocalAddresses(a []netip.Addr) []lib.Outgoing {
	return f.call("SetLocalAddresses", joinAddrs(a), "")
}

func (f *fakeLIB) SetLabelRange(min, max fib.Label) ([]lib.Outgoing, error) {
	return f.call("SetLabelRange", fmt.Sprintf("%d-%d", min, max), ""), nil
}

func (f *fakeLIB) Table() *fib.Table {
	t := fib.NewTable()
	for k, v := range f.table.LFIB {
		t.LFIB[k] = v
	}
	for k, v := range f.table.FTN {
		t.FTN[k] = v
	}
	return t
}

func (f *fakeLIB) Generation() uint64 { return f.gen }

func (f *fakeLIB) UnroutedRefused() uint64 { return 0 }

func (f *fakeLIB) NeighborStale(id netip.Addr) []lib.Outgoing {
	return f.call("NeighborStale", id.String(), "")
}

func (f *fakeLIB) SweepStale(id netip.Addr) []lib.Outgoing {
	return f.call("SweepStale", id.String(), "")
}

func (f *fakeLIB) StaleBindings(netip.Addr) int { return 0 }

func (f *fakeLIB) DropSeed() []lib.Outgoing { return f.call("DropSeed", "", "") }

func (f *fakeLIB) TakeDelta() *fib.Delta { return &fib.Delta{} }
