//go:build lab

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v3/api"

	"github.com/lsrd/lsrd/lab/topo"
)

// bgpScale is r1 (gobgpd) - r2 (lsrd, the router under test) - r3 (lsrd) -
// r4 (loopback 4.4.4.4, no daemon). r1 and r2 peer over iBGP; every prefix
// r1 announces has next hop 4.4.4.4, which r2 reaches over the LDP LSP r3
// gives it (r3 reaches 4.4.4.4 by a static route and, with independent
// control, advertises a label of its range for it). So r2 pushes r3's label
// onto every prefix, through one shared nexthop object. r2's route to r3's
// loopback (the LDP transport address) uses the same gateway unlabelled (r3
// is its egress: penultimate hop popping), so when the LSP goes and the
// prefixes fall back to plain IP, a plain object for that gateway exists
// already: the prefixes must stay on their own object, relabelled in place.
type bgpScale struct {
	t              *testing.T
	lab            *topo.Lab
	r1, r2, r3, r4 *topo.Router
	g              *topo.GoBGP
	l2, l3         *topo.LSRD
	r2Conf         string
	r2If, r3If     string
	prefixes       []netip.Prefix
	base           int // lsrd's own routes in r2 before BGP (its static routes)
}

var bgpNextHop = netip.MustParseAddr("4.4.4.4")

// bgpScaleMetrics is where r2's lsrd serves metrics and Go's profiles, in
// r2's namespace.
const bgpScaleMetrics = "127.0.0.1:9642"

// scalePrefixes is n distinct /24s from 20.0.0.0 on.
func scalePrefixes(n int) []netip.Prefix {
	out := make([]netip.Prefix, n)
	for i := range out {
		a := 20<<24 + uint32(i)<<8
		out[i] = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), 0}), 24)
	}
	return out
}

func newBGPScale(t *testing.T, n int) *bgpScale {
	s := &bgpScale{t: t, lab: topo.New(t), prefixes: scalePrefixes(n)}
	s.r1, s.r2, s.r3, s.r4 = s.lab.Router("r1"), s.lab.Router("r2"), s.lab.Router("r3"), s.lab.Router("r4")
	s.lab.Link(s.r1, s.r2, "10.0.0.1/30", "10.0.0.2/30")
	s.r2If, s.r3If = s.lab.Link(s.r2, s.r3, "10.2.0.1/30", "10.2.0.2/30")
	s.lab.Link(s.r3, s.r4, "10.3.0.1/30", "10.3.0.2/30")
	s.r2.AddLoopback("2.2.2.2/32")
	s.r3.AddLoopback("3.3.3.3/32")
	s.r4.AddLoopback("4.4.4.4/32")
	// An address in the first prefix, for traffic through r2's routes
	// (restartR2): r2 -> r3 labelled, r3 pops to r4; the replies go back
	// by IP through r3.
	s.r4.AddLoopback("20.0.0.1/32")
	s.r4.Run("ip", "route", "add", "default", "via", "10.3.0.1")
	s.r3.Run("sysctl", "-qw", "net.ipv4.ip_forward=1")

	s.l3 = s.r3.StartLSRD(s.r3Config(1000))
	s.r2Conf = fmt.Sprintf(`router-id: 2.2.2.2
log-level: warn
metrics:
  listen: %s
  pprof: true
ldp:
  interfaces:
    - name: %s
static-routes:
  - prefix: 3.3.3.3/32
    next-hop: 10.2.0.2
  - prefix: 4.4.4.4/32
    next-hop: 10.2.0.2
bgp:
  as: 65001
  neighbors:
    - address: 10.0.0.1
      remote-as: 65001
  graceful-restart:
    enabled: true
kernel:
  keep-routes-on-shutdown: true
`, bgpScaleMetrics, s.r2If)
	s.l2 = s.r2.StartLSRD(s.r2Conf)
	// gobgpd starts without its neighbour: the routes go in first, so the
	// session brings all of them at once.
	s.g = s.r1.StartGoBGP(topo.GoBGPConfig{AS: 65001, RouterID: "1.1.1.1"})
	s.waitLSP(90*time.Second, 1000)
	var err error
	if s.base, err = s.r2.CountRoutes(234); err != nil {
		t.Fatal(err)
	}
	return s
}

// r3Config has r3 advertise labels from labelMin on for every FEC.
func (s *bgpScale) r3Config(labelMin int) string {
	return fmt.Sprintf(`router-id: 3.3.3.3
log-level: warn
ldp:
  interfaces:
    - name: %s
  labels:
    min: %d
    control: independent
static-routes:
  - prefix: 2.2.2.2/32
    next-hop: 10.2.0.1
  - prefix: 4.4.4.4/32
    next-hop: 10.3.0.2
`, s.r3If, labelMin)
}

// waitLSP waits until r2 pushes r3's label (at least min) for 4.4.4.4 and
// returns it.
func (s *bgpScale) waitLSP(timeout time.Duration, min int) int {
	s.t.Helper()
	var label int
	topo.Eventually(s.t, timeout, "r2's LSP to 4.4.4.4 with r3's label", func() error {
		want, err := localLabel(s.l3, "4.4.4.4/32")
		if err != nil {
			return err
		}
		got, err := pushedLabel(s.r2, "4.4.4.4/32")
		if err != nil {
			return err
		}
		if got != int(want) || got < min {
			return fmt.Errorf("r2 pushes %d, r3's label is %d (want at least %d)", got, want, min)
		}
		label = got
		return nil
	})
	return label
}

// announce puts the prefixes into gobgpd and brings the session up; it
// returns when gobgpd saw it Established.
func (s *bgpScale) announce(ctx context.Context) time.Time {
	s.t.Helper()
	start := time.Now()
	if err := s.g.AddRoutes(ctx, s.prefixes, bgpNextHop); err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("gobgpd took %d routes in %.1fs", len(s.prefixes), time.Since(start).Seconds())
	// With graceful restart (RFC 4724), so that gobgpd keeps lsrd's
	// session's routes across lsrd's restart and sends End-of-RIB.
	if _, err := s.g.Client.AddPeer(ctx, &api.AddPeerRequest{Peer: &api.Peer{
		Conf:            &api.PeerConf{NeighborAddress: "10.0.0.2", PeerAsn: 65001},
		GracefulRestart: &api.GracefulRestart{Enabled: true, RestartTime: 120},
		AfiSafis: []*api.AfiSafi{{Config: &api.AfiSafiConfig{Family: &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}, Enabled: true},
			MpGracefulRestart: &api.MpGracefulRestart{Config: &api.MpGracefulRestartConfig{Enabled: true}}}}}}); err != nil {
		s.t.Fatalf("gobgpd: adding lsrd as a neighbour: %v", err)
	}
	var up time.Time
	topo.Eventually(s.t, 2*time.Minute, "gobgpd's session with lsrd", func() error {
		var err error
		up, err = s.g.EstablishedAt(ctx, "10.0.0.2")
		return err
	})
	return up
}

// waitCount polls r2's count of lsrd's routes until it is want, every poll
// interval, and returns when it first saw it. The count comes from one raw
// netlink dump per poll.
func (s *bgpScale) waitCount(want int, poll, limit time.Duration) (time.Time, error) {
	start := time.Now()
	deadline := start.Add(limit)
	last, logged := -1, start
	for {
		n, err := s.r2.CountRoutes(234)
		now := time.Now()
		if err == nil && n == want {
			return now, nil
		}
		last = n
		if now.Sub(logged) >= 10*time.Second {
			s.t.Logf("after %.0fs r2 has %d of lsrd's routes, waiting for %d", now.Sub(start).Seconds(), n, want)
			logged = now
		}
		if now.After(deadline) {
			return time.Time{}, fmt.Errorf("r2 has %d of lsrd's routes after %s, want %d (err %v)", last, limit, want, err)
		}
		time.Sleep(poll)
	}
}

var routeNhid = regexp.MustCompile(`^(\S+) nhid (\d+)`)

// labels reads r2's routes to the prefixes and returns, per pushed label,
// how many of them push it (0 for a route without a label), and the nexthop
// objects they use.
func (s *bgpScale) labels() (map[int]int, map[string]bool, error) {
	out, err := s.r2.Try("ip", "-4", "route", "show", "proto", "234")
	if err != nil {
		return nil, nil, err
	}
	want := make(map[string]bool, len(s.prefixes))
	for _, p := range s.prefixes {
		want[p.String()] = true
	}
	nhLabel := map[string]int{}
	counts, objects := map[int]int{}, map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		m := routeNhid.FindStringSubmatch(sc.Text())
		if m == nil || !want[m[1]] {
			continue
		}
		l, ok := nhLabel[m[2]]
		if !ok {
			nh, err := s.r2.Try("ip", "nexthop", "show", "id", m[2])
			if err != nil {
				return nil, nil, err
			}
			if lm := encapStack.FindStringSubmatch(nh); lm != nil {
				outer, _, _ := strings.Cut(lm[1], "/")
				l, _ = strconv.Atoi(outer)
			}
			nhLabel[m[2]] = l
		}
		counts[l]++
		objects[m[2]] = true
	}
	return counts, objects, sc.Err()
}

// checkAllOn fails unless every prefix is in r2's kernel pushing label
// through one nexthop object.
func (s *bgpScale) checkAllOn(label int) {
	s.t.Helper()
	counts, objects, err := s.labels()
	if err != nil {
		s.t.Fatal(err)
	}
	if counts[label] != len(s.prefixes) || len(counts) != 1 {
		s.t.Errorf("r2's routes to the %d prefixes by pushed label: %v, want all on %d", len(s.prefixes), counts, label)
	}
	if len(objects) != 1 {
		s.t.Errorf("the prefixes use %d nexthop objects, want 1 shared", len(objects))
	}
}

// relabelResult is what a relabel took.
type relabelResult struct {
	label    int           // r3's new label
	took     time.Duration // from r3's reload until the sample moved
	requests uint64        // requests lsrd's kernel layer sent meanwhile
	nexthops int           // nexthop object changes the kernel announced
	routes   int           // route changes the kernel announced (a nexthop replace announces every route using it)
	// reaction is r2's own part: from the first LDP segment of r3 with a
	// message in it after the reload (a capture on r2's link) until the
	// kernel announced r2's nexthop object with the new label (ip -ts
	// monitor); zero when either was not seen.
	reaction time.Duration
}

// kernelRequests reads how many requests r2's lsrd sent to the kernel.
func (s *bgpScale) kernelRequests() uint64 {
	s.t.Helper()
	return kernelRequestsOf(s.t, s.l2)
}

// relabel reloads r3's lsrd with another label range, so that r3 renumbers
// 4.4.4.4: a new mapping, no withdraw, no session reset, and waits until
// r2's routes to a sample of prefixes push the new label.
func (s *bgpScale) relabel(labelMin int, limit time.Duration) relabelResult {
	s.t.Helper()
	mon := filepath.Join(s.t.TempDir(), "monitor")
	f, err := os.Create(mon)
	if err != nil {
		s.t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command("ip", "netns", "exec", s.r2.Name, "ip", "-ts", "monitor", "nexthop", "route")
	cmd.Stdout = f
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	// LDP segments from r3 bigger than a KeepAlive's (the new mapping).
	capture := s.r2.Background("tcpdump", "-tt", "-nn", "-l", "-i", s.r2If, "tcp port 646 and greater 90")
	topo.Eventually(s.t, 20*time.Second, "tcpdump listening", func() error {
		if !strings.Contains(capture.Output(), "listening on") {
			return fmt.Errorf("tcpdump said %q", capture.Output())
		}
		return nil
	})
	time.Sleep(200 * time.Millisecond) // the monitor subscribes

	var res relabelResult
	before := s.kernelRequests()
	start := time.Now()
	if err := s.l3.Reload(s.r3Config(labelMin)); err != nil {
		s.t.Fatal(err)
	}
	sample := []netip.Prefix{s.prefixes[0], s.prefixes[len(s.prefixes)/2], s.prefixes[len(s.prefixes)-1]}
	topo.Eventually(s.t, limit, "r2 pushes r3's new label onto the prefixes", func() error {
		want, err := localLabel(s.l3, "4.4.4.4/32")
		if err != nil {
			return err
		}
		for _, p := range sample {
			got, err := pushedLabel(s.r2, p.String())
			if err != nil {
				return err
			}
			if got != int(want) {
				return fmt.Errorf("%s pushes %d, r3's new label is %d", p, got, want)
			}
		}
		res.label = int(want)
		return nil
	})
	res.took = time.Since(start)
	res.requests = s.kernelRequests() - before
	time.Sleep(200 * time.Millisecond)
	capOut, _ := capture.Stop()
	var mapping time.Time
	for _, l := range strings.Split(capOut, "\n") {
		f := strings.Fields(l)
		if len(f) < 3 || f[1] != "IP" || !strings.HasPrefix(f[2], "3.3.3.3.") && !strings.HasPrefix(f[2], "10.2.0.2.") {
			continue
		}
		if sec, err := strconv.ParseFloat(f[0], 64); err == nil {
			at := time.Unix(0, int64(sec*1e9))
			if at.After(start) {
				mapping = at
				break
			}
		}
	}
	var moved time.Time
	b, _ := os.ReadFile(mon)
	newLabel := regexp.MustCompile(`encap mpls\s+` + strconv.Itoa(res.label) + `\b`)
	for _, l := range strings.Split(string(b), "\n") {
		if m := monitorStamp.FindStringSubmatch(l); m != nil {
			l = m[2]
			if at, err := time.ParseInLocation("2006-01-02T15:04:05.000000", m[1], time.Local); err == nil &&
				strings.HasPrefix(l, "id ") && newLabel.MatchString(l) && moved.IsZero() {
				moved = at
			}
		}
		switch {
		case strings.HasPrefix(l, "id ") || strings.HasPrefix(l, "Deleted id "):
			res.nexthops++
		case l != "" && !strings.HasPrefix(l, " ") && !strings.HasPrefix(l, "\t"):
			res.routes++
		}
	}
	if !mapping.IsZero() && !moved.IsZero() {
		res.reaction = moved.Sub(mapping)
	}
	return res
}

// restartResult is what restartR2 saw.
type restartResult struct {
	sent, lost int           // a 10 ms ping through r2's BGP routes
	deletions  int           // of lsrd's routes and nexthop objects in r2's kernel
	toSweep    time.Duration // from the new lsrd's start until its kernel layer swept
}

// restartR2 restarts r2's lsrd (SIGTERM with keep-routes, started again)
// while r2 pings 20.0.0.1 every 10 ms through its BGP route, pushed onto
// r3's LSP, and r2's kernel is watched: the kernel layer keeps every route,
// BGP (graceful restart) and LDP bring them back, and the sweep finds
// nothing to delete.
func (s *bgpScale) restartR2(limit time.Duration) restartResult {
	s.t.Helper()
	mon := []*topo.Background{s.r2.Background("ip", "-ts", "-4", "monitor", "route"),
		s.r2.Background("ip", "-ts", "monitor", "nexthop")}
	time.Sleep(300 * time.Millisecond)
	ping := s.r2.Background("ping", "-D", "-O", "-i", "0.01", "-W", "1", "-I", "10.2.0.1", "20.0.0.1")
	time.Sleep(2 * time.Second)
	if err := s.l2.Stop(); err != nil {
		s.t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // an upgrade swaps the binary
	s.l2 = s.r2.StartLSRD(s.r2Conf)
	start := time.Now()
	var res restartResult
	topo.Eventually(s.t, limit, "r2's kernel layer sweeps", func() error {
		var st struct {
			AwaitingSweep bool `json:"awaiting_sweep"`
		}
		if err := s.l2.Get("/v1/fib/status", &st); err != nil {
			return err
		}
		if st.AwaitingSweep {
			return fmt.Errorf("still keeping the previous run's routes")
		}
		res.toSweep = time.Since(start)
		return nil
	})
	time.Sleep(2 * time.Second)
	end := time.Now()
	out, _ := ping.Stop()
	var shown []string
	for _, m := range mon {
		o, _ := m.Stop()
		ds := deletions(o)
		res.deletions += len(ds)
		for _, d := range ds[:min(len(ds), 10)] {
			shown = append(shown, d.line)
		}
	}
	if len(shown) > 0 {
		s.t.Logf("r2's kernel deleted, across the restart (the first of each monitor):\n%s", strings.Join(shown, "\n"))
	}
	p := parsePing(out)
	res.sent, res.lost = p.sent, p.lostBefore(end)
	if p.sent < 100 {
		s.t.Fatalf("the ping sent only %d echoes:\n%s", p.sent, tail(out))
	}
	return res
}

// BGP-free core, checked at 50,000 prefixes: all from gobgpd push the
// LSP's label through one shared nexthop object; a new label for the next
// hop (the downstream router's label range moved by a reload) moves all of
// them in at most 10 kernel requests, with no LDP session flap; a restart of
// lsrd keeps forwarding on them without a gap; withdrawing them removes
// them.
func TestBGPOverLSPScale(t *testing.T) {
	s := newBGPScale(t, 50000)
	label := s.waitLSP(time.Second, 1000)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	up := s.announce(ctx)
	done, err := s.waitCount(s.base+len(s.prefixes), time.Second, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d prefixes in r2's kernel %s after Established", len(s.prefixes), done.Sub(up).Round(time.Millisecond))
	s.checkAllOn(label)

	flaps, err := lsrdFlaps(s.r2, bgpScaleMetrics)
	if err != nil {
		t.Fatal(err)
	}
	ridesBefore, err := scrape(s.r2, bgpScaleMetrics)
	if err != nil {
		t.Fatal(err)
	}
	rl := s.relabel(2000, 2*time.Minute)
	if rl.label < 2000 || rl.label == label {
		t.Fatalf("r3's new label %d, want one from 2000 on", rl.label)
	}
	s.checkAllOn(rl.label)
	t.Logf("relabel of %d prefixes: %s from r3's reload until the sample moved, %s from r3's new mapping on the wire until r2's kernel announced the relabelled object; %d kernel requests, %d nexthop and %d route notifications",
		len(s.prefixes), rl.took.Round(time.Millisecond), rl.reaction.Round(time.Millisecond), rl.requests, rl.nexthops, rl.routes)
	// The LSP's object takes the new label in place; the prefixes do not
	// move. The label route of 4.4.4.4 changes too, but nothing scales
	// with the prefixes.
	if rl.requests > 10 {
		t.Errorf("the relabel took %d kernel requests for %d prefixes, want at most 10: the prefixes moved instead of their object", rl.requests, len(s.prefixes))
	}
	if f, err := lsrdFlaps(s.r2, bgpScaleMetrics); err != nil || f != flaps {
		t.Errorf("r2's LDP session flaps went from %d to %d (%v) across r3's reload", flaps, f, err)
	}
	// The parent handed the move on as one ride of the LSP, and the
	// kernel layer rewrote the object without comparing the prefixes
	// one by one.
	ridesAfter, err := scrape(s.r2, bgpScaleMetrics)
	if err != nil {
		t.Fatal(err)
	}
	inPlace := ridesAfter[`lsrd_kernel_lsp_rides_total{how="in_place"}`] - ridesBefore[`lsrd_kernel_lsp_rides_total{how="in_place"}`]
	perRoute := ridesAfter[`lsrd_kernel_lsp_rides_total{how="per_route"}`] - ridesBefore[`lsrd_kernel_lsp_rides_total{how="per_route"}`]
	t.Logf("the LSP's rides during the relabel: %v in place, %v route by route", inPlace, perRoute)
	if inPlace < 1 || perRoute != 0 {
		t.Errorf("the relabel's rides: %v in place, %v route by route; want the prefixes moved in place", inPlace, perRoute)
	}

	// A restart of r2's lsrd with the prefixes kept over the LSP: not one
	// echo lost, nothing deleted, everything back on the same label.
	rs := s.restartR2(5 * time.Minute)
	t.Logf("r2's lsrd restarted with %d BGP routes over the LSP: 10 ms ping %d sent, %d lost; %d kernel deletions; swept %s after the start",
		len(s.prefixes), rs.sent, rs.lost, rs.deletions, rs.toSweep.Round(time.Millisecond))
	if rs.lost != 0 || rs.deletions != 0 {
		t.Errorf("restart: %d echoes lost, %d deletions of lsrd's routes", rs.lost, rs.deletions)
	}
	if _, err := s.waitCount(s.base+len(s.prefixes), time.Second, 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	s.checkAllOn(rl.label)

	start := time.Now()
	if err := s.g.WithdrawRoutes(ctx, s.prefixes, bgpNextHop); err != nil {
		t.Fatal(err)
	}
	if done, err = s.waitCount(s.base, time.Second, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	t.Logf("withdrawal of %d prefixes: none left %s after gobgpd took it", len(s.prefixes), done.Sub(start).Round(time.Millisecond))
	if counts, _, err := s.labels(); err != nil || len(counts) != 0 {
		t.Errorf("after the withdrawal r2 still routes prefixes: %v (%v)", counts, err)
	}
}

// memKB reads VmRSS and VmHWM of a process.
func memKB(pid int) (rss, hwm int) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.Atoi(f[1])
		switch f[0] {
		case "VmRSS:":
			rss = v
		case "VmHWM:":
			hwm = v
		}
	}
	return rss, hwm
}
