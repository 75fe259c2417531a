//go:build lab

package e2e

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
)

// benchSize is a benchmark's size: $env, def by default.
func benchSize(t *testing.T, env string, def int) int {
	n := def
	if s := os.Getenv(env); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", env, s)
		}
	}
	return n
}

// benchAddr is the i-th FEC's address, in 100.64.0.0/10.
func benchAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{100, byte(64 + i>>16), byte(i >> 8), byte(i)})
}

// TestBenchLDPExchange measures, in one lab run, how long N FECs take to be
// fully exchanged over one LDP session: the egress (FRR) advertises N
// implicit-null mappings, the router under test (lsrd, then FRR as the
// reference) learns routes to them from the kernel, and the exchange is done
// when each side holds the other's N labels. It is a benchmark, not a test:
// it runs only with LSRD_BENCH=1 (make bench).
func TestBenchLDPExchange(t *testing.T) {
	if os.Getenv("LSRD_BENCH") != "1" {
		t.Skip("benchmark: set LSRD_BENCH=1 (make bench)")
	}
	n := benchSize(t, "LSRD_BENCH_FECS", 10000)
	type result struct {
		name    string
		elapsed time.Duration
		rssKB   int
		err     error
	}
	var results []result
	for _, dut := range []string{"lsrd", "frr"} {
		t.Run(dut, func(t *testing.T) {
			elapsed, rss, err := exchange(t, dut, n, 10*time.Minute)
			results = append(results, result{dut, elapsed, rss, err})
		})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "LDP exchange of %d FECs over one session (kernel lab, software emulation; compare within this run only)\n", n)
	fmt.Fprintf(&b, "%-6s %14s %16s\n", "router", "time", "resident memory")
	for _, r := range results {
		if r.err != nil {
			fmt.Fprintf(&b, "%-6s %14s %16s   (%v)\n", r.name, "did not finish", "-", r.err)
			continue
		}
		fmt.Fprintf(&b, "%-6s %13.1fs %13d kB\n", r.name, r.elapsed.Seconds(), r.rssKB)
	}
	t.Log("\n" + b.String())
	fmt.Print(b.String())
}

// exchange builds r1 (FRR, egress for n /32s on its loopback) and r2 (the
// router under test, with kernel routes to them) and returns the time from
// starting r2's LDP until both sides hold n labels from the other, and r2's
// LDP resident memory then.
func exchange(t *testing.T, dut string, n int, limit time.Duration) (time.Duration, int, error) {
	lab := topo.New(t)
	r1, r2 := lab.Router("r1"), lab.Router("r2")
	if1, if2 := lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	r1.AddLoopback("1.1.1.1/32")
	r2.AddLoopback("2.2.2.2/32")
	r1.EnableMPLS(if1, "lo")
	r2.EnableMPLS(if2, "lo")
	dir := t.TempDir()
	var addrs, routes strings.Builder
	for i := range n {
		fmt.Fprintf(&addrs, "addr add %s/32 dev lo\n", benchAddr(i))
		fmt.Fprintf(&routes, "route add %s/32 via 10.0.0.1\n", benchAddr(i))
	}
	fmt.Fprintf(&routes, "route add 1.1.1.1/32 via 10.0.0.1\n")
	for name, body := range map[string]string{"addrs": addrs.String(), "routes": routes.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r1.Run("ip", "-batch", filepath.Join(dir, "addrs"))
	r2.Run("ip", "-batch", filepath.Join(dir, "routes"))
	f1 := r1.StartFRR(topo.FRRConfig{RouterID: "1.1.1.1", Static: []string{"2.2.2.2/32 10.0.0.2"},
		LDP: &topo.FRRLDP{Interfaces: []string{if1}}})

	start := time.Now()
	var dutDone func() (int, error)
	var rss func() int
	switch dut {
	case "lsrd":
		l := r2.StartLSRD(fmt.Sprintf("router-id: 2.2.2.2\nlog-level: warn\nldp:\n  interfaces:\n    - name: %s\n", if2))
		dutDone = func() (int, error) {
			bs, err := lsrdBindings(l)
			c := 0
			for fec, b := range bs {
				if p, perr := netip.ParsePrefix(fec); perr != nil || !benchPrefix.Contains(p.Addr()) {
					continue
				}
				for _, r := range b.Remote {
					if r.Peer.String() == "1.1.1.1" {
						c++
					}
				}
			}
			return c, err
		}
		rss = func() int { return residentKB(r2, "lsrd") }
	case "frr":
		f2 := r2.StartFRR(topo.FRRConfig{RouterID: "2.2.2.2", LDP: &topo.FRRLDP{Interfaces: []string{if2}}})
		dutDone = func() (int, error) { return remoteLabels(f2, "1.1.1.1") }
		rss = func() int { return residentKB(r2, "zebra") + residentKB(r2, "ldpd") }
	}
	deadline := start.Add(limit)
	for {
		got, err := dutDone()
		if err == nil && got >= n {
			back, err := remoteLabels(f1, "2.2.2.2")
			if err == nil && back >= n {
				return time.Since(start), rss(), nil
			}
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("not done within %s (router under test holds %d labels, err %v)", limit, got, err)
		}
		time.Sleep(time.Second)
	}
}

// benchPrefix holds every benchmark FEC.
var benchPrefix = netip.MustParsePrefix("100.64.0.0/10")

// remoteLabels counts the labels an FRR router holds from one neighbour for
// benchmark FECs.
func remoteLabels(f *topo.FRR, peer string) (int, error) {
	bs, err := f.LDPBindings()
	if err != nil {
		return 0, err
	}
	c := 0
	for _, b := range bs {
		p, err := netip.ParsePrefix(b.Prefix)
		if err != nil || !benchPrefix.Contains(p.Addr()) {
			continue
		}
		if _, ok := topo.FRRLabel(b.RemoteLabel); ok && b.NeighborID == peer {
			c++
		}
	}
	return c, nil
}

// residentKB sums VmRSS of the router's processes named comm. (It read
// pgrep's answer once, which in the guest's one PID namespace counted r1's
// FRR beside r2's.)
func residentKB(r *topo.Router, comm string) int {
	kb, _ := r.ResidentKB(comm)
	return kb
}
