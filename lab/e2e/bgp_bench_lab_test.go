//go:build lab

package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v3/api"

	"github.com/lsrd/lsrd/lab/topo"
)

// TestBenchBGP measures, in one lab run, lsrd learning N prefixes from
// gobgpd over one iBGP session with their next hop behind an LDP LSP (the
// bgpScale topology): the time from Established until all N are in the
// kernel, lsrd's memory then, the time and kernel notifications to move all
// of them to a new label after the LSP's label changes, and the time to
// withdraw them. Beside it, in the same run: the same N routes through one
// labelled nexthop object with ip -batch, and FRR's bgpd and zebra learning
// the same N from gobgpd (plain IP: no LDP). A benchmark, not a test: it
// runs only with LSRD_BENCH=1 (make bench).
func TestBenchBGP(t *testing.T) {
	if os.Getenv("LSRD_BENCH") != "1" {
		t.Skip("benchmark: set LSRD_BENCH=1 (make bench)")
	}
	n := benchSize(t, "LSRD_BENCH_PREFIXES", 100000)
	var out strings.Builder
	fmt.Fprintf(&out, "BGP: %d prefixes over one session, next hop behind an LDP LSP (kernel lab, software emulation; compare within this run only)\n", n)
	row := func(what, figure string) { fmt.Fprintf(&out, "  %-68s %s\n", what, figure) }

	t.Run("ip-batch", func(t *testing.T) {
		lab := topo.New(t)
		x1, x2 := lab.Router("x1"), lab.Router("x2")
		if1, _ := lab.Link(x1, x2, "10.9.0.1/30", "10.9.0.2/30")
		x1.EnableMPLS(if1)
		var b strings.Builder
		for _, p := range scalePrefixes(n) {
			fmt.Fprintf(&b, "route add %s nhid 100 proto 234\n", p)
		}
		file := filepath.Join(t.TempDir(), "routes")
		if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		x1.Run("ip", "nexthop", "add", "id", "100", "encap", "mpls", "1000", "via", "10.9.0.2", "dev", if1, "proto", "234")
		start := time.Now()
		x1.Run("ip", "-batch", file)
		row("ip -batch: install via one labelled nexthop object (reference)", secs(time.Since(start)))
		start = time.Now()
		x1.Run("ip", "nexthop", "replace", "id", "100", "encap", "mpls", "2000", "via", "10.9.0.2", "dev", if1, "proto", "234")
		row("ip: relabel all, one nexthop replace (reference)", secs(time.Since(start)))
	})

	t.Run("lsrd", func(t *testing.T) {
		if v := os.Getenv("LSRD_BENCH_GOGC"); v != "" {
			// The Go runtime's GC target for the lsrd processes: how much of
			// the resident memory is headroom rather than live data.
			t.Setenv("GOGC", v)
			row("lsrd run with GOGC", v)
		}
		s := newBGPScale(t, n)
		label := s.waitLSP(time.Second, 1000)
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
		defer cancel()
		up := s.announce(ctx)
		done, err := s.waitCount(s.base+n, 150*time.Millisecond, 20*time.Minute)
		if err != nil {
			row("lsrd: Established to all in the kernel", "did not finish: "+err.Error())
			t.Fatal(err)
		}
		row("lsrd: Established to all in the kernel", secs(done.Sub(up)))
		rss, hwm := memKB(s.l2.Pid())
		row("lsrd: resident memory then (VmRSS / VmHWM)", fmt.Sprintf("%d MB / %d MB", rss/1024, hwm/1024))
		if file, err := s.heapProfile(ctx); err != nil {
			t.Logf("lsrd's heap profile: %v", err)
		} else {
			t.Logf("lsrd's heap profile after the install (a GC first): %s", file)
		}
		// Settled: lsrd lowers the collector's headroom and returns freed
		// memory once its work has been quiet for a few seconds
		// (internal/gctune).
		time.Sleep(15 * time.Second)
		rss, hwm = memKB(s.l2.Pid())
		row("lsrd: resident memory 15 s later (VmRSS / VmHWM)", fmt.Sprintf("%d MB / %d MB", rss/1024, hwm/1024))
		if strings.Contains(os.Getenv("GODEBUG"), "gctrace=1") {
			// The Go heap behind that figure: the last collections' live
			// heap and goal, from lsrd's log.
			b, _ := os.ReadFile(s.l2.Log)
			var gcs []string
			for _, l := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(l, "gc ") {
					gcs = append(gcs, l)
				}
			}
			t.Logf("lsrd's last collections:\n%s", strings.Join(gcs[max(0, len(gcs)-4):], "\n"))
		}
		s.checkAllOn(label)
		rl := s.relabel(2000, 10*time.Minute)
		s.checkAllOn(rl.label)
		row("lsrd: relabel all: r3 reloaded with a new label range until moved", secs(rl.took))
		row("lsrd: kernel requests lsrd sent for that relabel", strconv.FormatUint(rl.requests, 10))
		row("kernel notifications meanwhile: nexthop objects / routes", fmt.Sprintf("%d / %d", rl.nexthops, rl.routes))
		reaction := "not seen"
		if rl.reaction > 0 {
			reaction = secs(rl.reaction)
		}
		row("lsrd: relabel: r3's new mapping on the wire until r2's kernel announced the relabelled object", reaction)
		rs := s.restartR2(15 * time.Minute)
		row("lsrd: restart (SIGTERM, keep-routes, BGP graceful restart): 10 ms ping through the kept routes, lost / sent", fmt.Sprintf("%d / %d", rs.lost, rs.sent))
		row("lsrd: restart: kernel deletions of lsrd's routes and objects", strconv.Itoa(rs.deletions))
		row("lsrd: restart: from the new start to the stale sweep", secs(rs.toSweep))
		if _, err := s.waitCount(s.base+n, 150*time.Millisecond, 10*time.Minute); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := s.g.WithdrawRoutes(ctx, s.prefixes, bgpNextHop); err != nil {
			t.Fatal(err)
		}
		t.Logf("gobgpd took the %d withdrawals in %.1fs", n, time.Since(start).Seconds())
		if done, err = s.waitCount(s.base, 150*time.Millisecond, 20*time.Minute); err != nil {
			t.Fatal(err)
		}
		row("lsrd: withdraw all, from gobgpd's withdrawal until none left", secs(done.Sub(start)))
	})

	t.Run("frr", func(t *testing.T) {
		lab := topo.New(t)
		x1, x2, x3 := lab.Router("x1"), lab.Router("x2"), lab.Router("x3")
		lab.Link(x1, x2, "10.0.0.1/30", "10.0.0.2/30")
		lab.Link(x2, x3, "10.8.0.1/30", "10.8.0.2/30")
		g := x1.StartGoBGP(topo.GoBGPConfig{AS: 65001, RouterID: "1.1.1.1"})
		x2.StartFRR(topo.FRRConfig{RouterID: "2.2.2.2", Static: []string{"4.4.4.4/32 10.8.0.2"},
			BGP: &topo.FRRBGP{AS: 65001, Neighbors: []topo.BGPNeighbor{{Address: "10.0.0.1", AS: 65001}}}})
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
		defer cancel()
		if err := g.AddRoutes(ctx, scalePrefixes(n), bgpNextHop); err != nil {
			t.Fatal(err)
		}
		if _, err := g.Client.AddPeer(ctx, &api.AddPeerRequest{Peer: &api.Peer{
			Conf: &api.PeerConf{NeighborAddress: "10.0.0.2", PeerAsn: 65001}}}); err != nil {
			t.Fatal(err)
		}
		var up time.Time
		topo.Eventually(t, 3*time.Minute, "gobgpd's session with FRR", func() error {
			var err error
			up, err = g.EstablishedAt(ctx, "10.0.0.2")
			return err
		})
		const protoBGP = 186
		deadline := time.Now().Add(20 * time.Minute)
		for {
			c, err := x2.CountRoutes(protoBGP)
			if err == nil && c >= n {
				row("FRR 8.4 bgpd+zebra (reference, plain IP): Established to all in the kernel", secs(time.Since(up)))
				break
			}
			if time.Now().After(deadline) {
				row("FRR 8.4 bgpd+zebra (reference, plain IP): Established to all in the kernel",
					fmt.Sprintf("did not finish in 20 min (%d routes, %v)", c, err))
				return
			}
			time.Sleep(150 * time.Millisecond)
		}
		row("FRR: resident memory then (zebra + bgpd VmRSS)", fmt.Sprintf("%d MB", (residentKBIn(x2, "zebra")+residentKBIn(x2, "bgpd"))/1024))
		time.Sleep(15 * time.Second)
		row("FRR: resident memory 15 s later (zebra + bgpd VmRSS)", fmt.Sprintf("%d MB", (residentKBIn(x2, "zebra")+residentKBIn(x2, "bgpd"))/1024))
	})
	t.Log("\n" + out.String())
	fmt.Print(out.String())
}

// residentKBIn sums VmRSS of the processes named comm that run in the
// router's namespace (pgrep alone sees every namespace's).
func residentKBIn(r *topo.Router, comm string) int {
	out, err := r.Try("sh", "-c", "for p in $(ip netns pids "+r.Name+"); do [ \"$(cat /proc/$p/comm)\" = "+comm+" ] && grep VmRSS /proc/$p/status; done; true")
	if err != nil {
		return 0
	}
	total := 0
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 2 {
			v, _ := strconv.Atoi(f[1])
			total += v
		}
	}
	return total
}

// heapProfile fetches r2's lsrd's heap profile (after a collection) from
// its metrics address inside r2's namespace and writes it to the lab's
// results share, /run/lab (the guest's /tmp is an overlay whose writes never
// reach the host), which `lab exec` keeps on the host with LSRD_LAB_KEEP=1;
// outside the lab, to the temporary directory. Read it with
// go tool pprof [-sample_index=alloc_space] -top bin/lsrd FILE.
func (s *bgpScale) heapProfile(ctx context.Context) (string, error) {
	return saveHeapProfile(ctx, s.r2, bgpScaleMetrics, fmt.Sprintf("lsrd-heap-%d.pb.gz", len(s.prefixes)))
}

// saveHeapProfile fetches the heap profile (after a collection) of the
// lsrd in router r whose metrics listen on listen with pprof on, and saves
// it as name in the lab's results share (/run/lab: on the host with
// LSRD_LAB_KEEP=1), else in the temporary directory.
func saveHeapProfile(ctx context.Context, r *topo.Router, listen, name string) (string, error) {
	return saveProfile(ctx, r, listen, "/debug/pprof/heap?gc=1", name)
}

// saveProfile fetches one of Go's profiles (path like
// "/debug/pprof/heap?gc=1") the same way.
func saveProfile(ctx context.Context, r *topo.Router, listen, path, name string) (string, error) {
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) { return r.DialContext(ctx, addr) }}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+listen+path, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", path, resp.Status)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	dir := os.TempDir()
	if _, err := os.Stat("/run/lab"); err == nil {
		dir = "/run/lab"
	}
	file := filepath.Join(dir, name)
	return file, os.WriteFile(file, b, 0o644)
}
