//go:build lab

package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestBenchLDPSegment measures K routers on one ZeroTier-like segment,
// every pair in session (K*(K-1)/2 sessions), lsrd then FRR (zebra + ldpd)
// in the same guest run, K of LSRD_BENCH_SEGMENT (default 10,25,40,60).
// What converged means is segmentLab's: every session OPERATIONAL, every
// router holding a label from each neighbour for every other loopback, the
// next hop's in use, and the label routes in its kernel. Reported: time
// from the first daemon's start, flaps until the end of an observation
// window after convergence (LSRD_BENCH_SEGMENT_OBSERVE, default 30s), the
// daemons' CPU at rest over a window without polls before it
// (LSRD_BENCH_SEGMENT_QUIET, default 20s), and resident memory. A daemon
// that does not converge within LSRD_BENCH_SEGMENT_LIMIT (default 10m) is
// reported with how far it got.
// It is a benchmark, not a test: it runs only with LSRD_BENCH=1. The guest's
// memory can be raised with LSRD_LAB_MEM (MiB).
func TestBenchLDPSegment(t *testing.T) {
	if os.Getenv("LSRD_BENCH") != "1" {
		t.Skip("benchmark: set LSRD_BENCH=1 (make bench)")
	}
	sizes := benchSizes(t, "LSRD_BENCH_SEGMENT", []int{10, 25, 40, 60})
	limit := benchDuration(t, "LSRD_BENCH_SEGMENT_LIMIT", 10*time.Minute)
	window := benchDuration(t, "LSRD_BENCH_SEGMENT_OBSERVE", 30*time.Second)
	rest := benchDuration(t, "LSRD_BENCH_SEGMENT_QUIET", 20*time.Second)
	type result struct {
		dut, outcome, flaps string
		k, total, largest   int
		started             time.Duration
		minAvailMB          int
	}
	var results []result
	for _, k := range sizes {
		for _, dut := range benchDaemons(t) {
			t.Run(fmt.Sprintf("%s-%d", dut, k), func(t *testing.T) {
				res := result{dut: dut, k: k, outcome: "did not start"}
				defer func() { results = append(results, res) }()
				s := newSegmentLab(t, dut, k)
				res.started = s.started
				profiled := make(chan struct{})
				go func() { s.profile(); close(profiled) }()
				defer func() { <-profiled }()
				ok := s.converge(limit)
				cpu, busiest := s.cpu()
				t.Logf("%s, %d routers: the daemons used %.0f s of CPU in %.0f s (busiest router %.0f s); %d packets dropped by the guest's full input backlog",
					dut, k, cpu, time.Since(s.start).Seconds(), busiest, softnetDropped()-s.dropped0)
				res.total, res.largest = s.rss()
				res.minAvailMB = s.minAvailMB
				if ok {
					res.outcome = fmt.Sprintf("%.1f s", s.elapsed.Seconds())
					s.quiet(rest)
					s.observe(window)
				} else {
					res.outcome = fmt.Sprintf("not converged within %s: %s", limit, s.progress())
				}
				counted, seen := s.flaps()
				res.flaps = fmt.Sprintf("%d (%d seen in polls)", counted, seen)
				if !ok || counted+seen > 0 {
					s.keepLogs()
				}
				res.minAvailMB = min(res.minAvailMB, memAvailableMB())
				t.Logf("%s, %d routers: %s; flaps %s; RSS %s in all, %s the largest; %d packets dropped by the guest's full input backlog; %s",
					dut, k, res.outcome, res.flaps, mb(res.total), mb(res.largest), softnetDropped()-s.dropped0, s.logs)
			})
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "LDP on one ZeroTier-like segment, every pair in session (kernel lab, software emulation; compare within this run only)\n")
	fmt.Fprintf(&b, "%-4s %-9s %-6s %-10s %-40s %-22s %-10s %-10s %-8s\n", "K", "sessions", "daemon", "all start", "first start to converged", "flaps", "RSS total", "RSS max", "guest MB")
	for _, r := range results {
		fmt.Fprintf(&b, "%-4d %-9d %-6s %-10s %-40s %-22s %-10s %-10s %-8d\n", r.k, r.k*(r.k-1)/2, r.dut,
			fmt.Sprintf("%.1f s", r.started.Seconds()), r.outcome, r.flaps, mb(r.total), mb(r.largest), r.minAvailMB)
	}
	t.Log("\n" + b.String())
	fmt.Print(b.String())
}
