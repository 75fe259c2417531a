//go:build lab

package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
)

// TestBenchLDPChain measures, in one lab run, a chain r1 - r2 - r3 carrying
// N FECs: lsrd on all three routers, then FRR (zebra + ldpd) on all three,
// each N of LSRD_BENCH_CHAIN (default 1000,10000,50000). r3 owns the N /32s
// (addresses on dummy devices, 1,000 a device: connected prefixes, which
// both daemons label); r2 and r1 have kernel routes to them put in by ip -batch before
// any daemon starts, so neither daemon's route loader is measured.
//
// Converged means: r1's kernel has a swap label route for its local label
// of every FEC (which requires r2's label for it), r1 holds r2's label for
// every FEC (control API, vtysh), and r2's kernel has a pop label route for
// its local label of every FEC (r3 advertised implicit null; r3 needs no
// label route). The push at r1 is not compared: lsrd pushes only on routes
// it owns, and ip's routes are not (docs/DESIGN.md). It is a benchmark, not
// a test: it runs only with LSRD_BENCH=1 (make bench), and a daemon that
// does not converge within the size's limit (LSRD_BENCH_CHAIN_LIMIT, else
// 3, 6 and 12 minutes up to 1,000, 10,000 and beyond) is reported with how
// far it got.
func TestBenchLDPChain(t *testing.T) {
	if os.Getenv("LSRD_BENCH") != "1" {
		t.Skip("benchmark: set LSRD_BENCH=1 (make bench)")
	}
	sizes := benchSizes(t, "LSRD_BENCH_CHAIN", []int{1000, 10000, 50000})
	var results []chainResult
	for _, n := range sizes {
		limit := 12 * time.Minute
		switch {
		case n <= 1000:
			limit = 3 * time.Minute
		case n <= 10000:
			limit = 6 * time.Minute
		}
		limit = benchDuration(t, "LSRD_BENCH_CHAIN_LIMIT", limit)
		for _, dut := range benchDaemons(t) {
			t.Run(fmt.Sprintf("%s-%d", dut, n), func(t *testing.T) {
				res := runChain(t, dut, n, limit)
				t.Logf("%s %d FECs: %s; %s", dut, n, res.outcome(), res.logs)
				results = append(results, res)
			})
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "LDP chain r1 - r2 - r3 (kernel lab, software emulation; compare within this run only)\n")
	fmt.Fprintf(&b, "RSS: at convergence, then 15 s later (settled)\n")
	fmt.Fprintf(&b, "%-7s %-6s %-9s %-44s %-22s %-15s %-15s %-15s %-8s\n", "FECs", "daemon", "all start", "first start to converged", "flaps (sessions)", "r1 RSS", "r2 RSS", "r3 RSS", "guest MB")
	for _, r := range results {
		fmt.Fprintf(&b, "%-7s %-6s %-9s %-44s %-22s %-15s %-15s %-15s %-8d\n", groupThousands(r.n), r.dut, fmt.Sprintf("%.1f s", r.started.Seconds()), r.outcome(), r.flapText(),
			r.rssText(0), r.rssText(1), r.rssText(2), r.minAvailMB)
	}
	t.Log("\n" + b.String())
	fmt.Print(b.String())
}

// chainResult is one daemon's run of the chain at one size.
type chainResult struct {
	dut        string
	n          int
	started    time.Duration // first daemon's start until the last had started
	elapsed    time.Duration // first daemon's start to converged; 0 when it did not
	limit      time.Duration
	progress   string // how far it got, when it did not converge
	flaps      int    // lsrd: its counters; FRR: seen in polls
	sessions   int    // sessions that flapped, seen in polls
	rss        [3]int // kB, r1..r3, at convergence (or the limit)
	settled    [3]int // kB, r1..r3, 15 s later
	minAvailMB int    // the guest's lowest MemAvailable during the run
	logs       string // lsrd: its warnings
}

func (r chainResult) outcome() string {
	if r.elapsed == 0 {
		return fmt.Sprintf("not converged within %s: %s", r.limit, r.progress)
	}
	return fmt.Sprintf("%.1f s", r.elapsed.Seconds())
}

func (r chainResult) rssText(i int) string {
	return strings.TrimSuffix(mb(r.rss[i]), " MB") + " / " + mb(r.settled[i])
}

func (r chainResult) flapText() string {
	return fmt.Sprintf("%d (%d seen in polls)", r.flaps, r.sessions)
}

// chainFECs is the part of one router's LDP state the chain checks, from
// either daemon: its local label for each benchmark FEC, and which
// benchmark FECs it holds a label for from the peer.
type chainFECs struct {
	local  map[netip.Prefix]uint32
	remote map[netip.Prefix]bool
}

func lsrdChainFECs(l *topo.LSRD, peer string) (chainFECs, error) {
	c := chainFECs{local: map[netip.Prefix]uint32{}, remote: map[netip.Prefix]bool{}}
	bs, err := lsrdBindings(l)
	if err != nil {
		return c, err
	}
	for fec, b := range bs {
		p, ok := addrIn(benchPrefix, fec)
		if !ok {
			continue
		}
		if b.HasLocal {
			c.local[p] = uint32(b.LocalLabel)
		}
		for _, r := range b.Remote {
			if r.Peer.String() == peer {
				c.remote[p] = true
			}
		}
	}
	return c, nil
}

func frrChainFECs(f *topo.FRR, peer string) (chainFECs, error) {
	c := chainFECs{local: map[netip.Prefix]uint32{}, remote: map[netip.Prefix]bool{}}
	bs, err := frrBindings(f)
	if err != nil {
		return c, err
	}
	for _, b := range bs {
		p, ok := addrIn(benchPrefix, b.Prefix)
		if !ok {
			continue
		}
		if l, ok := topo.FRRLabel(b.LocalLabel); ok {
			c.local[p] = l
		}
		if _, ok := topo.FRRLabel(b.RemoteLabel); ok && b.NeighborID == peer {
			c.remote[p] = true
		}
	}
	return c, nil
}

// complete counts the FECs that hold the peer's label and whose local label
// is in the kernel's label table, swapping (swap) or popping.
func (c chainFECs) complete(kernel map[uint32]bool, swap bool) int {
	n := 0
	for p, l := range c.local {
		if s, ok := kernel[l]; ok && s == swap && c.remote[p] {
			n++
		}
	}
	return n
}

// runChain builds the chain for n FECs, starts dut on the three routers and
// waits for convergence within limit.
func runChain(t *testing.T, dut string, n int, limit time.Duration) chainResult {
	res := chainResult{dut: dut, n: n, limit: limit, minAvailMB: memAvailableMB()}
	lab := topo.New(t)
	r := []*topo.Router{lab.Router("r1"), lab.Router("r2"), lab.Router("r3")}
	if12, if21 := lab.Link(r[0], r[1], "10.0.0.1/30", "10.0.0.2/30")
	if23, if32 := lab.Link(r[1], r[2], "10.0.0.5/30", "10.0.0.6/30")
	ids := []string{"1.1.1.1", "2.2.2.2", "3.3.3.3"}
	ifaces := [][]string{{if12}, {if21, if23}, {if32}}
	for i, rt := range r {
		rt.AddLoopback(ids[i] + "/32")
		rt.EnableMPLS(append([]string{"lo"}, ifaces[i]...)...)
	}
	dir := t.TempDir()
	var addrs, r1routes, r2routes strings.Builder
	for i := range n {
		// At most 1,000 addresses a device: the kernel checks a new
		// address against each of its device's, so 50,000 on one device
		// take over ten minutes to add under emulation.
		if i%1000 == 0 {
			fmt.Fprintf(&addrs, "link add fecs%d type dummy\nlink set fecs%d up\n", i/1000, i/1000)
		}
		fmt.Fprintf(&addrs, "addr add %s/32 dev fecs%d\n", benchAddr(i), i/1000)
		fmt.Fprintf(&r1routes, "route add %s/32 via 10.0.0.2\n", benchAddr(i))
		fmt.Fprintf(&r2routes, "route add %s/32 via 10.0.0.6\n", benchAddr(i))
	}
	r1routes.WriteString("route add 2.2.2.2/32 via 10.0.0.2\nroute add 3.3.3.3/32 via 10.0.0.2\n")
	r2routes.WriteString("route add 1.1.1.1/32 via 10.0.0.1\nroute add 3.3.3.3/32 via 10.0.0.6\n")
	r3routes := "route add 1.1.1.1/32 via 10.0.0.5\nroute add 2.2.2.2/32 via 10.0.0.5\n"
	setup := time.Now()
	for i, body := range []string{r1routes.String(), r2routes.String(), r3routes + addrs.String()} {
		file := filepath.Join(dir, fmt.Sprintf("batch%d", i))
		if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		r[i].RunFor(15*time.Minute, "ip", "-batch", file)
	}
	t.Logf("%d FECs: routes and addresses put in by ip -batch in %.1f s", n, time.Since(setup).Seconds())

	// LSRD_BENCH_CHAIN_HEAP=1: lsrd serves pprof and each router's heap
	// profile is saved once converged (saveHeapProfile).
	heap := os.Getenv("LSRD_BENCH_CHAIN_HEAP") == "1"
	// LSRD_BENCH_CHAIN_PROFILE=<duration>: each lsrd writes a CPU profile
	// of its first that long, and the guest's CPU split up to convergence
	// is logged: where the time to converge goes. LSRD_BENCH_CHAIN_DEBUG=1:
	// lsrd logs at debug level (every label message: slower).
	profile, _ := time.ParseDuration(os.Getenv("LSRD_BENCH_CHAIN_PROFILE"))
	profileDir := keptDir(t)
	if profile > 0 {
		if err := os.MkdirAll(profileDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	warmBinaries(t, dut)
	cpu0 := guestCPU()
	start := time.Now()
	t.Logf("first start at %s UTC", start.UTC().Format("15:04:05.000"))
	var fecs func(i int, peer string) (chainFECs, error)
	var sessions func(i int) (map[string]bool, map[string]time.Duration, error)
	var finish func(w *sessionWatch)
	switch dut {
	case "lsrd":
		ls := make([]*topo.LSRD, 3)
		startEach(t, len(r), func(i int) {
			var b strings.Builder
			fmt.Fprintf(&b, "router-id: %s\nldp:\n  interfaces:\n", ids[i])
			for _, ifname := range ifaces[i] {
				fmt.Fprintf(&b, "    - name: %s\n", ifname)
			}
			b.WriteString("metrics:\n  listen: " + metricsListen + "\n")
			if heap {
				b.WriteString("  pprof: true\n")
			}
			var env []string
			if os.Getenv("LSRD_BENCH_CHAIN_DEBUG") == "1" {
				b.WriteString("log-level: debug\n")
			}
			if profile > 0 {
				env = []string{"LSRD_CPU_PROFILE=" + filepath.Join(profileDir, r[i].Name+".pprof"), "LSRD_CPU_PROFILE_FOR=" + profile.String()}
			}
			ls[i] = r[i].StartLSRDWith(b.String(), env...)
		})
		fecs = func(i int, peer string) (chainFECs, error) { return lsrdChainFECs(ls[i], peer) }
		sessions = func(i int) (map[string]bool, map[string]time.Duration, error) {
			ns, err := neighbors(ls[i])
			op := map[string]bool{}
			for id, nb := range ns {
				op[id] = nb.State == "OPERATIONAL"
			}
			return op, nil, err
		}
		finish = func(*sessionWatch) {
			if heap {
				// What the memory figure is made of, after a collection.
				for _, rt := range r {
					file, err := saveHeapProfile(context.Background(), rt, metricsListen, fmt.Sprintf("lsrd-chain-%d-%s-heap.pb.gz", n, rt.Name))
					t.Logf("%s: lsrd's heap profile after convergence: %s %v", rt.Name, file, err)
				}
			}
			var logs logSummary
			for i, l := range ls {
				f, err := lsrdFlaps(r[i], metricsListen)
				if err != nil {
					t.Logf("%s: flaps: %v", r[i].Name, err)
				}
				res.flaps += f
				logs.add(l.Log)
			}
			keepLogs(t, r, func(i int) []byte { b, _ := os.ReadFile(ls[i].Log); return b })
			res.logs = logs.String()
		}
	case "frr":
		fs := make([]*topo.FRR, 3)
		startEach(t, len(r), func(i int) {
			fs[i] = r[i].StartFRR(topo.FRRConfig{RouterID: ids[i], LDP: &topo.FRRLDP{Interfaces: ifaces[i]}})
		})
		fecs = func(i int, peer string) (chainFECs, error) { return frrChainFECs(fs[i], peer) }
		sessions = func(i int) (map[string]bool, map[string]time.Duration, error) {
			ns, err := frrNeighbors(fs[i])
			op, up := map[string]bool{}, map[string]time.Duration{}
			for id, nb := range ns {
				op[id] = nb.State == "OPERATIONAL"
				if d, ok := frrUpTime(nb.UpTime); ok && op[id] {
					up[id] = d
				}
			}
			return op, up, err
		}
		finish = func(w *sessionWatch) {
			for i := range r {
				_, up, err := sessions(i)
				if err != nil {
					t.Logf("%s: neighbours: %v", r[i].Name, err)
				}
				for peer, d := range up {
					w.upSince(r[i].Name, peer, d, time.Now(), 5*time.Second)
				}
			}
			res.flaps, _ = w.flaps()
			res.logs = "FRR: flaps from polls of show mpls ldp neighbor and its uptimes"
		}
	}
	res.started = time.Since(start)
	t.Logf("%s started on the three routers in %.1f s", dut, res.started.Seconds())

	peers := [][]string{{ids[1]}, {ids[0], ids[2]}, {ids[1]}}
	watch := newSessionWatch()
	poll := func() {
		now := time.Now()
		for i := range r {
			op, _, err := sessions(i)
			if err == nil {
				watch.observe(r[i].Name, peers[i], op, now)
			}
		}
	}
	// check reports how many FECs are complete at r1 (swap, r2's label) and
	// r2 (pop, r3's implicit null); the bindings are read only once both
	// kernels hold n label routes.
	check := func(force bool) (int, int, error) {
		k1, err := r[0].LabelRoutes()
		if err != nil {
			return 0, 0, err
		}
		k2, err := r[1].LabelRoutes()
		if err != nil {
			return 0, 0, err
		}
		if !force && (len(k1) < n || len(k2) < n) {
			return min(len(k1), n), min(len(k2), n), nil
		}
		f1, err := fecs(0, ids[1])
		if err != nil {
			return 0, 0, err
		}
		f2, err := fecs(1, ids[2])
		if err != nil {
			return 0, 0, err
		}
		return f1.complete(k1, true), f2.complete(k2, false), nil
	}
	deadline := start.Add(limit)
	lastPoll := time.Time{}
	// Checked every 200 ms up to 10,000 FECs (the figure's resolution),
	// every second beyond, where a check reads tens of thousands of
	// label routes and bindings.
	every := 200 * time.Millisecond
	if n > 10000 {
		every = time.Second
	}
	for {
		round := time.Now()
		if round.Sub(lastPoll) >= 5*time.Second {
			poll()
			lastPoll = round
		}
		res.minAvailMB = min(res.minAvailMB, memAvailableMB())
		c1, c2, err := check(false)
		if err == nil && c1 == n && c2 == n {
			res.elapsed = round.Sub(start)
			break
		}
		if round.After(deadline) {
			if c1, c2, err = check(true); err != nil {
				res.progress = err.Error()
			} else {
				res.progress = fmt.Sprintf("r1 %s of %s, r2 %s of %s", groupThousands(c1), groupThousands(n), groupThousands(c2), groupThousands(n))
			}
			break
		}
		time.Sleep(every)
	}
	if profile > 0 {
		t.Logf("guest CPU from first start to converged: %s; profiles in %s", guestCPUSince(cpu0), profileDir)
	}
	for i, rt := range r {
		res.rss[i] = rss(rt, dut)
	}
	// Sessions are watched a little past convergence: the issue being
	// measured saw sessions drop right after the label burst.
	for range 3 {
		time.Sleep(5 * time.Second)
		poll()
	}
	for i, rt := range r {
		res.settled[i] = rss(rt, dut)
	}
	finish(watch)
	_, res.sessions = watch.flaps()
	return res
}

// warmBinaries runs dut's programs once (their version) before the clock
// starts, so that neither daemon's time holds the lab's first read of its
// binaries from the host's shared file system: 0.9 s for lsrd's, against
// 0.2 s for the same start from the guest's page cache. Only the first size
// of a run would otherwise pay it (for both daemons alike).
func warmBinaries(t *testing.T, dut string) {
	t.Helper()
	var cmds [][]string
	switch dut {
	case "lsrd":
		bin, err := topo.LSRDBinary()
		if err != nil {
			t.Fatal(err)
		}
		cmds = [][]string{{bin, "-version"}}
	case "frr":
		for _, d := range []string{"zebra", "staticd", "ldpd"} {
			cmds = append(cmds, []string{"/usr/lib/frr/" + d, "--version"})
		}
		cmds = append(cmds, []string{"vtysh", "-h"})
	}
	for _, c := range cmds {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("warming %s: %v: %s", c[0], err, out)
		}
	}
}

// startEach runs start(0) ... start(n-1) at once, each on its own goroutine,
// and returns when all have returned: a benchmark's daemons start together,
// as routers that boot together do, so that neither daemon kind's time is
// mostly its processes started one after the other. A start that fails
// (t.Fatalf ends its goroutine only) fails the test here.
func startEach(t *testing.T, n int, start func(i int)) {
	t.Helper()
	atOnce(n, start)
	if t.Failed() {
		t.FailNow()
	}
}

// atOnce runs f(0) ... f(n-1), each on its own goroutine, and returns when
// all have returned.
func atOnce(n int, f func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i)
		}()
	}
	wg.Wait()
}
