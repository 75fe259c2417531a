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

	"github.com/lsrd/lsrd/config"
	"github.com/lsrd/lsrd/lab/hostile"
	"github.com/lsrd/lsrd/lab/topo"
	"github.com/lsrd/lsrd/ldp/lib"
)

// Bounds TestLivenessUnderHostility holds lsrd to.
const (
	// apiBound is the longest a control API answer may take.
	apiBound = time.Second
	// seriesMargin is how many more /metrics series with a peer label
	// than at the baseline may remain once the attack is over: the
	// counters of the one real (if hostile) peer that came and went, not
	// those of thousands of LSR IDs seen once.
	seriesMargin = 50
	// rssMargin is how much more resident memory than at the baseline
	// lsrd may keep once the attack is over.
	rssMargin = 64 << 20
	// fdMargin is how many more open files than at the baseline lsrd
	// may keep once the attack is over.
	fdMargin = 16
)

// livenessConfig is r1's and r2's lsrd configuration: LDP on the given
// interfaces with short timers (a session stalled for 10-15 s flaps),
// metrics on the router's loopback.
func livenessConfig(id string, ifaces []string, static, via string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "router-id: %s\nldp:\n  interfaces:\n", id)
	for _, i := range ifaces {
		fmt.Fprintf(&b, "    - name: %s\n", i)
	}
	b.WriteString("  timers:\n    hello-interval: 2s\n    hello-hold: 10s\n    keepalive: 15s\n")
	fmt.Fprintf(&b, "static-routes:\n  - prefix: %s\n    next-hop: %s\n", static, via)
	fmt.Fprintf(&b, "metrics:\n  listen: %s\n", metricsListen)
	return b.String()
}

// startLivenessPair starts lsrd on r1 (1.1.1.1, LDP on ifs1) and r2
// (2.2.2.2, LDP on if2), on the link 10.0.0.0/30, and waits for their
// session.
func startLivenessPair(t *testing.T, r1, r2 *topo.Router, ifs1 []string, if2 string) (*topo.LSRD, *topo.LSRD) {
	t.Helper()
	l1 := r1.StartLSRD(livenessConfig("1.1.1.1", ifs1, "2.2.2.2/32", "10.0.0.2"))
	l2 := r2.StartLSRD(livenessConfig("2.2.2.2", []string{if2}, "1.1.1.1/32", "10.0.0.1"))
	topo.Eventually(t, 90*time.Second, "r1-r2 session OPERATIONAL on both sides", func() error {
		if err := operational(l1, "2.2.2.2"); err != nil {
			return err
		}
		return operational(l2, "1.1.1.1")
	})
	return l1, l2
}

// monitor polls r1's control API every 200 ms (neighbours, then LIB
// stats), timing every answer, and r1's and r2's view of their session,
// counting every time either saw it other than OPERATIONAL since the
// baseline.
type monitor struct {
	l1, l2   *topo.LSRD
	since1   time.Time // r1's session with r2 OPERATIONAL since, at the baseline
	since2   time.Time
	stop     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	phase    string
	phases   []string
	maxLat   map[string]time.Duration // by phase
	slow     map[string]int           // answers over apiBound (or failed), by phase
	polls    int
	errs     []string // first few failures
	flaps1   []string // r1's view: when the session was seen not OPERATIONAL or restarted
	flaps2   []string
	maxNbrs  int
	lastNbrs int
	lastLIB  lib.Stats
}

func startMonitor(t *testing.T, l1, l2 *topo.LSRD) *monitor {
	t.Helper()
	m := &monitor{l1: l1, l2: l2, stop: make(chan struct{}), maxLat: map[string]time.Duration{}, slow: map[string]int{}}
	ns1, err := neighbors(l1)
	if err != nil {
		t.Fatal(err)
	}
	ns2, err := neighbors(l2)
	if err != nil {
		t.Fatal(err)
	}
	m.since1, m.since2 = ns1["2.2.2.2"].Since, ns2["1.1.1.1"].Since
	m.setPhase("baseline")
	m.wg.Add(2)
	go m.pollR1()
	go m.pollR2()
	t.Cleanup(m.close)
	return m
}

func (m *monitor) setPhase(p string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.phase = p
	m.phases = append(m.phases, p)
}

func (m *monitor) close() {
	select {
	case <-m.stop:
	default:
		close(m.stop)
	}
	m.wg.Wait()
}

// answer records one control API answer's latency.
func (m *monitor) answer(what string, lat time.Duration, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.polls++
	if lat > m.maxLat[m.phase] {
		m.maxLat[m.phase] = lat
	}
	if lat > apiBound || err != nil {
		m.slow[m.phase]++
		if len(m.errs) < 10 {
			m.errs = append(m.errs, fmt.Sprintf("%s: %s took %v: %v", m.phase, what, lat.Round(time.Millisecond), err))
		}
	}
}

func (m *monitor) pollR1() {
	m.every(func() {
		start := time.Now()
		ns, err := neighbors(m.l1)
		m.answer("GET /v1/ldp/neighbors", time.Since(start), err)
		if err == nil {
			n := ns["2.2.2.2"]
			m.mu.Lock()
			m.lastNbrs = len(ns)
			m.maxNbrs = max(m.maxNbrs, len(ns))
			if n.State != "OPERATIONAL" || !n.Since.Equal(m.since1) {
				m.flaps1 = append(m.flaps1, fmt.Sprintf("%s: %s since %v", m.phase, n.State, n.Since))
				m.since1 = n.Since
			}
			m.mu.Unlock()
		}
		start = time.Now()
		var st lib.Stats
		err = m.l1.Get("/v1/ldp/stats", &st)
		m.answer("GET /v1/ldp/stats", time.Since(start), err)
		if err == nil {
			m.mu.Lock()
			m.lastLIB = st
			m.mu.Unlock()
		}
	})
}

func (m *monitor) pollR2() {
	m.every(func() {
		ns, err := neighbors(m.l2)
		if err != nil {
			return
		}
		n := ns["1.1.1.1"]
		m.mu.Lock()
		if n.State != "OPERATIONAL" || !n.Since.Equal(m.since2) {
			m.flaps2 = append(m.flaps2, fmt.Sprintf("%s: %s since %v", m.phase, n.State, n.Since))
			m.since2 = n.Since
		}
		m.mu.Unlock()
	})
}

// every runs f every 200 ms until the monitor stops; a poller's body.
func (m *monitor) every(f func()) {
	defer m.wg.Done()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-tick.C:
		}
		f()
	}
}

// r1State is what the test reads of r1 between phases.
type r1State struct {
	series int // /metrics series with a peer label; -1 if the scrape failed
	all    int // every /metrics series
	// noState is set when the scrape came back without lsrd's protocol
	// state (its collector could not get a snapshot within its 5 s).
	noState  bool
	floodIDs int // LSR IDs of the hello flood with series of their own
	// heap (bytes allocated on the Go heap, garbage included) and
	// goroutines are from lsrd's Go collector, to tell retained memory
	// from live state.
	heap       float64
	goroutines float64
	flaps      float64
	// refused counts the mappings r1 released at once for its bound on
	// labels of FECs without a route (ldp.limits.unrouted-labels-per-peer).
	refused  float64
	rss, hwm int // kB
	fds      int
}

func (s r1State) String() string {
	series := fmt.Sprintf("peer series %d (of %d)", s.series, s.all)
	if s.noState {
		series = fmt.Sprintf("/metrics without lsrd's state (%d series: its snapshot timed out)", s.all)
	}
	if s.floodIDs > 0 {
		series += fmt.Sprintf(", %d of them flood LSR IDs", s.floodIDs)
	}
	return fmt.Sprintf("%s, RSS %.1f MB (peak %.1f MB), Go heap %.1f MB, %v goroutines, %d open files",
		series, float64(s.rss)/1024, float64(s.hwm)/1024, s.heap/(1<<20), s.goroutines, s.fds)
}

func readR1(r *topo.Router, l *topo.LSRD) r1State {
	s := r1State{series: -1, all: -1}
	if samples, err := scrape(r, metricsListen); err == nil {
		s.series, s.all = 0, len(samples)
		for k := range samples {
			if strings.Contains(k, `peer="`) {
				s.series++
			}
		}
		s.flaps, _ = find(samples, "lsrd_ldp_session_flaps_total", `peer="2.2.2.2"`)
		_, n := find(samples, "lsrd_ldp_sessions")
		s.noState = n == 0
		_, s.floodIDs = find(samples, "lsrd_ldp_session_flaps_total", `peer="100.64.`)
		s.heap, _ = find(samples, "go_memstats_heap_alloc_bytes")
		s.goroutines, _ = find(samples, "go_goroutines")
		s.refused, _ = find(samples, "lsrd_ldp_limit_refused_total", `limit="unrouted-labels"`)
	}
	s.rss, s.hwm = memKB(l.Pid())
	if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", l.Pid())); err == nil {
		s.fds = len(fds)
	}
	return s
}

// r1 (lsrd) and r2 (lsrd) keep their LDP session over one link while an
// attacker on another link of r1 floods link hellos from 2,000 new LSR IDs,
// holds 500 idle connections to r1's port 646, then runs a session that
// advertises 200,000 label mappings and keeps it alive. Throughout, r1's
// control API answers within a second and neither r1 nor r2 ever sees the
// session leave OPERATIONAL; afterwards r1's per-peer metric series, memory
// and open files are back near the baseline.
func TestLivenessUnderHostility(t *testing.T) {
	lab := topo.New(t)
	r1, r2, x := lab.Router("r1"), lab.Router("r2"), lab.Router("x")
	if12, if21 := lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	if1x, ifx1 := lab.Link(r1, x, "10.9.0.1/24", "10.9.0.2/24")
	r1.AddLoopback("1.1.1.1/32")
	r2.AddLoopback("2.2.2.2/32")
	x.Run("ip", "route", "add", "1.1.1.1/32", "via", "10.9.0.1")
	l1, l2 := startLivenessPair(t, r1, r2, []string{if12, if1x}, if21)
	r2Flaps := func() float64 {
		samples, err := scrape(r2, metricsListen)
		if err != nil {
			t.Logf("r2 /metrics: %v", err)
			return -1
		}
		v, _ := find(samples, "lsrd_ldp_session_flaps_total", `peer="1.1.1.1"`)
		return v
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	mon := startMonitor(t, l1, l2)
	xdo := hostile.Netns(x.Do)

	// Baseline.
	time.Sleep(10 * time.Second)
	base := readR1(r1, l1)
	base2Flaps := r2Flaps()
	mon.mu.Lock()
	baseRemote := mon.lastLIB.RemoteBindings
	baseNbrs := mon.lastNbrs
	mon.mu.Unlock()
	t.Logf("baseline: %s; %d neighbours, %d remote bindings", base, baseNbrs, baseRemote)
	if base.series < 0 || base.noState {
		t.Fatalf("r1's /metrics cannot be read at the baseline")
	}

	// Phase 1: link hellos from 2,000 new LSR IDs, 1,000 a second.
	mon.setPhase("hello flood")
	fr, err := hostile.FloodLinkHellos(ctx, xdo, hostile.Flood{Ifname: ifx1, Src: netip.MustParseAddr("10.9.0.2"),
		FirstLSRID: netip.MustParseAddr("100.64.0.1"), Count: 2000, Rate: 1000})
	if err != nil {
		t.Fatalf("hello flood: %v", err)
	}
	t.Logf("hello flood: %d hellos from new LSR IDs in %v (%.0f/s), %d refused by the kernel", fr.Sent, fr.Elapsed.Round(time.Millisecond), fr.Rate(), fr.SendErrors)
	time.Sleep(2 * time.Second)
	during := readR1(r1, l1)
	t.Logf("hello flood, 2 s after: %s", during)
	// The adjacencies expire after r1's 10 s hello hold.
	expired := time.Now()
	topo.Eventually(t, 2*time.Minute, "r1 forgets the flood's neighbours", func() error {
		mon.mu.Lock()
		n := mon.lastNbrs
		mon.mu.Unlock()
		if n > baseNbrs {
			return fmt.Errorf("r1 knows %d neighbours, %d at the baseline", n, baseNbrs)
		}
		return nil
	})
	mon.mu.Lock()
	t.Logf("hello flood: r1 knew up to %d neighbours, back to %d %v after the flood", mon.maxNbrs, mon.lastNbrs, time.Since(expired).Round(time.Second))
	mon.mu.Unlock()
	afterFlood := readR1(r1, l1)
	t.Logf("hello flood, neighbours expired: %s", afterFlood)

	// Phase 2: 500 idle connections to r1's port 646, held until r1
	// closes them (its 15 s KeepAlive bounds a connection that never
	// sends Initialization) or 60 s pass.
	mon.setPhase("idle connections")
	ic, err := hostile.OpenIdle(ctx, xdo, netip.MustParseAddrPort("10.9.0.1:646"), 500)
	if err != nil {
		t.Fatalf("idle connections: %v", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for ic.Open() > 0 && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
	}
	duringIdle := readR1(r1, l1)
	idle := ic.Close()
	t.Logf("idle connections: %s", idle)
	t.Logf("idle connections, at the end: %s", duringIdle)

	// Phase 3: a peer that advertises 200,000 label mappings as fast as
	// the socket takes them and keeps its session alive.
	mon.setPhase("200k mappings")
	const mappings = 200000
	peer, err := hostile.StartPeer(ctx, xdo, hostile.PeerConfig{LSRID: netip.MustParseAddr("9.9.9.9"), Ifname: ifx1,
		Addr: netip.MustParseAddr("10.9.0.2"), HelloInterval: 2 * time.Second, HelloHold: 10, KeepAlive: 180,
		FirstPrefix: netip.MustParsePrefix("20.0.0.0/24"), Mappings: mappings, FirstLabel: 16})
	if err != nil {
		t.Fatalf("mapping peer: %v", err)
	}
	pctx, pcancel := context.WithTimeout(ctx, 90*time.Second)
	err = peer.WaitOperational(pctx)
	pcancel()
	if err != nil {
		peer.Close()
		t.Fatalf("mapping peer: %v (stats %+v)", err, peer.Stats())
	}
	pctx, pcancel = context.WithTimeout(ctx, 5*time.Minute)
	err = peer.WaitSent(pctx)
	pcancel()
	st := peer.Stats()
	t.Logf("mapping peer: OPERATIONAL after %v (%d failed attempts), %d mappings written in %v (err %v)",
		st.Operational.Round(time.Millisecond), st.Attempts, st.MappingsSent, st.SendTime.Round(time.Millisecond), err)
	// r1 keeps the peer's labels up to its bound on labels of FECs it
	// has no route to (none of these has one) and releases the rest at
	// once, counting them.
	absorbed := time.Now()
	var held, refused int
	for time.Now().Before(absorbed.Add(5 * time.Minute)) {
		mon.mu.Lock()
		held = mon.lastLIB.RemoteBindings - baseRemote
		mon.mu.Unlock()
		refused = int(readR1(r1, l1).refused - base.refused)
		if held+refused >= mappings || peer.Stats().Ended != nil {
			break
		}
		time.Sleep(time.Second)
	}
	t.Logf("mapping peer: r1 holds %d of its mappings and released %d, %v after the last was written (peer received %d releases)",
		held, refused, time.Since(absorbed).Round(time.Second), peer.Stats().Releases)
	if want := config.DefaultUnroutedLabelsPerPeer; held != want || refused != mappings-want {
		t.Errorf("r1 holds %d of the peer's %d mappings and released %d, want %d held and the rest released (peer: %+v)",
			held, mappings, refused, want, peer.Stats())
	}
	// The session lives on KeepAlives for a while: 20 s, more than r1's
	// 15 s KeepAlive time.
	time.Sleep(20 * time.Second)
	duringPeer := readR1(r1, l1)
	t.Logf("mapping peer, session kept 20 s: %s", duringPeer)
	st = peer.Close()
	t.Logf("mapping peer: %+v", st)

	// Afterwards: the peer's labels go with its session; the per-peer
	// series, memory and open files settle back near the baseline.
	mon.setPhase("after")
	topo.Eventually(t, 3*time.Minute, "r1 drops the peer's labels", func() error {
		mon.mu.Lock()
		n := mon.lastLIB.RemoteBindings
		mon.mu.Unlock()
		if n > baseRemote {
			return fmt.Errorf("r1 holds %d remote bindings, %d at the baseline", n, baseRemote)
		}
		return nil
	})
	var after r1State
	settle := time.Now().Add(90 * time.Second)
	for {
		after = readR1(r1, l1)
		ok := after.series >= 0 && !after.noState && after.series <= base.series+seriesMargin &&
			after.rss <= base.rss+rssMargin>>10 && after.fds <= base.fds+fdMargin
		if ok || time.Now().After(settle) {
			break
		}
		time.Sleep(5 * time.Second)
	}
	t.Logf("after: %s", after)
	time.Sleep(2 * time.Second) // the monitor's last look
	mon.close()
	flaps2 := r2Flaps()

	// The figures, then the verdict.
	mon.mu.Lock()
	defer mon.mu.Unlock()
	var worst time.Duration
	for _, p := range mon.phases {
		t.Logf("control API, %s: max latency %v, %d answers over %v or failed", p, mon.maxLat[p].Round(time.Millisecond), mon.slow[p], apiBound)
		worst = max(worst, mon.maxLat[p])
	}
	t.Logf("control API: %d answers, max latency %v", mon.polls, worst.Round(time.Millisecond))
	t.Logf("session r1-r2: flaps seen by r1 %d, by r2 %d; lsrd_ldp_session_flaps_total r1 %v -> %v, r2 %v -> %v",
		len(mon.flaps1), len(mon.flaps2), base.flaps, after.flaps, base2Flaps, flaps2)
	t.Logf("peer series: baseline %d, flood %d, flood expired %d, idle %d, mappings %d, after %d",
		base.series, during.series, afterFlood.series, duringIdle.series, duringPeer.series, after.series)
	t.Logf("RSS: baseline %.1f MB, after the flood %.1f MB, with 200k mappings %.1f MB, after %.1f MB, peak %.1f MB",
		float64(base.rss)/1024, float64(afterFlood.rss)/1024, float64(duringPeer.rss)/1024, float64(after.rss)/1024, float64(after.hwm)/1024)

	if len(mon.flaps1) > 0 || len(mon.flaps2) > 0 || after.flaps != base.flaps || flaps2 != base2Flaps {
		t.Errorf("the r1-r2 session left OPERATIONAL: r1 saw %q, r2 saw %q; flap counters r1 %v -> %v, r2 %v -> %v",
			mon.flaps1, mon.flaps2, base.flaps, after.flaps, base2Flaps, flaps2)
	}
	if worst > apiBound || len(mon.errs) > 0 {
		t.Errorf("r1's control API answered in up to %v (bound %v); slow or failed answers: %q", worst.Round(time.Millisecond), apiBound, mon.errs)
	}
	if after.series < 0 || after.noState || after.series > base.series+seriesMargin {
		t.Errorf("r1 exports %d series with a peer label after the attack, %d at the baseline (margin %d)", after.series, base.series, seriesMargin)
	}
	if after.rss > base.rss+rssMargin>>10 {
		t.Errorf("r1's RSS is %.1f MB after the attack, %.1f MB at the baseline (margin %d MB)", float64(after.rss)/1024, float64(base.rss)/1024, rssMargin>>20)
	}
	if after.fds > base.fds+fdMargin {
		t.Errorf("r1 has %d open files after the attack, %d at the baseline (margin %d)", after.fds, base.fds, fdMargin)
	}
}
