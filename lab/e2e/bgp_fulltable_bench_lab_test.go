//go:build lab

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v3/api"

	"github.com/lsrd/lsrd/lab/topo"
)

// TestBenchBGPFullTable measures, in one lab run, lsrd and FRR learning a
// synthetic full Internet table (newFullTable: 1,000,000 IPv4 and 200,000
// IPv6 prefixes unless LSRD_BENCH_FULL_V4 and LSRD_BENCH_FULL_V6 say
// otherwise) from gobgpd over one iBGP session. lsrd's router sits in a
// BGP-free core: the 50 BGP next hops are remote loopbacks behind LDP LSPs,
// so every IPv4 prefix pushes its next hop's LSP label and every IPv6
// prefix the LSP label over the IPv6 explicit null (6PE). FRR's bgpd and
// zebra take the same prefixes with the same attributes from gobgpd, as
// plain IP (FRR runs no LDP here; its IPv6 next hops are IPv6 addresses).
//
// For lsrd it reports: the time from Established until every prefix is in
// the kernel, the memory then, the LSP of one next hop changing label
// (the downstream router's label range moved by a reload: a new mapping,
// no withdraw, no session reset) in kernel requests and time, the time to withdraw everything, how slowly the
// control API and metrics answered throughout, and LDP session flaps. It
// checks that every prefix forwards on its own next hop's label. A
// benchmark, not a test: it runs only with LSRD_BENCH=1 (make bench).
func TestBenchBGPFullTable(t *testing.T) {
	if os.Getenv("LSRD_BENCH") != "1" {
		t.Skip("benchmark: set LSRD_BENCH=1 (make bench)")
	}
	n4 := benchSize(t, "LSRD_BENCH_FULL_V4", 1000000)
	n6 := benchSize(t, "LSRD_BENCH_FULL_V6", 200000)
	start := time.Now()
	tbl := newFullTable(n4, n6, fullTableNextHops)
	t.Logf("table: %v, drawn in %.1fs", tbl, time.Since(start).Seconds())

	var out strings.Builder
	fmt.Fprintf(&out, "BGP full table: %v, over one iBGP session from gobgpd (kernel lab, software emulation; compare within this run only)\n", tbl)
	row := func(what, figure string) {
		fmt.Fprintf(&out, "  %-72s %s\n", what, figure)
		t.Logf("%s: %s", what, figure) // as it comes, should a later step fail
	}
	t.Run("lsrd", func(t *testing.T) { benchFullTableLSRD(t, tbl, row) })
	t.Run("frr", func(t *testing.T) { benchFullTableFRR(t, tbl, row) })
	t.Log("\n" + out.String())
	fmt.Print(out.String())
}

const fullTableNextHops = 50

// fullTableNH is the i-th BGP next hop: a loopback of r4, 4.4.4.(i+1).
func fullTableNH(i uint8) netip.Addr { return netip.AddrFrom4([4]byte{4, 4, 4, i + 1}) }

// fullTableBench is the lsrd side: r1 (gobgpd) - r2 (lsrd, under test) -
// r3 (lsrd, independent control, labels from 1000) - r4 (the 50 next hops
// as loopbacks, no daemon). r2 and r3 have static routes to the next hops;
// r3 advertises a label for each.
type fullTableBench struct {
	l2, l3     *topo.LSRD
	g          *topo.GoBGP
	r2If, r3If string
}

const fullTableMetrics = "127.0.0.1:9642"

// r3Config has r3 allocate labels from labelMin on.
func (b *fullTableBench) r3Config(labelMin int) string {
	var s strings.Builder
	fmt.Fprintf(&s, "router-id: 3.3.3.3\nlog-level: warn\nldp:\n  interfaces:\n    - name: %s\n  labels:\n    min: %d\n    control: independent\nstatic-routes:\n  - prefix: 2.2.2.2/32\n    next-hop: 10.2.0.1\n", b.r3If, labelMin)
	for i := range uint8(fullTableNextHops) {
		fmt.Fprintf(&s, "  - prefix: %s/32\n    next-hop: 10.3.0.2\n", fullTableNH(i))
	}
	return s.String()
}

func (b *fullTableBench) r2Config() string {
	var s strings.Builder
	fmt.Fprintf(&s, `router-id: 2.2.2.2
log-level: warn
metrics:
  listen: %s
  pprof: true
ldp:
  interfaces:
    - name: %s
bgp:
  as: 65001
  neighbors:
    - address: 10.0.0.1
      remote-as: 65001
      families: [ipv4-unicast, ipv6-unicast]
static-routes:
  - prefix: 3.3.3.3/32
    next-hop: 10.2.0.2
`, fullTableMetrics, b.r2If)
	for i := range uint8(fullTableNextHops) {
		fmt.Fprintf(&s, "  - prefix: %s/32\n    next-hop: 10.2.0.2\n", fullTableNH(i))
	}
	return s.String()
}

// lspLabels reads, per next hop, the label r3 advertises for it (the one
// r2 must push).
func (b *fullTableBench) lspLabels() (map[uint8]int, error) {
	bs, err := lsrdBindings(b.l3)
	if err != nil {
		return nil, err
	}
	out := map[uint8]int{}
	for i := range uint8(fullTableNextHops) {
		bd, ok := bs[fullTableNH(i).String()+"/32"]
		if !ok || !bd.HasLocal {
			return nil, fmt.Errorf("r3 has no label for %s", fullTableNH(i))
		}
		out[i] = int(bd.LocalLabel)
	}
	return out, nil
}

func benchFullTableLSRD(t *testing.T, tbl *fullTable, row func(what, figure string)) {
	lab := topo.New(t)
	r1, r2, r3, r4 := lab.Router("r1"), lab.Router("r2"), lab.Router("r3"), lab.Router("r4")
	b := &fullTableBench{}
	lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	b.r2If, b.r3If = lab.Link(r2, r3, "10.2.0.1/30", "10.2.0.2/30")
	lab.Link(r3, r4, "10.3.0.1/30", "10.3.0.2/30")
	r2.AddLoopback("2.2.2.2/32")
	r3.AddLoopback("3.3.3.3/32")
	for i := range uint8(fullTableNextHops) {
		r4.AddLoopback(fullTableNH(i).String() + "/32")
	}
	r4.Run("ip", "route", "add", "default", "via", "10.3.0.1")
	b.l3 = r3.StartLSRD(b.r3Config(1000))
	b.l2 = r2.StartLSRD(b.r2Config())
	b.g = r1.StartGoBGP(topo.GoBGPConfig{AS: 65001, RouterID: "1.1.1.1"})
	var labels map[uint8]int
	topo.Eventually(t, 2*time.Minute, "r2 pushes r3's label for every next hop", func() error {
		var err error
		if labels, err = b.lspLabels(); err != nil {
			return err
		}
		for i, l := range labels {
			got, err := pushedLabel(r2, fullTableNH(i).String()+"/32")
			if err != nil {
				return err
			}
			if got != l {
				return fmt.Errorf("r2 pushes %d for %s, r3's label is %d", got, fullTableNH(i), l)
			}
		}
		return nil
	})
	base4, base6, err := r2.CountRoutes46(234)
	if err != nil {
		t.Fatal(err)
	}
	flaps := func() int {
		n, err := lsrdFlaps(r2, fullTableMetrics)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	flaps0 := flaps()

	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Minute)
	defer cancel()
	// 6PE: an IPv6 prefix's next hop is its IPv4 next hop, mapped.
	nextHop := func(nh uint8, v6 bool) netip.Addr {
		if v6 {
			return netip.AddrFrom16(fullTableNH(nh).As16())
		}
		return fullTableNH(nh)
	}
	probe := startProbe(b.l2, r2, fullTableMetrics)
	defer probe.stop()
	up := feedFullTable(ctx, t, b.g, tbl, nextHop)
	// LSRD_BENCH_CPUPROFILE=install, relabel or withdraw takes 30 s of
	// lsrd's CPU profile from the start of that phase, kept on the host
	// with LSRD_LAB_KEEP=1.
	profile := func(phase string) {
		if os.Getenv("LSRD_BENCH_CPUPROFILE") != phase {
			return
		}
		go func() {
			file, err := saveProfile(ctx, r2, fullTableMetrics, "/debug/pprof/profile?seconds=30", "lsrd-cpu-"+phase+".pb.gz")
			t.Logf("lsrd's CPU profile during the %s: %s %v", phase, file, err)
		}()
	}
	profile("install")
	done, err := waitRoutes(t, r2, 234, base4+tbl.v4, base6+len(tbl.prefixes)-tbl.v4, 60*time.Minute)
	if err != nil {
		row("lsrd: Established to all in the kernel", "did not finish: "+err.Error())
		t.Fatal(err)
	}
	row("lsrd: Established to all in the kernel", secs(done.Sub(up)))
	rss, hwm := memKB(b.l2.Pid())
	row("lsrd: resident memory then (VmRSS / VmHWM)", fmt.Sprintf("%d MB / %d MB", rss/1024, hwm/1024))
	row("lsrd: control API and metrics during the install: slowest answer", probe.mark())

	if bad, err := checkFullTable(r2, tbl, labels); err != nil {
		t.Fatal(err)
	} else if len(bad) > 0 {
		t.Errorf("%d prefixes do not forward on their next hop's LSP, e.g.:\n%s", len(bad), strings.Join(bad[:min(len(bad), 10)], "\n"))
	}

	// One next hop's LSP changes label: r3 reloads with a label range that
	// starts just above the lowest label of the next hops, so that it (and
	// any other FEC with a lower label) is renumbered, and sends r2 a new
	// mapping without a withdraw (LMp.10a). The next hop with the lowest
	// label is the one that moves.
	moving := uint8(0)
	for i, l := range labels {
		if l < labels[moving] {
			moving = i
		}
	}
	old := labels[moving]
	renumbered := 0
	for _, l := range labels {
		if l <= old {
			renumbered++
		}
	}
	sample := []netip.Prefix{tbl.first(moving, false), tbl.first(moving, true)}
	mon := r2.Background("ip", "-ts", "monitor", "nexthop")
	time.Sleep(300 * time.Millisecond)
	before := kernelRequestsOf(t, b.l2)
	profile("relabel")
	relabelStart := time.Now()
	if err := b.l3.Reload(b.r3Config(old + 1)); err != nil {
		t.Fatal(err)
	}
	var fresh int
	topo.Eventually(t, 2*time.Minute, "r2 pushes r3's new label for the relabelled next hop", func() error {
		ls, err := b.lspLabels()
		if err != nil {
			return err
		}
		if fresh = ls[moving]; fresh == old {
			return fmt.Errorf("r3 still has label %d for %s", old, fullTableNH(moving))
		}
		for _, p := range sample {
			stack, _ := pushedStack(r2, p.String())
			if l, _, _ := strings.Cut(stack, "/"); l != strconv.Itoa(fresh) {
				return fmt.Errorf("%s pushes %q, want %d", p, stack, fresh)
			}
		}
		return nil
	})
	seen := time.Since(relabelStart)
	requests := kernelRequestsOf(t, b.l2) - before
	time.Sleep(300 * time.Millisecond)
	monOut, _ := mon.Stop()
	moved, events := nexthopMoves(monOut, fresh, relabelStart)
	t.Logf("r2's nexthop objects during the relabel:\n%s", strings.Join(events, "\n"))
	row(fmt.Sprintf("lsrd: relabel of one next hop's LSP (%s, %d prefixes; %d of the next hops renumbered)", fullTableNH(moving), tbl.perNH[moving], renumbered),
		fmt.Sprintf("%d kernel requests", requests))
	row("lsrd: relabel: r3's reload until r2's kernel moved them (ip monitor) / until the test saw it",
		fmt.Sprintf("%s / %s", moved, secs(seen)))
	if labels, err = b.lspLabels(); err != nil {
		t.Fatal(err)
	}
	if bad, err := checkFullTable(r2, tbl, labels); err != nil {
		t.Fatal(err)
	} else if len(bad) > 0 {
		t.Errorf("after the relabel %d prefixes do not forward on their next hop's LSP, e.g.:\n%s", len(bad), strings.Join(bad[:min(len(bad), 10)], "\n"))
	}
	row("lsrd: control API and metrics during the relabel: slowest answer", probe.mark())

	profile("withdraw")
	start := withdrawFullTable(ctx, t, b.g)
	if done, err = waitRoutes(t, r2, 234, base4, base6, 60*time.Minute); err != nil {
		row("lsrd: withdraw all", "did not finish: "+err.Error())
		t.Fatal(err)
	}
	row("lsrd: withdraw all, from gobgpd's withdrawal until none left", secs(done.Sub(start)))
	row("lsrd: control API and metrics during the withdrawal: slowest answer", probe.mark())
	row("lsrd: control API and metrics, answers slower than 1 s / all, whole run", probe.summary())
	n := flaps() - flaps0
	row("lsrd: LDP session flaps during all of it", strconv.Itoa(n))
	if n != 0 {
		t.Errorf("the LDP session flapped %d times", n)
	}
}

func benchFullTableFRR(t *testing.T, tbl *fullTable, row func(what, figure string)) {
	lab := topo.New(t)
	x1, x2, x3 := lab.Router("x1"), lab.Router("x2"), lab.Router("x3")
	lab.Link(x1, x2, "10.0.0.1/30", "10.0.0.2/30")
	x2If, x3If := lab.Link(x2, x3, "10.8.0.1/30", "10.8.0.2/30")
	x2.Run("ip", "-6", "addr", "add", "2001:db8:28::1/64", "dev", x2If, "nodad")
	x3.Run("ip", "-6", "addr", "add", "2001:db8:28::2/64", "dev", x3If, "nodad")
	g := x1.StartGoBGP(topo.GoBGPConfig{AS: 65001, RouterID: "1.1.1.1"})
	x2.StartFRR(topo.FRRConfig{RouterID: "2.2.2.2",
		Static: []string{"4.4.4.0/24 10.8.0.2", "2001:db8:4::/64 2001:db8:28::2"},
		BGP:    &topo.FRRBGP{AS: 65001, Neighbors: []topo.BGPNeighbor{{Address: "10.0.0.1", AS: 65001}}},
		Extra:  "router bgp 65001\n address-family ipv6 unicast\n  neighbor 10.0.0.1 activate\n exit-address-family\nexit\n"})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Minute)
	defer cancel()
	// The same prefixes and attributes; the IPv6 next hops are IPv6
	// addresses FRR reaches by a static route.
	nextHop := func(nh uint8, v6 bool) netip.Addr {
		if v6 {
			return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 4, 15: nh + 1})
		}
		return fullTableNH(nh)
	}
	up := feedFullTable(ctx, t, g, tbl, nextHop)
	const protoBGP = 186
	done, err := waitRoutes(t, x2, protoBGP, tbl.v4, len(tbl.prefixes)-tbl.v4, 60*time.Minute)
	if err != nil {
		row("FRR 8.4 bgpd+zebra (plain IP): Established to all in the kernel", "did not finish: "+err.Error())
		return
	}
	row("FRR 8.4 bgpd+zebra (plain IP): Established to all in the kernel", secs(done.Sub(up)))
	row("FRR: resident memory then (zebra + bgpd VmRSS)", fmt.Sprintf("%d MB", (residentKBIn(x2, "zebra")+residentKBIn(x2, "bgpd"))/1024))
	start := withdrawFullTable(ctx, t, g)
	if done, err = waitRoutes(t, x2, protoBGP, 0, 0, 60*time.Minute); err != nil {
		row("FRR: withdraw all", "did not finish: "+err.Error())
		return
	}
	row("FRR: withdraw all, from gobgpd's withdrawal until none left", secs(done.Sub(start)))
}

var fullTableFamilies = []*api.Family{{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}, {Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}}

// feedFullTable puts tbl into gobgpd (next hops from nextHop), then
// configures the router under test, 10.0.0.2, as its neighbour in both
// families, so that the session brings the whole table at once, and
// returns when gobgpd saw the session Established.
func feedFullTable(ctx context.Context, t *testing.T, g *topo.GoBGP, tbl *fullTable, nextHop func(nh uint8, v6 bool) netip.Addr) time.Time {
	t.Helper()
	start := time.Now()
	if err := g.SendPaths(ctx, len(tbl.prefixes), func(i int) (*api.Path, error) { return tbl.apiPath(i, nextHop, false) }); err != nil {
		t.Fatal(err)
	}
	t.Logf("gobgpd took the table in %.1fs", time.Since(start).Seconds())
	var afs []*api.AfiSafi
	for _, f := range fullTableFamilies {
		afs = append(afs, &api.AfiSafi{Config: &api.AfiSafiConfig{Family: f, Enabled: true}})
	}
	if _, err := g.Client.AddPeer(ctx, &api.AddPeerRequest{Peer: &api.Peer{
		Conf: &api.PeerConf{NeighborAddress: "10.0.0.2", PeerAsn: 65001}, AfiSafis: afs}}); err != nil {
		t.Fatal(err)
	}
	var up time.Time
	topo.Eventually(t, 3*time.Minute, "gobgpd's session with the router under test", func() error {
		var err error
		up, err = g.EstablishedAt(ctx, "10.0.0.2")
		return err
	})
	return up
}

// withdrawFullTable has gobgpd withdraw everything it originated and
// returns when it was asked.
func withdrawFullTable(ctx context.Context, t *testing.T, g *topo.GoBGP) time.Time {
	t.Helper()
	start := time.Now()
	for _, fam := range fullTableFamilies {
		if err := g.DeleteFamily(ctx, fam); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("gobgpd took the withdrawal in %.1fs", time.Since(start).Seconds())
	return start
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// first is the first prefix of the table's family v6 with next hop nh.
func (t *fullTable) first(nh uint8, v6 bool) netip.Prefix {
	for i, p := range t.prefixes {
		if t.nh[i] == nh && p.Addr().Is6() == v6 {
			return p
		}
	}
	panic("no prefix with that next hop")
}

// waitRoutes polls r's count of proto's IPv4 and IPv6 routes until it is
// want4 and want6, and returns when it first saw it. A dump of a full table
// costs the guest seconds, so the polls are a second apart.
func waitRoutes(t *testing.T, r *topo.Router, proto uint8, want4, want6 int, limit time.Duration) (time.Time, error) {
	start := time.Now()
	logged := start
	for {
		v4, v6, err := r.CountRoutes46(proto)
		now := time.Now()
		if err == nil && v4 == want4 && v6 == want6 {
			return now, nil
		}
		if now.Sub(logged) >= 30*time.Second {
			t.Logf("after %.0fs %s has %d IPv4 and %d IPv6 routes of protocol %d, waiting for %d and %d", now.Sub(start).Seconds(), r.Name, v4, v6, proto, want4, want6)
			logged = now
		}
		if now.Sub(start) > limit {
			return time.Time{}, fmt.Errorf("%s has %d IPv4 and %d IPv6 routes after %s, want %d and %d (%v)", r.Name, v4, v6, limit, want4, want6, err)
		}
		time.Sleep(time.Second)
	}
}

func kernelRequestsOf(t *testing.T, l *topo.LSRD) uint64 {
	t.Helper()
	var st struct {
		Requests uint64 `json:"requests"`
	}
	if err := l.Get("/v1/fib/status", &st); err != nil {
		t.Fatal(err)
	}
	return st.Requests
}

var (
	routeLine  = regexp.MustCompile(`^(\S+) nhid (\d+) `)
	nexthopRow = regexp.MustCompile(`^id (\d+)\s+(?:encap mpls\s+(\S+)\s)?`)
)

// checkFullTable reads r's kernel and returns the prefixes of tbl that do
// not forward on their next hop's LSP label (labels, by next-hop index):
// the label alone for IPv4, over the IPv6 explicit null for IPv6.
func checkFullTable(r *topo.Router, tbl *fullTable, labels map[uint8]int) ([]string, error) {
	nhs, err := r.TryFor(5*time.Minute, "ip", "nexthop", "show")
	if err != nil {
		return nil, err
	}
	stack := map[string]string{}
	for _, l := range strings.Split(nhs, "\n") {
		if m := nexthopRow.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			stack[m[1]] = m[2]
		}
	}
	got := make(map[netip.Prefix]string, len(tbl.prefixes))
	for _, fam := range []string{"-4", "-6"} {
		out, err := r.TryFor(10*time.Minute, "ip", fam, "route", "show", "proto", "234")
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			m := routeLine.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			if p, err := netip.ParsePrefix(m[1]); err == nil {
				got[p] = stack[m[2]]
			}
		}
	}
	var bad []string
	for i, p := range tbl.prefixes {
		want := strconv.Itoa(labels[tbl.nh[i]])
		if p.Addr().Is6() {
			want += "/2"
		}
		if s, ok := got[p]; !ok || s != want {
			bad = append(bad, fmt.Sprintf("%s (next hop %s): pushes %q, want %s (in the kernel: %v)", p, fullTableNH(tbl.nh[i]), s, want, ok))
		}
	}
	return bad, nil
}

var monitorStamp = regexp.MustCompile(`^\[([0-9T:.-]+)\]\s*(.*)$`)

// nexthopMoves reads `ip -ts monitor nexthop` output: how long after start
// the last nexthop object that pushes label was written, and the events
// (the first 40).
func nexthopMoves(out string, label int, start time.Time) (string, []string) {
	var ev []string
	var last time.Time
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		ev = append(ev, l)
		m := monitorStamp.FindStringSubmatch(l)
		if m == nil || !regexp.MustCompile(`encap mpls\s+`+strconv.Itoa(label)+`\b`).MatchString(m[2]) {
			continue
		}
		if at, err := time.ParseInLocation("2006-01-02T15:04:05.000000", m[1], time.Local); err == nil && at.After(last) {
			last = at
		}
	}
	moved := "not seen"
	if !last.IsZero() {
		moved = secs(last.Sub(start))
	}
	return moved, ev[:min(len(ev), 40)]
}

// probe asks lsrd's control API (/v1/fib/status) every 250 ms and its
// metrics (/metrics) every second (a busy Prometheus scrapes every 15 s),
// and keeps the slowest answers of each, per phase and over the run.
type probe struct {
	mu             sync.Mutex
	kinds          [2]probeStats // the API's, the metrics'
	stopCh, doneCh chan struct{}
}

type probeStats struct {
	phaseMax        time.Duration
	phaseErrs       int
	slow, all, errs int
	worst           time.Duration
}

var probeKinds = [2]string{"API", "metrics"}

func startProbe(l *topo.LSRD, r *topo.Router, metrics string) *probe {
	p := &probe{stopCh: make(chan struct{}), doneCh: make(chan struct{})}
	asks := [2]func() error{
		func() error { var v map[string]any; return l.Get("/v1/fib/status", &v) },
		func() error { _, err := scrape(r, metrics); return err },
	}
	go func() {
		defer close(p.doneCh)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-p.stopCh:
				return
			case <-tick.C:
			}
			for k, ask := range asks {
				if k == 1 && n%4 != 0 {
					continue
				}
				start := time.Now()
				err := ask()
				p.note(k, time.Since(start), err)
			}
		}
	}()
	return p
}

func (p *probe) note(kind int, d time.Duration, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := &p.kinds[kind]
	s.all++
	if err != nil {
		s.errs++
		s.phaseErrs++
		d = max(d, 10*time.Second)
	}
	if d > time.Second {
		s.slow++
	}
	s.phaseMax = max(s.phaseMax, d)
	s.worst = max(s.worst, d)
}

// mark returns the slowest answers since the previous mark.
func (p *probe) mark() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for k := range p.kinds {
		s := &p.kinds[k]
		f := fmt.Sprintf("%s %.3f s", probeKinds[k], s.phaseMax.Seconds())
		if s.phaseErrs > 0 {
			f += fmt.Sprintf(" (%d errors)", s.phaseErrs)
		}
		out = append(out, f)
		s.phaseMax, s.phaseErrs = 0, 0
	}
	return strings.Join(out, ", ")
}

// summary returns, for the whole run, the answers slower than a second
// (errors count as slow) against all, and the slowest.
func (p *probe) summary() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for k, s := range p.kinds {
		out = append(out, fmt.Sprintf("%s %d / %d (slowest %.3f s, %d errors)", probeKinds[k], s.slow, s.all, s.worst.Seconds(), s.errs))
	}
	return strings.Join(out, "; ")
}

func (p *probe) stop() {
	select {
	case <-p.stopCh:
	default:
		close(p.stopCh)
	}
	<-p.doneCh
}
