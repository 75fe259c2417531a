package netlinkfib

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/lsrd/lsrd/fib"
)

func TestInstalled(t *testing.T) {
	hop := fib.NextHop{Addr: netip.MustParseAddr("10.0.0.2"), Ifname: "zt0", Labels: []fib.Label{20}}
	e16 := fib.LFIBEntry{InLabel: 16, NextHops: []fib.NextHop{hop}}
	e17 := fib.LFIBEntry{InLabel: 17, NextHops: []fib.NextHop{hop}}
	p1 := fib.FTNEntry{Prefix: netip.MustParsePrefix("2.2.2.2/32"), NextHops: []fib.NextHop{hop}}
	p2 := fib.FTNEntry{Prefix: netip.MustParsePrefix("3.3.3.0/24"), NextHops: []fib.NextHop{hop}}
	t1 := fib.NewTable()
	t1.LFIB[16], t1.LFIB[17] = e16, e17
	t1.FTN[p1.Prefix], t1.FTN[p2.Prefix] = p1, p2

	var none Installed
	if none.Label(e16) || none.Prefix(p1) {
		t.Error("before any pass, entries count as installed")
	}
	// The pass failed label 17 and the route to 3.3.3.0/24 (its item
	// names the nexthop too), and a nexthop object.
	in := Installed{newProgrammed(t1, Errors{
		{Item: "label 17", Op: "add", Err: errors.New("refused")},
		{Item: "prefix 3.3.3.0/24 (nexthop 3238002689)", Op: "replace", Err: errors.New("refused")},
		{Item: "nexthop 3238002690", Op: "add", Err: errors.New("refused")},
	})}
	if !in.Label(e16) || in.Label(e17) || !in.Prefix(p1) || in.Prefix(p2) {
		t.Errorf("installed: 16 %v 17 %v 2.2.2.2/32 %v 3.3.3.0/24 %v; want true false true false",
			in.Label(e16), in.Label(e17), in.Prefix(p1), in.Prefix(p2))
	}
	// A newer entry than the pass programmed is not installed yet, nor
	// one the pass never saw.
	moved := e16
	moved.NextHops = []fib.NextHop{{Addr: netip.MustParseAddr("10.0.0.6"), Ifname: "zt1", Labels: []fib.Label{21}}}
	if in.Label(moved) || in.Label(fib.LFIBEntry{InLabel: 18}) || in.Prefix(fib.FTNEntry{Prefix: netip.MustParsePrefix("4.4.4.4/32")}) {
		t.Error("an entry the last pass did not program counts as installed")
	}
}
