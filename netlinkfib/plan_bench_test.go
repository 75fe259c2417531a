package netlinkfib

import (
	"net/netip"
	"testing"

	"github.com/lsrd/lsrd/fib"
	"golang.org/x/sys/unix"
)

// bench100k is the kernel layer's view of the BGP bench: 100,000 /24s
// behind one LSP, every prefix sharing the producer's next-hop slice.
func bench100k() *fib.Table {
	t := fib.NewTable()
	nhs := []fib.NextHop{{Addr: netip.MustParseAddr("10.2.0.2"), Ifname: "eth1", Labels: []fib.Label{1000}}}
	for i := range 100_000 {
		a := 20<<24 + uint32(i)<<8
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), 0}), 24)
		t.FTN[p] = fib.FTNEntry{Prefix: p, NextHops: nhs}
	}
	return t
}

func benchLinks(name string) (int, bool) { return 2, name == "eth1" }

// One reconcile pass's work besides the kernel itself (resolve, diff, the
// requests to send) for 100,000 prefixes on an empty kernel: the install.
func BenchmarkPass100kInstall(b *testing.B) {
	t := bench100k()
	b.ReportAllocs()
	for b.Loop() {
		f := &FIB{have: newKernelState(), target: routeTarget{table: unix.RT_TABLE_MAIN}}
		want, _ := resolve(t, benchLinks, true)
		p := diff(want, f.have, &idAllocator{used: f.have.usedIDs}, nil)
		if cs := changes(p); len(cs) != 100_001 {
			b.Fatalf("%d changes", len(cs))
		}
	}
}

// The same on a kernel that has it all already: a pass that sends nothing.
func BenchmarkPass100kUnchanged(b *testing.B) {
	t := bench100k()
	have := newKernelState()
	want, _ := resolve(t, benchLinks, true)
	applyPlan(have, diff(want, have, &idAllocator{used: have.usedIDs}, nil))
	b.ReportAllocs()
	for b.Loop() {
		f := &FIB{have: have, target: routeTarget{table: unix.RT_TABLE_MAIN}}
		want, _ := resolve(t, benchLinks, true)
		p := diff(want, f.have, &idAllocator{used: f.have.usedIDs}, nil)
		if !p.empty() || len(changes(p)) != 0 {
			b.Fatal("changes on an up-to-date kernel")
		}
	}
}
