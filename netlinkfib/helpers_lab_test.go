//go:build lab

package netlinkfib

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/lab/topo"
	"github.com/vishvananda/netns"
)

// newFIB returns a FIB bound to the router's namespace, closed at the end
// of the test.
func newFIB(t testing.TB, r *topo.Router, opts ...Option) *FIB {
	t.Helper()
	ns, err := netns.GetFromName(r.Name)
	if err != nil {
		t.Fatalf("%s: namespace: %v", r.Name, err)
	}
	defer ns.Close()
	f, err := New(append([]Option{WithNetNS(ns)}, opts...)...)
	if err != nil {
		t.Fatalf("%s: %v", r.Name, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func apply(t testing.TB, f *FIB, tab *fib.Table) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := f.Apply(ctx, tab); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func nh(addr, ifname string, labels ...fib.Label) fib.NextHop {
	return fib.NextHop{Addr: netip.MustParseAddr(addr), Ifname: ifname, Labels: labels}
}

func lfib(in fib.Label, hops ...fib.NextHop) fib.LFIBEntry {
	return fib.LFIBEntry{InLabel: in, NextHops: hops}
}

func ftn(prefix string, hops ...fib.NextHop) fib.FTNEntry {
	return fib.FTNEntry{Prefix: netip.MustParsePrefix(prefix), NextHops: hops}
}
