//go:build lab

package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/hostile"
	"github.com/lsrd/lsrd/lab/topo"
)

// floodRates are the hello flood rates of TestBenchHelloFlood
// (LSRD_BENCH_FLOOD_RATES, hellos per second).
func floodRates(t *testing.T) []int {
	rates := benchSizes(t, "LSRD_BENCH_FLOOD_RATES", []int{1000, 5000, 10000})
	for _, n := range rates {
		if n > hostile.MaxFloodRate {
			t.Fatalf("LSRD_BENCH_FLOOD_RATES: %d hellos per second is over the flooding tool's %d", n, hostile.MaxFloodRate)
		}
	}
	return rates
}

// floodResult is one daemon's figures under one flood.
type floodResult struct {
	daemon        string
	rate          int     // asked for
	achieved      float64 // hellos per second the tool managed
	flaps         int     // times the r1-r2 session was seen leave OPERATIONAL or restart
	maxLatency    time.Duration
	failed        int // control-plane answers that failed or took over 1 s
	maxNeighbours int
	peakRSS       int // kB, the daemon's processes on r1
}

// TestBenchHelloFlood measures, for lsrd and then FRR in one lab run, what
// a link hello flood from new LSR IDs on one link of r1 does to r1's
// session with r2 on another link: 10 s of flood at each rate, then 20 s to
// settle. It reports the rate the flooding tool reached (software emulation
// caps it), flaps of the r1-r2 session, the slowest answer of r1's control
// plane (lsrd's control API, FRR's vtysh "show mpls ldp neighbor"), the most
// neighbours r1 knew and r1's peak resident memory. It is a benchmark, not
// a test: it runs only with LSRD_BENCH=1 (make bench).
func TestBenchHelloFlood(t *testing.T) {
	if os.Getenv("LSRD_BENCH") != "1" {
		t.Skip("benchmark: set LSRD_BENCH=1 (make bench)")
	}
	rates := floodRates(t)
	var results []floodResult
	for _, daemon := range []string{"lsrd", "frr"} {
		t.Run(daemon, func(t *testing.T) {
			results = append(results, floodDaemon(t, daemon, rates)...)
		})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Link hello flood from new LSR IDs on r1's second link, 10 s per rate (kernel lab, software emulation; compare within this run only)\n")
	fmt.Fprintf(&b, "%-6s %8s %9s %6s %13s %8s %11s %10s\n", "daemon", "asked/s", "reached/s", "flaps", "max answer", "over 1s", "neighbours", "peak RSS")
	for _, r := range results {
		fmt.Fprintf(&b, "%-6s %8d %9.0f %6d %13v %8d %11d %7d kB\n", r.daemon, r.rate, r.achieved, r.flaps,
			r.maxLatency.Round(time.Millisecond), r.failed, r.maxNeighbours, r.peakRSS)
	}
	t.Log("\n" + b.String())
	fmt.Print(b.String())
}

// floodDaemon builds r1 - r2 (both running daemon) and x on r1's second
// link, and floods from x at each rate in turn.
func floodDaemon(t *testing.T, daemon string, rates []int) []floodResult {
	lab := topo.New(t)
	r1, r2, x := lab.Router("r1"), lab.Router("r2"), lab.Router("x")
	if12, if21 := lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	if1x, ifx1 := lab.Link(r1, x, "10.9.0.1/24", "10.9.0.2/24")
	r1.AddLoopback("1.1.1.1/32")
	r2.AddLoopback("2.2.2.2/32")
	r1.EnableMPLS(if12, if1x, "lo")
	r2.EnableMPLS(if21, "lo")

	// state reads r1's view of its session with r2 (state and the time it
	// has been in it) and how many neighbours r1 knows.
	var state func() (string, string, int, error)
	var comms []string
	switch daemon {
	case "lsrd":
		l1, _ := startLivenessPair(t, r1, r2, []string{if12, if1x}, if21)
		state = func() (string, string, int, error) {
			ns, err := neighbors(l1)
			if err != nil {
				return "", "", 0, err
			}
			n := ns["2.2.2.2"]
			return n.State, n.Since.String(), len(ns), nil
		}
		comms = []string{"lsrd"}
	case "frr":
		// The same timers as lsrd's (livenessConfig): hellos every 2 s,
		// held 10 s; KeepAlive 15 s.
		ldp := func(ifs ...string) *topo.FRRLDP {
			return &topo.FRRLDP{Interfaces: ifs, Global: []string{"discovery hello holdtime 10", "discovery hello interval 2", "neighbor 2.2.2.2 session holdtime 15", "neighbor 1.1.1.1 session holdtime 15"}}
		}
		f1 := r1.StartFRR(topo.FRRConfig{RouterID: "1.1.1.1", Static: []string{"2.2.2.2/32 10.0.0.2"}, LDP: ldp(if12, if1x)})
		f2 := r2.StartFRR(topo.FRRConfig{RouterID: "2.2.2.2", Static: []string{"1.1.1.1/32 10.0.0.1"}, LDP: ldp(if21)})
		f1.WaitLDPOperational(t, 90*time.Second, "2.2.2.2")
		f2.WaitLDPOperational(t, 90*time.Second, "1.1.1.1")
		state = func() (string, string, int, error) {
			ns, err := f1.LDPNeighbors()
			if err != nil {
				return "", "", 0, err
			}
			for _, n := range ns {
				if n.NeighborID == "2.2.2.2" {
					return n.State, n.UpTime, len(ns), nil
				}
			}
			return "absent", "", len(ns), nil
		}
		comms = []string{"zebra", "ldpd"}
	}
	xdo := hostile.Netns(x.Do)
	var out []floodResult
	for i, rate := range rates {
		res := floodResult{daemon: daemon, rate: rate}
		var mu sync.Mutex
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			lastUp := ""
			for {
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
				}
				start := time.Now()
				st, up, n, err := state()
				lat := time.Since(start)
				rss, _ := r1.ResidentKB(comms...)
				mu.Lock()
				res.maxLatency = max(res.maxLatency, lat)
				if err != nil || lat > time.Second {
					res.failed++
				}
				res.peakRSS = max(res.peakRSS, rss)
				res.maxNeighbours = max(res.maxNeighbours, n)
				if err == nil {
					// lsrd's "since" moves only with a new state; FRR's
					// uptime grows, so a restart shows as a smaller value.
					restarted := daemon == "lsrd" && lastUp != "" && up != lastUp ||
						daemon == "frr" && lastUp != "" && frrUptime(up) < frrUptime(lastUp)
					if st != "OPERATIONAL" || restarted {
						res.flaps++
					}
					lastUp = up
				}
				mu.Unlock()
			}
		}()
		fr, err := hostile.FloodLinkHellos(context.Background(), xdo, hostile.Flood{Ifname: ifx1, Src: netip.MustParseAddr("10.9.0.2"),
			FirstLSRID: netip.AddrFrom4([4]byte{100, byte(64 + i), 0, 1}), Count: rate * 10, Rate: rate, Hold: 15})
		if err != nil {
			t.Errorf("%s: flood at %d/s: %v", daemon, rate, err)
		}
		res.achieved = fr.Rate()
		time.Sleep(20 * time.Second) // the flood's adjacencies expire (15 s)
		close(stop)
		wg.Wait()
		t.Logf("%s at %d hellos/s: %+v", daemon, rate, res)
		out = append(out, res)
	}
	return out
}

// frrUptime turns FRR's "hh:mm:ss" (or "XdYYhZZm" beyond a day) into
// seconds, for comparing; what it cannot read counts as 0.
func frrUptime(s string) int {
	var h, m, sec int
	if _, err := fmt.Sscanf(s, "%d:%d:%d", &h, &m, &sec); err == nil {
		return h*3600 + m*60 + sec
	}
	return 0
}
