//go:build lab

package netlinkfib

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/lab/topo"
)

// 20,000 MPLS swap routes programmed by netlinkfib, then the same routes by
// `ip -f mpls -batch` in the same guest, side by side (software emulation:
// only figures from one run compare). Run with -bench LFIB -benchtime 1x.
func BenchmarkLFIB20000(b *testing.B) {
	const n = 20000
	var fibTotal, ipTotal time.Duration
	for range b.N {
		b.StopTimer()
		lab := topo.New(b)
		r1, r2 := lab.Router("r1"), lab.Router("r2")
		a, _ := lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
		r1.EnableMPLS(a)
		f := newFIB(b, r1)
		tab := fib.NewTable()
		var batch strings.Builder
		for i := range n {
			in := fib.Label(1000 + i)
			tab.LFIB[in] = lfib(in, nh("10.0.0.2", a, in+50000))
			fmt.Fprintf(&batch, "route add %d as %d via inet 10.0.0.2 dev %s\n", in, in+50000, a)
		}
		file := filepath.Join(b.TempDir(), "mpls.batch")
		if err := os.WriteFile(file, []byte(batch.String()), 0o644); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		apply(b, f, tab)
		fibTotal += time.Since(start)
		b.StopTimer()
		if got := strings.Count(r1.Run("ip", "-f", "mpls", "route", "show"), "\n"); got != n {
			b.Fatalf("netlinkfib installed %d routes, want %d", got, n)
		}
		apply(b, f, fib.NewTable())
		start = time.Now()
		r1.Run("ip", "-f", "mpls", "-batch", file)
		ipTotal += time.Since(start)
		if got := strings.Count(r1.Run("ip", "-f", "mpls", "route", "show"), "\n"); got != n {
			b.Fatalf("ip -batch installed %d routes, want %d", got, n)
		}
	}
	b.ReportMetric(fibTotal.Seconds()/float64(b.N), "netlinkfib-s")
	b.ReportMetric(ipTotal.Seconds()/float64(b.N), "ip-batch-s")
	b.Logf("%d MPLS swap routes: netlinkfib %.2fs, ip -f mpls -batch %.2fs", n, fibTotal.Seconds()/float64(b.N), ipTotal.Seconds()/float64(b.N))
}

// 100,000 IPv4 prefixes over 10 labelled next hops (10 shared nexthop
// objects), then all of them relabelled: 10 nexthop replaces.
func BenchmarkFTN100000(b *testing.B) {
	const n, hops = 100000, 10
	var install, relabel, relabelKernel, resync time.Duration
	for range b.N {
		b.StopTimer()
		lab := topo.New(b)
		r1 := lab.Router("r1")
		seg := lab.Segment("lan", 1500)
		ifname := seg.Attach(r1, "10.0.0.1/24")
		f := newFIB(b, r1)
		table := func(base fib.Label) *fib.Table {
			tab := fib.NewTable()
			for i := range n {
				e := ftn(fmt.Sprintf("%d.%d.%d.0/24", 100+i/65536, (i/256)%256, i%256), nh(fmt.Sprintf("10.0.0.%d", 2+i%hops), ifname, base+fib.Label(i%hops)))
				tab.FTN[e.Prefix] = e
			}
			return tab
		}
		t1, t2 := table(1000), table(2000)
		b.StartTimer()
		start := time.Now()
		apply(b, f, t1)
		install += time.Since(start)
		start = time.Now()
		apply(b, f, t2)
		relabel += time.Since(start)
		b.StopTimer()
		relabelKernel += f.Status().LastPassKernelTime
		if st := f.Status(); st.Prefixes != n || st.Nexthops != hops || st.LastPassRequests != hops {
			b.Fatalf("after relabel: %+v", st)
		}
		start = time.Now()
		if err := f.Resync(b.Context()); err != nil {
			b.Fatal(err)
		}
		resync += time.Since(start)
		if st := f.Status(); st.LastPassRequests != 0 {
			b.Fatalf("resync of an up-to-date kernel sent %d requests", st.LastPassRequests)
		}
	}
	per := func(d time.Duration) float64 { return d.Seconds() / float64(b.N) }
	b.ReportMetric(per(install), "install-s")
	b.ReportMetric(per(relabel), "relabel-s")
	b.ReportMetric(per(relabelKernel), "relabel-kernel-s")
	b.ReportMetric(per(resync), "resync-s")
	b.Logf("%d prefixes over %d labelled next hops: install %.2fs, relabel all %.3fs (of which the %d nexthop replaces %.3fs), resync (dump+diff) %.2fs",
		n, hops, per(install), per(relabel), hops, per(relabelKernel), per(resync))
}
