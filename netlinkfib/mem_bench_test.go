package netlinkfib

import (
	"runtime"
	"testing"

	"github.com/lsrd/lsrd/internal/heap"
)

// The kernel layer's memory per prefix for 100,000 prefixes behind one LSP:
// its desired table in kernel terms (what a scoped pass patches) and its
// cache of what the kernel holds. Reported as B/prefix per layer (the
// figures for docs/DESIGN.md); the desired table itself is the parent's
// handed table (daemon's BenchmarkBytesPerPrefix).
func BenchmarkBytesPerPrefix(b *testing.B) {
	const n = 100_000
	t := bench100k()
	for b.Loop() {
		h0 := heap.Live()
		want, _ := resolve(t, benchLinks, true)
		h1 := heap.Live()
		have := newKernelState()
		applyPlan(have, diff(want, have, &idAllocator{used: have.usedIDs}, nil))
		h2 := heap.Live()
		if len(have.routes) != n {
			b.Fatalf("%d routes, want %d", len(have.routes), n)
		}
		b.ReportMetric(float64(h1-h0)/n, "B/prefix-resolved")
		b.ReportMetric(float64(h2-h1)/n, "B/prefix-kernel-cache")
		runtime.KeepAlive(want)
		runtime.KeepAlive(have)
	}
}
