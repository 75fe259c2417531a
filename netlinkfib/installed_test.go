package netlinkfib

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/lsrd/lsrd/fib"
	"golang.org/x/sys/unix"
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

	f := &FIB{desired: fib.NewTable()}
	in := f.Installed()
	if in.Label(e16) || in.Prefix(p1) {
		t.Error("before any pass, entries count as installed")
	}
	// A pass takes t1 and fails label 17 and the route to 3.3.3.0/24 (its
	// item names the nexthop too), and a nexthop object.
	f.Set(t1)
	if _, sweep := f.takeNext(); sweep != "" {
		t.Fatal(sweep)
	}
	if in.Label(e16) || in.Prefix(p1) {
		t.Error("a table taken by a pass that has not programmed it counts as installed")
	}
	f.programmed(Errors{
		labelError(17, "add", errors.New("refused")),
		routeError(prefixRoute{prefix: p2.Prefix, nhid: 3238002689}, "replace", errors.New("refused")),
		{Item: "nexthop 3238002690", Op: "add", Err: errors.New("refused")},
	})
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
	// A change taken by the next pass: its entry is pending until that
	// pass ends; the others stay installed.
	f.Change(&fib.Delta{LFIB: map[fib.Label]*fib.LFIBEntry{16: &moved}})
	if changed, _ := f.takeNext(); changed == nil || changed.len() != 1 {
		t.Fatalf("scope of the change: %+v", changed)
	}
	if in.Label(moved) || !in.Prefix(p1) {
		t.Errorf("while the change is being programmed: 16 %v (want false), 2.2.2.2/32 %v (want true)", in.Label(moved), in.Prefix(p1))
	}
	if v := f.TableView(); len(v.LFIB) != 2 || v.LFIB[0].Installed || !v.LFIB[0].Equal(moved) || len(v.FTN) != 2 || !v.FTN[0].Installed {
		t.Errorf("the table view while the change is programmed: %+v, want 16 (moved) not installed, 2.2.2.2/32 installed", v)
	}
	f.programmed(nil)
	if !in.Label(moved) || !in.Label(e17) {
		t.Errorf("after the pass: 16 %v 17 %v, want both installed", in.Label(moved), in.Label(e17))
	}
	if v := f.TableView(); len(v.FTN) != 2 || !v.FTN[0].Installed || !v.FTN[1].Installed {
		t.Errorf("the table view after the pass: %+v, want both prefixes installed", v.FTN)
	}
	// A ride moves 3.3.3.0/24 with its LSP: pending until the pass ends,
	// without the pass noting it by prefix; 2.2.2.2/32, named by no ride
	// and forwarding another way, stays installed.
	relabelled := []fib.NextHop{{Addr: netip.MustParseAddr("10.0.0.2"), Ifname: "zt0", Labels: []fib.Label{22}}}
	f.Change(&fib.Delta{Rides: map[netip.Addr]*fib.Ride{netip.MustParseAddr("9.9.9.9"): {NextHops: relabelled, Prefixes: []netip.Prefix{p2.Prefix}}}})
	if changed, _ := f.takeNext(); changed == nil || changed.len() != 1 || len(changed.prefixes) != 0 {
		t.Fatalf("scope of the ride: %+v", changed)
	}
	rode := fib.FTNEntry{Prefix: p2.Prefix, NextHops: relabelled}
	if in.Prefix(rode) || !in.Prefix(p1) {
		t.Errorf("while the ride is being programmed: 3.3.3.0/24 %v (want false), 2.2.2.2/32 %v (want true)", in.Prefix(rode), in.Prefix(p1))
	}
	f.programmed(nil)
	if !in.Prefix(rode) || in.Prefix(p2) {
		t.Errorf("after the ride's pass: 3.3.3.0/24 as it rides %v (want true), as it was %v (want false)", in.Prefix(rode), in.Prefix(p2))
	}
}

func TestLinkFlushes(t *testing.T) {
	msg := func(flags uint32) []byte {
		b := make([]byte, unix.SizeofIfInfomsg)
		binary.NativeEndian.PutUint32(b[8:12], flags)
		return b
	}
	for _, c := range []struct {
		flags uint32
		want  bool
	}{
		{unix.IFF_UP | unix.IFF_LOWER_UP | unix.IFF_RUNNING, false},
		{0, true},                 // down
		{unix.IFF_UP, true},       // up without carrier
		{unix.IFF_LOWER_UP, true}, // carrier, administratively down
	} {
		if got := linkFlushes(msg(c.flags)); got != c.want {
			t.Errorf("flags %#x: %v, want %v", c.flags, got, c.want)
		}
	}
	if linkFlushes([]byte{1, 2, 3}) {
		t.Error("a short message counts")
	}
}
