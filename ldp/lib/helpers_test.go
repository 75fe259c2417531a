package lib

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/ldp/wire"
	"github.com/lsrd/lsrd/rib"
)

// The test topology, seen from the LSR under test (T):
//
//	I (1.1.1.1) --192.0.2.0/31-- T --192.0.2.2/31-- E (3.3.3.3)
//	                             T --192.0.2.4/31-- F (4.4.4.4)
//
// I's link address is 192.0.2.0, E's 192.0.2.3, F's 192.0.2.5.
var (
	peerI = netip.MustParseAddr("1.1.1.1")
	peerE = netip.MustParseAddr("3.3.3.3")
	peerF = netip.MustParseAddr("4.4.4.4")
	addrI = netip.MustParseAddr("192.0.2.0")
	addrE = netip.MustParseAddr("192.0.2.3")
	addrF = netip.MustParseAddr("192.0.2.5")
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func u32(v uint32) *uint32 { return &v }

func via(a netip.Addr, ifname string) rib.NextHop { return rib.NextHop{Addr: a, Ifname: ifname} }

func route(p string, nhs ...rib.NextHop) rib.Route {
	return rib.Route{Prefix: pfx(p), Source: rib.SourceStatic, Distance: 1, NextHops: nhs}
}

func connected(p, ifname string) rib.Route {
	return rib.Route{Prefix: pfx(p), Source: rib.SourceConnected, NextHops: []rib.NextHop{{Ifname: ifname}}}
}

func mapping(p string, label uint32) *wire.LabelMapping {
	return &wire.LabelMapping{FEC: wire.FEC{wire.PrefixFEC{Prefix: pfx(p)}}, Label: label}
}

func withdraw(p string, label uint32) *wire.LabelWithdraw {
	return &wire.LabelWithdraw{FEC: wire.FEC{wire.PrefixFEC{Prefix: pfx(p)}}, Label: u32(label)}
}

func release(p string, label uint32) *wire.LabelRelease {
	return &wire.LabelRelease{FEC: wire.FEC{wire.PrefixFEC{Prefix: pfx(p)}}, Label: u32(label)}
}

func to(peer netip.Addr, m wire.Message) Outgoing { return Outgoing{Peer: peer, Msg: m} }

func newLIB(t testing.TB, cfg Config) *LIB {
	t.Helper()
	if cfg.LabelMin == 0 {
		cfg.LabelMin, cfg.LabelMax = 16, 1000
	}
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// withPeers brings I, E and F up with their link addresses.
func withPeers(t testing.TB, l *LIB) {
	t.Helper()
	for _, p := range []struct{ id, a netip.Addr }{{peerI, addrI}, {peerE, addrE}, {peerF, addrF}} {
		l.NeighborUp(p.id)
		l.NeighborAddresses(p.id, []netip.Addr{p.id, p.a})
	}
}

// expect compares the messages an input produced with the wanted ones,
// exactly and in order, and checks that each one encodes.
func expect(t *testing.T, step string, got []Outgoing, want ...Outgoing) {
	t.Helper()
	for _, o := range got {
		if _, err := wire.AppendMessage(nil, o.Msg); err != nil {
			t.Errorf("%s: %s does not encode: %v", step, describe(o), err)
		}
	}
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: sent\n%s\nwant\n%s", step, describeAll(got), describeAll(want))
	}
}

func describeAll(os []Outgoing) string {
	if len(os) == 0 {
		return "\t(nothing)"
	}
	var b strings.Builder
	for _, o := range os {
		fmt.Fprintf(&b, "\t%s\n", describe(o))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func describe(o Outgoing) string {
	s := o.Peer.String() + " <- " + o.Msg.Type().String()
	fecs := func(f wire.FEC) string {
		var p []string
		for _, e := range f {
			switch e := e.(type) {
			case wire.PrefixFEC:
				p = append(p, e.Prefix.String())
			case wire.WildcardFEC:
				p = append(p, "wildcard")
			case wire.TypedWildcardFEC:
				p = append(p, fmt.Sprintf("typed-wildcard(%v)", e.Family))
			}
		}
		return strings.Join(p, ",")
	}
	opt := func(name string, v *uint32) string {
		if v == nil {
			return ""
		}
		return fmt.Sprintf(" %s %d", name, *v)
	}
	switch m := o.Msg.(type) {
	case *wire.LabelMapping:
		return s + fmt.Sprintf(" %s label %d", fecs(m.FEC), m.Label) + opt("req", m.LabelRequestID)
	case *wire.LabelWithdraw:
		return s + " " + fecs(m.FEC) + opt("label", m.Label)
	case *wire.LabelRelease:
		return s + " " + fecs(m.FEC) + opt("label", m.Label)
	case *wire.Notification:
		return s + fmt.Sprintf(" %v (msg %d %v)", m.Status.Code, m.Status.MsgID, m.Status.MsgType) + opt("req", m.LabelRequestID)
	}
	return s
}

func nhop(a netip.Addr, ifname string, labels ...fib.Label) fib.NextHop {
	return fib.NextHop{Addr: a, Ifname: ifname, Labels: labels}
}

// expectTable compares the whole desired table.
func expectTable(t *testing.T, step string, l *LIB, lfib []fib.LFIBEntry, ftn []fib.FTNEntry) {
	t.Helper()
	want := fib.NewTable()
	for _, e := range lfib {
		want.LFIB[e.InLabel] = e
	}
	for _, e := range ftn {
		want.FTN[e.Prefix] = e
	}
	got := l.Table()
	same := len(got.LFIB) == len(want.LFIB) && len(got.FTN) == len(want.FTN)
	for k, e := range want.LFIB {
		same = same && e.Equal(got.LFIB[k])
	}
	for k, e := range want.FTN {
		same = same && e.Equal(got.FTN[k])
	}
	if !same {
		t.Errorf("%s: table\n%s\nwant\n%s", step, describeTable(got), describeTable(want))
	}
}

func describeTable(t *fib.Table) string {
	var b strings.Builder
	for k, e := range t.LFIB {
		fmt.Fprintf(&b, "\tlfib %v -> %v\n", k, e.NextHops)
	}
	for k, e := range t.FTN {
		fmt.Fprintf(&b, "\tftn %v -> %v\n", k, e.NextHops)
	}
	if b.Len() == 0 {
		return "\t(empty)"
	}
	return strings.TrimSuffix(b.String(), "\n")
}
