//go:build lab

package e2e

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
)

// What the scale benchmarks share: sizes and limits from the environment,
// session watching for both daemons, and the summaries they print.

// benchSizes is a list of sizes from $env ("1000,10000"), def by default.
func benchSizes(t *testing.T, env string, def []int) []int {
	s := os.Getenv(env)
	if s == "" {
		return def
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want positive numbers separated by commas", env, s)
		}
		out = append(out, n)
	}
	return out
}

// benchDaemons are the daemons a scale benchmark runs: $LSRD_BENCH_DAEMONS
// ("lsrd", "frr", or both separated by a comma), both by default.
func benchDaemons(t *testing.T) []string {
	s := os.Getenv("LSRD_BENCH_DAEMONS")
	if s == "" {
		return []string{"lsrd", "frr"}
	}
	out := strings.Split(s, ",")
	for _, d := range out {
		if d != "lsrd" && d != "frr" {
			t.Fatalf("LSRD_BENCH_DAEMONS=%q: want lsrd, frr or both", s)
		}
	}
	return out
}

// benchDuration is $env as a Go duration, def by default.
func benchDuration(t *testing.T, env string, def time.Duration) time.Duration {
	s := os.Getenv(env)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a duration such as 10m", env, s)
	}
	return d
}

// sessionWatch follows LDP sessions through polls of their state: a
// session seen OPERATIONAL and later seen otherwise (or gone) left
// OPERATIONAL. Polls miss a flap shorter than their spacing; FRR's uptime
// (upSince) catches those.
type sessionWatch struct {
	firstUp map[string]time.Time // router>peer: first poll that saw it OPERATIONAL
	up      map[string]bool      // state at the last poll
	flapped map[string]int       // times seen leaving OPERATIONAL
}

func newSessionWatch() *sessionWatch {
	return &sessionWatch{firstUp: map[string]time.Time{}, up: map[string]bool{}, flapped: map[string]int{}}
}

// observe records one router's sessions from one poll: the peers it has
// OPERATIONAL, out of the peers it should have.
func (w *sessionWatch) observe(router string, peers []string, operational map[string]bool, now time.Time) {
	for _, p := range peers {
		k := router + ">" + p
		op := operational[p]
		if op {
			if _, ok := w.firstUp[k]; !ok {
				w.firstUp[k] = now
			}
		} else if w.up[k] {
			w.flapped[k]++
		}
		w.up[k] = op
	}
}

// upSince checks a session's reported time in its state against the first
// poll that saw it OPERATIONAL: a session up for less than that (with slack
// for the poll spacing) went down and came back between polls.
func (w *sessionWatch) upSince(router, peer string, up time.Duration, now time.Time, slack time.Duration) {
	k := router + ">" + peer
	first, ok := w.firstUp[k]
	if !ok || w.flapped[k] > 0 {
		return
	}
	if up+slack < now.Sub(first) {
		w.flapped[k]++
	}
}

// flaps is the number of times sessions were seen leaving OPERATIONAL, and
// how many sessions that was.
func (w *sessionWatch) flaps() (total, sessions int) {
	for _, n := range w.flapped {
		total += n
		if n > 0 {
			sessions++
		}
	}
	return total, sessions
}

// frrUpTime parses FRR's time in state: "hh:mm:ss" under a day; longer
// forms (days, weeks) count as a day.
func frrUpTime(s string) (time.Duration, bool) {
	var h, m, sec int
	if _, err := fmt.Sscanf(s, "%d:%d:%d", &h, &m, &sec); err == nil {
		return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second, true
	}
	if s == "" {
		return 0, false
	}
	return 24 * time.Hour, true
}

// ldpdJSON runs a show command against FRR's ldpd alone (vtysh -d ldpd
// connects to that daemon only, quicker than all of them) and decodes it.
func ldpdJSON(f *topo.FRR, command string, v any) error {
	out, err := f.Vtysh(command, "-d", "ldpd")
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		return fmt.Errorf("vtysh %q: %w: %.200s", command, err, out)
	}
	return nil
}

// frrNeighbors returns FRR's LDP neighbours by LSR ID.
func frrNeighbors(f *topo.FRR) (map[string]topo.LDPNeighbor, error) {
	var v struct {
		Neighbors []topo.LDPNeighbor `json:"neighbors"`
	}
	if err := ldpdJSON(f, "show mpls ldp neighbor json", &v); err != nil {
		return nil, err
	}
	m := map[string]topo.LDPNeighbor{}
	for _, n := range v.Neighbors {
		m[n.NeighborID] = n
	}
	return m, nil
}

// frrBindings returns FRR's LDP bindings.
func frrBindings(f *topo.FRR) ([]topo.LDPBinding, error) {
	var v struct {
		Bindings []topo.LDPBinding `json:"bindings"`
	}
	err := ldpdJSON(f, "show mpls ldp binding json", &v)
	return v.Bindings, err
}

// lsrdFlaps sums lsrd_ldp_session_flaps_total over every peer of the lsrd
// serving metrics at addr in router r.
func lsrdFlaps(r *topo.Router, addr string) (int, error) {
	m, err := scrape(r, addr)
	if err != nil {
		return 0, err
	}
	n := 0
	for series, v := range m {
		if strings.HasPrefix(series, "lsrd_ldp_session_flaps_total{") {
			n += int(v)
		}
	}
	return n, nil
}

// logSummary counts, over lsrd logs, the warnings and errors by message,
// and the session state changes that left OPERATIONAL.
type logSummary struct {
	byMsg    map[string]int
	leftOper int
}

func (s *logSummary) add(path string) {
	if s.byMsg == nil {
		s.byMsg = map[string]int{}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		s.byMsg["(log unreadable: "+err.Error()+")"]++
		return
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "msg=\"ldp session closed\"") && strings.Contains(l, "from=OPERATIONAL") {
			s.leftOper++
		}
		if !strings.Contains(l, "level=WARN") && !strings.Contains(l, "level=ERROR") {
			continue
		}
		msg := l
		if i := strings.Index(l, "msg="); i >= 0 {
			msg = l[i:]
			if j := strings.Index(msg[5:], "\""); msg[4] == '"' && j >= 0 {
				msg = msg[:j+6]
			}
		}
		for _, marker := range []string{"Hold Timer", "broken pipe", "connection reset", "Keepalive"} {
			if strings.Contains(l, marker) {
				msg += " [" + marker + "]"
			}
		}
		s.byMsg[msg]++
	}
}

func (s *logSummary) String() string {
	if len(s.byMsg) == 0 {
		return fmt.Sprintf("no warnings or errors; %d session state changes from OPERATIONAL", s.leftOper)
	}
	keys := make([]string, 0, len(s.byMsg))
	for k := range s.byMsg {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return s.byMsg[keys[i]] > s.byMsg[keys[j]] })
	var b strings.Builder
	fmt.Fprintf(&b, "%d session state changes from OPERATIONAL; warnings and errors:", s.leftOper)
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %6d  %s", s.byMsg[k], k)
	}
	return b.String()
}

// memAvailableMB is the guest's MemAvailable.
func memAvailableMB() int {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemAvailable:" {
			kb, _ := strconv.Atoi(f[1])
			return kb / 1024
		}
	}
	return -1
}

// rss returns the resident memory of a router's daemon under test, in kB:
// lsrd's process, or FRR's zebra and ldpd (ldpd's three processes).
func rss(r *topo.Router, dut string) int {
	comms := []string{"lsrd"}
	if dut == "frr" {
		comms = []string{"zebra", "ldpd"}
	}
	kb, _ := r.ResidentKB(comms...)
	return kb
}

// mb formats kB as MB.
func mb(kb int) string { return fmt.Sprintf("%d MB", (kb+512)/1024) }

// groupThousands writes n with commas: 50,000.
func groupThousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// addrIn reports whether prefix s is a host route inside p.
func addrIn(p netip.Prefix, s string) (netip.Prefix, bool) {
	q, err := netip.ParsePrefix(s)
	if err != nil || !p.Contains(q.Addr()) {
		return netip.Prefix{}, false
	}
	return q, true
}

// softnetDropped is the guest's count of packets dropped because a CPU's
// input backlog (net.core.netdev_max_backlog) was full, from
// /proc/net/softnet_stat (second column, hex, one row per CPU). Every
// router of the lab shares the guest's kernel and so its backlog: a burst
// on one segment drops packets, hellos included, that separate machines
// would all have taken.
func softnetDropped() int64 {
	b, err := os.ReadFile("/proc/net/softnet_stat")
	if err != nil {
		return -1
	}
	var total int64
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		v, err := strconv.ParseInt(f[1], 16, 64)
		if err == nil {
			total += v
		}
	}
	return total
}
