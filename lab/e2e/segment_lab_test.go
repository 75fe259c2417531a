//go:build lab

package e2e

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
)

// TestLDPSegment25 puts 25 lsrd routers on one ZeroTier-like segment, each
// with static kernel routes to every other's loopback over it: all 300
// sessions reach OPERATIONAL and every label is in use within a generous
// bound, and no session flaps over the next 30 seconds. The issue this
// guards saw sessions on such a segment (40 routers) keep flapping with
// Hold Timer Expired.
func TestLDPSegment25(t *testing.T) {
	s := newSegmentLab(t, "lsrd", 25)
	if !s.converge(4 * time.Minute) {
		s.keepLogs()
		t.Fatalf("25 lsrd routers on one segment: not converged within 4m: %s", s.progress())
	}
	t.Logf("converged %.1f s after the first lsrd started (all 25 started in %.1f s); %d packets dropped by the guest's full input backlog",
		s.elapsed.Seconds(), s.started.Seconds(), softnetDropped()-s.dropped0)
	s.observe(30 * time.Second)
	flaps, seen := s.flaps()
	if flaps != 0 || seen != 0 {
		s.keepLogs()
		t.Errorf("sessions flapped: lsrd counted %d, polls saw %d; %s", flaps, seen, s.logs)
	}
	if !s.complete() {
		t.Errorf("after 30 s: no longer converged: %s", s.progress())
	}
}

// segmentLab is k routers of one kind (lsrd or FRR) on one ZeroTier-like
// segment (10.77.0.0/24, MTU 2800). Router i (from 1) has loopback
// 172.16.0.i, which is its LSR ID, kernel routes to every other loopback
// via that router's segment address (ip -batch, before any daemon starts),
// and LDP on the segment only, so every pair of routers has a session.
//
// Converged means every router has an OPERATIONAL session with each of the
// k-1 others, holds a label from each of them for every other router's
// loopback ((k-1)^2 labels), with the label from the loopback's own router
// in use (it is the next hop), and has a label route in its kernel for
// every other loopback (k-1; they pop, as each router advertises implicit
// null for its own loopback).
type segmentLab struct {
	t       *testing.T
	dut     string
	k       int
	routers []*topo.Router
	ids     []string
	lsrds   []*topo.LSRD
	frrs    []*topo.FRR
	watch   *sessionWatch

	start   time.Time     // the first daemon started
	started time.Duration // start until the last one had started
	elapsed time.Duration // start until converged; 0 while not
	done    []bool        // routers seen complete
	why     []string      // what a router lacked at its last check

	minAvailMB int
	logs       string
	dropped0   int64   // softnetDropped when the daemons started
	cpu0       []int64 // guestCPU then
}

func newSegmentLab(t *testing.T, dut string, k int) *segmentLab {
	if k > 250 {
		t.Fatalf("segment of %d routers: the addressing plan holds 250", k)
	}
	s := &segmentLab{t: t, dut: dut, k: k, watch: newSessionWatch(), done: make([]bool, k), why: make([]string, k), minAvailMB: memAvailableMB()}
	lab := topo.New(t)
	zt := lab.ZeroTier(0x5e6d000000000000 + uint64(k))
	dir := t.TempDir()
	ifnames := make([]string, k)
	for i := range k {
		r := lab.Router(fmt.Sprintf("s%02d", i+1))
		s.routers = append(s.routers, r)
		s.ids = append(s.ids, fmt.Sprintf("172.16.0.%d", i+1))
		ifnames[i] = zt.Attach(r, fmt.Sprintf("10.77.0.%d/24", i+1))
		r.AddLoopback(s.ids[i] + "/32")
		r.EnableMPLS(ifnames[i], "lo")
	}
	for i, r := range s.routers {
		var b strings.Builder
		for j := range k {
			if j != i {
				fmt.Fprintf(&b, "route add %s/32 via 10.77.0.%d\n", s.ids[j], j+1)
			}
		}
		file := filepath.Join(dir, r.Name)
		if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		r.Run("ip", "-batch", file)
	}
	neighbourTables(t, k)
	inputBacklog(t, k)
	if os.Getenv("LSRD_LAB_SOFTIRQ_RT") != "" {
		// An experiment: the guest's one kernel receives every router's
		// packets, in softirq context or, under load, in ksoftirqd,
		// which then competes with every daemon for the 2 emulated
		// CPUs (separate routers each have their own). Real-time
		// priority gives packet delivery its own share back.
		prioritizeSoftirq(t)
	}
	if os.Getenv("LSRD_BENCH_SEGMENT_CAPTURE") != "" {
		// A diagnostic: the hellos every router sent (the bridge)
		// and those that reached its device, with their times, to tell
		// hellos lost on the way from hellos never sent.
		dir := keptDir(t)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		zt.Background("tcpdump", "-i", "br0", "-n", "-s", "96", "-w", filepath.Join(dir, "br0.pcap"), "udp", "port", "646")
		s.routers[0].Background("tcpdump", "-i", ifnames[0], "-n", "-s", "96", "-w", filepath.Join(dir, "dev-s01.pcap"), "udp", "port", "646")
		time.Sleep(time.Second)
	}
	s.dropped0 = softnetDropped()
	s.cpu0 = guestCPU()
	s.start = time.Now()
	for i, r := range s.routers {
		switch dut {
		case "lsrd":
			s.lsrds = append(s.lsrds, r.StartLSRDWith(fmt.Sprintf("router-id: %s\nldp:\n  interfaces:\n    - name: %s\nmetrics:\n  listen: %s\n",
				s.ids[i], ifnames[i], metricsListen), s.profileEnv(i)...))
		case "frr":
			s.frrs = append(s.frrs, r.StartFRR(topo.FRRConfig{RouterID: s.ids[i], LDP: &topo.FRRLDP{Interfaces: []string{ifnames[i]}}}))
		default:
			t.Fatalf("segment: unknown daemon %q", dut)
		}
	}
	s.started = time.Since(s.start)
	if dut == "lsrd" {
		// All stop at once: one after the other, each given 10 s, a
		// busy guest took ten minutes to stop 60.
		t.Cleanup(func() {
			for _, l := range s.lsrds {
				l.Signal(syscall.SIGTERM)
			}
		})
	}
	if os.Getenv("LSRD_BENCH_SEGMENT_CAPTURE") != "" && dut == "lsrd" {
		// And what s01's engine counts as sent, every 2 s; at the end
		// its goroutines (SIGQUIT), before the lab stops it.
		stop := make(chan struct{})
		go s.recordStats(0, filepath.Join(keptDir(t), "s01-hellos.txt"), stop)
		t.Cleanup(func() {
			close(stop)
			s.lsrds[0].Signal(syscall.SIGQUIT)
			time.Sleep(3 * time.Second)
			if b, err := os.ReadFile(s.lsrds[0].Log); err == nil {
				os.WriteFile(filepath.Join(keptDir(t), "s01-quit.log"), b, 0o644)
			}
		})
	}
	return s
}

// recordStats appends router i's hello counters (from its metrics), with
// the time, to file every 2 s until stop is closed.
func (s *segmentLab) recordStats(i int, file string, stop <-chan struct{}) {
	f, err := os.Create(file)
	if err != nil {
		s.t.Logf("stats: %v", err)
		return
	}
	defer f.Close()
	for {
		m, err := scrape(s.routers[i], metricsListen)
		fmt.Fprintf(f, "%s err=%v", time.Now().UTC().Format("15:04:05.000"), err)
		for series, v := range m {
			if strings.HasPrefix(series, "lsrd_ldp_hellos_total{") {
				fmt.Fprintf(f, " %s=%.0f", series, v)
			}
		}
		fmt.Fprintln(f)
		select {
		case <-stop:
			return
		case <-time.After(2 * time.Second):
		}
	}
}

// peers are the LSR IDs router i should have sessions with.
func (s *segmentLab) peers(i int) []string {
	out := make([]string, 0, s.k-1)
	for j, id := range s.ids {
		if j != i {
			out = append(out, id)
		}
	}
	return out
}

// sessions returns router i's sessions by peer: OPERATIONAL or not, and for
// FRR the time in that state.
func (s *segmentLab) sessions(i int) (map[string]bool, map[string]time.Duration, error) {
	op, up := map[string]bool{}, map[string]time.Duration{}
	if s.dut == "lsrd" {
		ns, err := neighbors(s.lsrds[i])
		for id, n := range ns {
			op[id] = n.State == "OPERATIONAL"
		}
		return op, up, err
	}
	ns, err := frrNeighbors(s.frrs[i])
	for id, n := range ns {
		op[id] = n.State == "OPERATIONAL"
		if d, ok := frrUpTime(n.UpTime); ok && op[id] {
			up[id] = d
		}
	}
	return op, up, err
}

// segLabels maps a loopback FEC to the peers router i holds a label from,
// and whether that label is in use.
type segLabels map[netip.Prefix]map[string]bool

var segmentLoopbacks = netip.MustParsePrefix("172.16.0.0/24")

func (s *segmentLab) labels(i int) (segLabels, error) {
	out := segLabels{}
	add := func(fec, peer string, inUse bool) {
		p, ok := addrIn(segmentLoopbacks, fec)
		if !ok || p.Bits() != 32 {
			return
		}
		if out[p] == nil {
			out[p] = map[string]bool{}
		}
		out[p][peer] = out[p][peer] || inUse
	}
	if s.dut == "lsrd" {
		bs, err := lsrdBindings(s.lsrds[i])
		for fec, b := range bs {
			for _, r := range b.Remote {
				add(fec, r.Peer.String(), r.InUse)
			}
		}
		return out, err
	}
	bs, err := frrBindings(s.frrs[i])
	for _, b := range bs {
		if _, ok := topo.FRRLabel(b.RemoteLabel); ok {
			add(b.Prefix, b.NeighborID, b.InUse != 0)
		}
	}
	return out, err
}

// check tells whether router i is converged, recording its sessions in the
// watch; the bindings are read only once its sessions and kernel are.
func (s *segmentLab) check(i int) bool {
	now := time.Now()
	op, _, err := s.sessions(i)
	if err != nil {
		s.why[i] = err.Error()
		return false
	}
	s.watch.observe(s.routers[i].Name, s.peers(i), op, now)
	up := 0
	for _, p := range s.peers(i) {
		if op[p] {
			up++
		}
	}
	if up < s.k-1 {
		s.why[i] = fmt.Sprintf("%d of %d sessions OPERATIONAL", up, s.k-1)
		return false
	}
	kernel, err := s.routers[i].LabelRoutes()
	if err != nil {
		s.why[i] = err.Error()
		return false
	}
	if len(kernel) < s.k-1 {
		s.why[i] = fmt.Sprintf("%d of %d label routes in the kernel", len(kernel), s.k-1)
		return false
	}
	ls, err := s.labels(i)
	if err != nil {
		s.why[i] = err.Error()
		return false
	}
	have, inUse := 0, 0
	for m, id := range s.ids {
		if m == i {
			continue
		}
		from := ls[netip.PrefixFrom(netip.MustParseAddr(id), 32)]
		for _, p := range s.peers(i) {
			if _, ok := from[p]; ok {
				have++
			}
		}
		if from[id] {
			inUse++
		}
	}
	if have < (s.k-1)*(s.k-1) || inUse < s.k-1 {
		s.why[i] = fmt.Sprintf("%d of %d labels, %d of %d in use", have, (s.k-1)*(s.k-1), inUse, s.k-1)
		return false
	}
	s.why[i] = ""
	return true
}

// converge polls the routers not yet seen converged until all have been,
// then checks them all once more; converged is when the last of them was
// first seen converged. It returns false if that did not happen within
// limit (from the first daemon's start).
func (s *segmentLab) converge(limit time.Duration) bool {
	deadline := s.start.Add(limit)
	var last time.Time
	for time.Now().Before(deadline) {
		s.minAvailMB = min(s.minAvailMB, memAvailableMB())
		pending := 0
		for i := range s.routers {
			if !s.done[i] {
				if s.check(i) {
					s.done[i], last = true, time.Now()
				} else {
					pending++
				}
			}
		}
		if pending > 0 {
			time.Sleep(time.Second)
			continue
		}
		if s.complete() {
			s.elapsed = last.Sub(s.start)
			return true
		}
	}
	return false
}

// complete checks every router and marks those that are not converged.
func (s *segmentLab) complete() bool {
	all := true
	for i := range s.routers {
		s.done[i] = s.check(i)
		all = all && s.done[i]
	}
	return all
}

// progress says how many routers were converged at the last check, and
// what the first few others lacked.
func (s *segmentLab) progress() string {
	n := 0
	var lacks []string
	for i, d := range s.done {
		if d {
			n++
		} else if len(lacks) < 3 {
			lacks = append(lacks, s.routers[i].Name+": "+s.why[i])
		}
	}
	return fmt.Sprintf("%d of %d routers converged (%s)", n, s.k, strings.Join(lacks, "; "))
}

// observe keeps watching every session for d.
func (s *segmentLab) observe(d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		for i := range s.routers {
			if op, _, err := s.sessions(i); err == nil {
				s.watch.observe(s.routers[i].Name, s.peers(i), op, time.Now())
			}
		}
		time.Sleep(2 * time.Second)
	}
}

// flaps returns the sessions' flaps: lsrd's own count (summed over routers
// and peers; FRR: the polls' count, its uptimes included) and the times
// polls saw a session leave OPERATIONAL. For lsrd it also reads the logs.
func (s *segmentLab) flaps() (counted, seen int) {
	if s.dut == "lsrd" {
		// Scraped at once: a saturated guest can leave every scrape to
		// its 10 s timeout, 400 s at 40 routers one after the other.
		fs := make([]int, len(s.routers))
		atOnce(len(s.routers), func(i int) {
			r := s.routers[i]
			f, err := lsrdFlaps(r, metricsListen)
			if err != nil {
				s.t.Logf("%s: flaps: %v", r.Name, err)
			}
			fs[i] = f
		})
		var logs logSummary
		for i := range s.routers {
			counted += fs[i]
			logs.add(s.lsrds[i].Log)
		}
		s.logs = logs.String()
		// The logs have every session that left OPERATIONAL; the
		// counters only those of the peers still known to routers whose
		// metrics answered (a peer gone for good takes its series with
		// it), which in a collapse can be none at all.
		counted = max(counted, logs.leftOper)
		seen, _ = s.watch.flaps()
		return counted, seen
	}
	seen, _ = s.watch.flaps()
	for i, r := range s.routers {
		_, up, err := s.sessions(i)
		if err != nil {
			s.t.Logf("%s: neighbours: %v", r.Name, err)
		}
		for peer, d := range up {
			// The slack covers a poll round of every router.
			s.watch.upSince(r.Name, peer, d, time.Now(), 5*time.Second+time.Duration(s.k)*time.Second)
		}
	}
	counted, _ = s.watch.flaps()
	s.logs = "FRR: flaps from polls of show mpls ldp neighbor and its uptimes"
	return counted, seen
}

// rss is the daemons' resident memory in kB: total and the largest router.
// cpu is the CPU time the routers' daemons used since they started, in
// all and on the busiest router, in seconds.
func (s *segmentLab) cpu() (total, busiest float64) {
	return sumMax(s.cpuEach())
}

// cpuEach is each router's daemon CPU time so far, in seconds.
func (s *segmentLab) cpuEach() []float64 {
	comms := []string{"lsrd"}
	if s.dut == "frr" {
		comms = []string{"zebra", "ldpd"}
	}
	out := make([]float64, len(s.routers))
	for i, r := range s.routers {
		out[i], _ = r.CPUSeconds(comms...)
	}
	return out
}

// quiet leaves the converged segment alone for d (no polls) and logs what
// it costs at rest: the daemons' CPU per router and the guest's split.
// Hellos from k-1 neighbours and keepalives on k-1 sessions are the whole
// load then, and how it grows with k is what decides whether a larger
// segment can hold in the guest's 2 CPUs.
func (s *segmentLab) quiet(d time.Duration) {
	before, g0, t0 := s.cpuEach(), guestCPU(), time.Now()
	switch {
	case os.Getenv("LSRD_BENCH_SEGMENT_PERF") != "":
		// Where the CPU at rest goes: perf over the whole window.
		s.perf(fmt.Sprintf("rest-%s-%d-", s.dut, s.k), d)
	case os.Getenv("LSRD_BENCH_SEGMENT_STRACE") != "" && s.dut == "lsrd":
		// Or the system calls of the first router.
		// "full": every call with its time and thread, not a summary.
		out := s.profileFile(fmt.Sprintf("rest-strace-%d.txt", s.k))
		mode := []string{"-c"}
		if os.Getenv("LSRD_BENCH_SEGMENT_STRACE") == "full" {
			mode = []string{"-tt", "-T"}
		}
		args := append([]string{"-s", "INT", strconv.Itoa(int(d.Seconds())), "strace"}, mode...)
		cmd := exec.Command("timeout", append(args, "-f", "-o", out, "-p", strconv.Itoa(s.lsrds[0].Pid()))...)
		if b, err := cmd.CombinedOutput(); err != nil && !strings.Contains(err.Error(), "exit status 124") {
			s.t.Logf("strace: %v: %s", err, b)
		}
		s.t.Logf("strace of s01 at rest: %s", out)
	default:
		time.Sleep(d)
	}
	after := s.cpuEach()
	for i := range after {
		after[i] -= before[i]
	}
	total, busiest := sumMax(after)
	secs := time.Since(t0).Seconds()
	s.t.Logf("%s, %d routers at rest for %.0f s: the daemons used %.2f s of CPU, %.2f %% of one CPU per router (busiest %.2f %%); guest: %s",
		s.dut, s.k, secs, total, 100*total/secs/float64(s.k), 100*busiest/secs, guestCPUSince(g0))
}

func sumMax(xs []float64) (total, largest float64) {
	for _, x := range xs {
		total += x
		largest = max(largest, x)
	}
	return total, largest
}

func (s *segmentLab) rss() (total, largest int) {
	for _, r := range s.routers {
		kb := rss(r, s.dut)
		total += kb
		largest = max(largest, kb)
	}
	return total, largest
}

// keepLogs copies every router's daemon log to the lab's results share
// (/run/lab/<name>/, kept on the host with LSRD_LAB_KEEP=1), for a run that
// did not converge or flapped: the routers' own directories are gone when
// the guest powers off.
func (s *segmentLab) keepLogs() {
	keepLogs(s.t, s.routers, func(i int) []byte {
		if s.dut == "lsrd" {
			b, _ := os.ReadFile(s.lsrds[i].Log)
			return b
		}
		return []byte(s.frrs[i].LogTail(1 << 20))
	})
}

// keptDir is /run/lab/<test name>: what a test writes there, lab exec
// keeps on the host with LSRD_LAB_KEEP=1.
func keptDir(t *testing.T) string {
	return filepath.Join("/run/lab", strings.ReplaceAll(t.Name(), "/", "-"))
}

// keepLogs writes each router's daemon log to keptDir.
func keepLogs(t *testing.T, routers []*topo.Router, text func(i int) []byte) {
	if _, err := os.Stat("/run/lab"); err != nil {
		return
	}
	dir := keptDir(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("keeping logs: %v", err)
		return
	}
	for i, r := range routers {
		if err := os.WriteFile(filepath.Join(dir, r.Name+".log"), text(i), 0o644); err != nil {
			t.Logf("keeping logs: %v", err)
		}
	}
	t.Logf("daemon logs kept in %s (on the host with LSRD_LAB_KEEP=1)", dir)
}

// neighbourTables sizes the guest's neighbour tables for k routers that
// each have an entry for every other. The thresholds are the kernel's, not
// a namespace's: one table of 1,024 entries at most (gc_thresh3) serves
// every router of the lab, where separate machines have one each. At 40
// routers (1,560 entries) new entries failed: hellos vanished between a
// daemon's send, which succeeded, and its device, connects failed with "no
// route to host", and both lsrd and FRR never converged.
func neighbourTables(t *testing.T, k int) {
	need := k*k + 256
	for _, fam := range []string{"ipv4", "ipv6"} {
		for i, v := range []int{need, 2 * need, 4 * need} {
			raiseSysctl(t, fmt.Sprintf("/proc/sys/net/%s/neigh/default/gc_thresh%d", fam, i+1), v)
		}
	}
}

// inputBacklog sizes the guest's input backlog for k routers: the packets
// queued for the kernel's receive processing, per CPU
// (net.core.netdev_max_backlog, 1,000 by default). Separate machines have
// one each; the guest's 2 emulated CPUs have one each for every router of
// the lab, and every multicast on the segment passes it once per port of
// the bridge. At 60 routers, with the daemons keeping both CPUs busy, the
// backlog overflowed for minutes (millions of packets dropped, hellos
// among them): every router's adjacencies expired, lsrd's and FRR's alike.
// K routers with a CPU each have K backlogs: the guest's two get half that
// each. LSRD_LAB_BACKLOG asks for another size; as for K, the guest's own
// is never lowered.
func inputBacklog(t *testing.T, k int) {
	v := k * 1000 / 2
	if s := os.Getenv("LSRD_LAB_BACKLOG"); s != "" {
		var err error
		if v, err = strconv.Atoi(s); err != nil {
			t.Fatalf("LSRD_LAB_BACKLOG=%s: %v", s, err)
		}
	}
	raiseSysctl(t, "/proc/sys/net/core/netdev_max_backlog", v)
}

// raiseSysctl sets the sysctl at file to v unless it is at least that,
// and restores it when the test ends.
func raiseSysctl(t *testing.T, file string, v int) {
	old, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if cur, _ := strconv.Atoi(strings.TrimSpace(string(old))); cur >= v {
		return
	}
	if err := os.WriteFile(file, []byte(strconv.Itoa(v)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.WriteFile(file, old, 0o644) })
}

// prioritizeSoftirq runs the guest's ksoftirqd threads at real-time
// priority (SCHED_FIFO 50).
func prioritizeSoftirq(t *testing.T) {
	comms, _ := filepath.Glob("/proc/[0-9]*/comm")
	n := 0
	for _, c := range comms {
		b, err := os.ReadFile(c)
		if err != nil || !strings.HasPrefix(string(b), "ksoftirqd/") {
			continue
		}
		pid := filepath.Base(filepath.Dir(c))
		if out, err := exec.Command("chrt", "-f", "-p", "50", pid).CombinedOutput(); err != nil {
			t.Fatalf("chrt ksoftirqd %s: %v: %s", pid, err, out)
		}
		n++
	}
	t.Logf("%d ksoftirqd threads at SCHED_FIFO 50 (LSRD_LAB_SOFTIRQ_RT)", n)
}
