//go:build lab

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/lab/topo"
	"github.com/lsrd/lsrd/ldp/lib"
)

// metricsListen is where the lsrd under test serves /metrics, on its
// router's loopback.
const metricsListen = "127.0.0.1:9642"

// A real Prometheus scrapes lsrd between two FRR LDP peers: PromQL sees both
// sessions OPERATIONAL, the label bindings and LFIB lsrd's control API
// reports, kernel operations with their latency histogram, and a session
// cleared by the operator in the flap counter of that peer only. Every query
// of the Grafana dashboard is accepted by Prometheus's own parser and
// returns data, and so are the queries and alerts of docs/operations.md.
func TestPrometheusScrapesLSRD(t *testing.T) {
	bin := lsrctlBinary(t)
	c := newChain(t)
	c.r1.EnableMPLS(c.a1, "lo")
	c.r3.EnableMPLS(c.b3, "lo")
	c.r1.StartFRR(topo.FRRConfig{RouterID: "1.1.1.1",
		Static: []string{"2.2.2.2/32 10.1.0.2", "3.3.3.3/32 10.1.0.2"},
		LDP:    &topo.FRRLDP{Interfaces: []string{c.a1}}})
	l2conf := lsrdConfig("2.2.2.2", []string{c.a2, c.b2}, "1.1.1.1/32 10.1.0.1", "3.3.3.3/32 10.2.0.3") +
		"metrics:\n  listen: " + metricsListen + "\n"
	l2 := c.r2.StartLSRD(l2conf)
	c.r3.StartFRR(topo.FRRConfig{RouterID: "3.3.3.3",
		Static: []string{"1.1.1.1/32 10.2.0.2", "2.2.2.2/32 10.2.0.2"},
		LDP:    &topo.FRRLDP{Interfaces: []string{c.b3}}})
	prom := c.r2.StartPrometheus("lsrd", metricsListen)

	topo.Eventually(t, 30*time.Second, "prometheus scrapes lsrd", func() error {
		v, err := prom.QueryValue(`up{job="lsrd"}`)
		if err == nil && v != 1 {
			err = fmt.Errorf("up = %v", v)
		}
		return err
	})
	topo.Eventually(t, 120*time.Second, "PromQL: two sessions OPERATIONAL", func() error {
		v, err := prom.QueryValue(`lsrd_ldp_sessions{state="OPERATIONAL"}`)
		if err == nil && v != 2 {
			err = fmt.Errorf("lsrd_ldp_sessions{state=\"OPERATIONAL\"} = %v", v)
		}
		if err != nil {
			return err
		}
		s, err := prom.Query(`lsrd_ldp_session_state{state="OPERATIONAL"} == 1`)
		if err == nil && (len(s) != 2 || !hasPeers(s, "1.1.1.1", "3.3.3.3")) {
			err = fmt.Errorf("OPERATIONAL peers: %v", s)
		}
		return err
	})
	// Each peer's labels for all three loopbacks reached lsrd (FRR learns
	// the far loopback only once its next hop's session is up).
	topo.Eventually(t, 60*time.Second, "lsrd holds both peers' labels for every loopback", func() error {
		bs, err := lsrdBindings(l2)
		if err != nil {
			return err
		}
		for _, fec := range []string{"1.1.1.1/32", "2.2.2.2/32", "3.3.3.3/32"} {
			if n := len(bs[fec].Remote); n != 2 || !bs[fec].HasLocal {
				return fmt.Errorf("%s: %+v", fec, bs[fec])
			}
		}
		return nil
	})

	t.Run("labels match the control API", func(t *testing.T) {
		// The scrape trails the API by up to a second: compare until both
		// agree on the same state.
		topo.Eventually(t, 30*time.Second, "PromQL label and LFIB counts equal the control API's", func() error {
			var bs []lib.Binding
			if err := l2.Get("/v1/ldp/bindings", &bs); err != nil {
				return err
			}
			var local, remote int
			for _, b := range bs {
				if b.HasLocal {
					local++
				}
				remote += len(b.Remote)
			}
			var tv api.TableView
			if err := l2.Get("/v1/lfib", &tv); err != nil {
				return err
			}
			var st lib.Stats
			if err := l2.Get("/v1/ldp/stats", &st); err != nil {
				return err
			}
			for expr, want := range map[string]float64{
				`lsrd_ldp_label_bindings{kind="local"}`:  float64(local),
				`lsrd_ldp_label_bindings{kind="remote"}`: float64(remote),
				`lsrd_lfib_entries`:                      float64(len(tv.LFIB)),
				`lsrd_ftn_entries`:                       float64(len(tv.FTN)),
				`lsrd_ldp_labels_in_use`:                 float64(st.LabelsInUse),
				`lsrd_ldp_label_range_size`:              float64(st.LabelRange),
			} {
				got, err := prom.QueryValue(expr)
				if err != nil {
					return err
				}
				if got != want {
					return fmt.Errorf("%s = %v, the control API says %v", expr, got, want)
				}
			}
			if remote < 6 {
				return fmt.Errorf("the control API shows %d remote bindings, want at least 6 (3 loopbacks from 2 peers)", remote)
			}
			t.Logf("PromQL and the control API agree: %d local and %d remote bindings, %d LFIB and %d FTN entries",
				local, remote, len(tv.LFIB), len(tv.FTN))
			return nil
		})
		got, err := prom.QueryValue(`sum(lsrd_ldp_messages_total{peer="1.1.1.1",type="label_mapping",direction="received"})`)
		if err != nil || got < 3 {
			t.Errorf("Label Mappings received from 1.1.1.1: %v, %v; want at least 3", got, err)
		}
		got, err = prom.QueryValue(`sum(lsrd_ldp_adjacencies{type="link"})`)
		if err != nil || got != 2 {
			t.Errorf("link adjacencies: %v, %v; want 2", got, err)
		}
	})

	t.Run("kernel operations", func(t *testing.T) {
		topo.Eventually(t, 15*time.Second, "kernel operation metrics", func() error {
			ok, err := prom.QueryValue(`sum(lsrd_kernel_operations_total{result="ok"})`)
			if err != nil {
				return err
			}
			n, err := prom.QueryValue(`sum(lsrd_kernel_operation_duration_seconds_count)`)
			if err != nil {
				return err
			}
			inf, err := prom.QueryValue(`sum(lsrd_kernel_operation_duration_seconds_bucket{le="+Inf"})`)
			if err != nil {
				return err
			}
			sum, err := prom.QueryValue(`sum(lsrd_kernel_operation_duration_seconds_sum)`)
			if err != nil {
				return err
			}
			all, err := prom.QueryValue(`sum(lsrd_kernel_operations_total)`)
			if err != nil {
				return err
			}
			// Every operation is observed once in the histogram, and took time.
			if ok < 1 || n != all || inf != n || sum <= 0 {
				return fmt.Errorf("operations ok %v, all %v; histogram count %v, +Inf bucket %v, sum %v", ok, all, n, inf, sum)
			}
			t.Logf("%v kernel operations, %v ok, %.6f s in total", all, ok, sum)
			return nil
		})
		if v, err := prom.QueryValue(`lsrd_kernel_resyncs_total`); err != nil || v < 1 {
			t.Errorf("lsrd_kernel_resyncs_total = %v, %v; want at least the first pass's", v, err)
		}
	})

	t.Run("flap", func(t *testing.T) {
		flaps := func(peer string) (float64, error) {
			return prom.QueryValue(fmt.Sprintf(`lsrd_ldp_session_flaps_total{peer=%q}`, peer))
		}
		before1, err := flaps("1.1.1.1")
		if err != nil {
			t.Fatal(err)
		}
		before3, err := flaps("3.3.3.3")
		if err != nil {
			t.Fatal(err)
		}
		lsrctlIn(t, bin, c.r2, l2, "clear", "ldp", "neighbor", "1.1.1.1").ok(t, "clear ldp neighbor 1.1.1.1")
		topo.Eventually(t, 30*time.Second, "the flap in lsrd_ldp_session_flaps_total", func() error {
			v, err := flaps("1.1.1.1")
			if err == nil && v != before1+1 {
				err = fmt.Errorf("flaps of 1.1.1.1: %v, before the clear %v", v, before1)
			}
			return err
		})
		inc, err := prom.QueryValue(`increase(lsrd_ldp_session_flaps_total{peer="1.1.1.1"}[2m])`)
		if err != nil || inc < 1 {
			t.Errorf("increase(lsrd_ldp_session_flaps_total{peer=\"1.1.1.1\"}[2m]) = %v, %v; want at least 1", inc, err)
		}
		if v, err := flaps("3.3.3.3"); err != nil || v != before3 {
			t.Errorf("flaps of 3.3.3.3: %v, %v; want %v (untouched)", v, err, before3)
		}
		sent, err := prom.QueryValue(`lsrd_ldp_notifications_total{peer="1.1.1.1",status="shutdown",direction="sent"}`)
		if err != nil || sent < 1 {
			t.Errorf("Shutdown notifications sent to 1.1.1.1: %v, %v; want at least 1", sent, err)
		}
		topo.Eventually(t, 120*time.Second, "the session with 1.1.1.1 back in PromQL", func() error {
			v, err := prom.QueryValue(`lsrd_ldp_session_state{peer="1.1.1.1",state="OPERATIONAL"}`)
			if err == nil && v != 1 {
				err = fmt.Errorf("1.1.1.1 OPERATIONAL = %v", v)
			}
			return err
		})
	})

	t.Run("dashboard", func(t *testing.T) {
		exprs := dashboardExprs(t)
		topo.Eventually(t, 30*time.Second, "every dashboard query returns data", func() error {
			var empty []string
			for _, e := range exprs {
				s, err := prom.Query(e)
				if err != nil {
					return err // Prometheus refused it: fail with its parse error
				}
				if len(s) == 0 {
					empty = append(empty, e)
				}
			}
			// BGP is not configured here: lsrd_bgp_* are absent.
			var unexpected []string
			for _, e := range empty {
				if !strings.Contains(e, "bgp_") && !strings.Contains(e, "> 0") && !strings.Contains(e, "== 1") {
					unexpected = append(unexpected, e)
				}
			}
			if len(unexpected) > 0 {
				return fmt.Errorf("queries without data: %q", unexpected)
			}
			return nil
		})
	})

	t.Run("memory at rest", func(t *testing.T) {
		// Once its work has settled, lsrd runs at the idle collector
		// target (default 25) and has returned its freed memory at least
		// once; a reload moves the target.
		atRest := func(percent float64) func() error {
			return func() error {
				for q, want := range map[string]float64{`lsrd_memory_idle`: 1, `lsrd_memory_gc_percent`: percent, `lsrd_memory_returns_total >= bool 1`: 1} {
					v, err := prom.QueryValue(q)
					if err != nil {
						return err
					}
					if v != want {
						return fmt.Errorf("%s = %v, want %v", q, v, want)
					}
				}
				return nil
			}
		}
		topo.Eventually(t, 60*time.Second, "lsrd at rest at the idle target", atRest(25))
		if err := l2.Reload(l2conf + "memory:\n  gc-percent: 80\n  idle-gc-percent: 10\n"); err != nil {
			t.Fatalf("reload with a memory section: %v", err)
		}
		topo.Eventually(t, 60*time.Second, "the reloaded idle target", atRest(10))
	})

	t.Run("operations.md queries", func(t *testing.T) {
		exprs := docsQueries(t)
		for _, e := range exprs {
			if _, err := prom.Query(e); err != nil {
				t.Errorf("docs/operations.md: %v", err)
			}
		}
		t.Logf("Prometheus accepts the %d queries and alert expressions of docs/operations.md", len(exprs))
	})
}

// docsQueries returns the PromQL of docs/operations.md and the alert rules:
// the lines of its promql block and the expr of every rule.
func docsQueries(t *testing.T) []string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "..", "..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := os.ReadFile(filepath.Join(dir, "..", "..", "docs", "examples", "lsrd-alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	b = append(append(b, '\n'), rules...)
	var out []string
	inPromQL := false
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case line == "```promql":
			inPromQL = true
		case line == "```":
			inPromQL = false
		case inPromQL && line != "" && !strings.HasPrefix(line, "#"):
			out = append(out, line)
		case strings.HasPrefix(strings.TrimSpace(line), "expr: "):
			out = append(out, strings.TrimPrefix(strings.TrimSpace(line), "expr: "))
		}
	}
	if len(out) < 15 {
		t.Fatalf("docs/operations.md: %d queries found", len(out))
	}
	return out
}

// hasPeers reports whether the samples' peer labels are exactly peers.
func hasPeers(s []topo.Sample, peers ...string) bool {
	got := map[string]bool{}
	for _, x := range s {
		got[x.Labels["peer"]] = true
	}
	for _, p := range peers {
		if !got[p] {
			return false
		}
	}
	return len(got) == len(peers)
}

// dashboardExprs reads the Grafana dashboard's queries with its variables
// set as Grafana would for one router over a short range.
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "..", "..", "docs", "grafana", "lsrd-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	var out []string
	r := strings.NewReplacer("$instance", ".*", "$__rate_interval", "1m")
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			out = append(out, r.Replace(tg.Expr))
		}
	}
	if len(out) < 20 {
		t.Fatalf("the dashboard has %d queries", len(out))
	}
	return out
}

// scrape fetches lsrd's /metrics from inside router r and returns each
// sample's value by its series as the text format writes it
// (name{label="value",...}).
func scrape(r *topo.Router, addr string) (map[string]float64, error) {
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, a string) (net.Conn, error) { return r.DialContext(ctx, a) },
	}}
	// Each scrape's connection is closed after it: a kept-alive one would
	// stay open in lsrd (and count among its open files) for good.
	defer c.CloseIdleConnections()
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("/metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}

// find returns the value of the one series of name whose labels include
// every label="value" given, and how many series matched.
func find(samples map[string]float64, name string, labels ...string) (float64, int) {
	var v float64
	n := 0
	for series, x := range samples {
		if series != name && !strings.HasPrefix(series, name+"{") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(series, l)
		}
		if ok {
			v, n = x, n+1
		}
	}
	return v, n
}

// With BGP configured, /metrics carries GoBGP's per-neighbour metrics for a
// real gobgpd peer and lsrd's count of BGP routes in its RIB; reloads are
// counted by result, a refused one included.
func TestMetricsWithBGPAndReloads(t *testing.T) {
	lab := topo.New(t)
	r1, r2 := lab.Router("r1"), lab.Router("r2")
	lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	r1.AddLoopback("1.1.1.1/32")
	g := r2.StartGoBGP(topo.GoBGPConfig{AS: 65002, RouterID: "2.2.2.2",
		Neighbors: []topo.BGPNeighbor{{Address: "10.0.0.1", AS: 65001}}})
	good := "router-id: 1.1.1.1\nbgp:\n  as: 65001\n  neighbors:\n    - address: 10.0.0.2\n      remote-as: 65002\n" +
		"metrics:\n  listen: " + metricsListen + "\n"
	l1 := r1.StartLSRD(good)
	g.WaitEstablished(t, 60*time.Second, "10.0.0.1")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, p := range []string{"198.51.100.0/24", "203.0.113.0/24"} {
		if err := g.AddRoute(ctx, netip.MustParsePrefix(p), netip.MustParseAddr("10.0.0.2")); err != nil {
			t.Fatal(err)
		}
	}

	topo.Eventually(t, 30*time.Second, "BGP in /metrics", func() error {
		m, err := scrape(r1, metricsListen)
		if err != nil {
			return err
		}
		if v, n := find(m, "lsrd_bgp_peer_state", `peer="10.0.0.2"`, `state="established"`); n != 1 || v != 1 {
			return fmt.Errorf("lsrd_bgp_peer_state for 10.0.0.2 established: %d series, value %v", n, v)
		}
		if v, n := find(m, "lsrd_bgp_routes", `peer="10.0.0.2"`, `kind="accepted"`); n != 1 || v != 2 {
			return fmt.Errorf("lsrd_bgp_routes accepted from 10.0.0.2: %d series, value %v; want 2", n, v)
		}
		if v, _ := find(m, "lsrd_rib_routes", `source="bgp"`); v != 2 {
			return fmt.Errorf("lsrd_rib_routes{source=\"bgp\"} = %v, want 2", v)
		}
		return nil
	})
	// Prometheus's own linter on the whole page of a live lsrd with BGP.
	text, err := scrapeIn(r1, metricsListen)
	if err != nil {
		t.Fatal(err)
	}
	lint := exec.Command("promtool", "check", "metrics")
	lint.Stdin = strings.NewReader(text)
	if out, err := lint.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	} else {
		t.Logf("promtool check metrics: clean (%d lines)", strings.Count(text, "\n"))
	}

	reloads := func(wantOK, wantFail, wantLast float64) func() error {
		return func() error {
			m, err := scrape(r1, metricsListen)
			if err != nil {
				return err
			}
			ok, _ := find(m, "lsrd_config_reloads_total", `result="success"`)
			fail, _ := find(m, "lsrd_config_reloads_total", `result="failure"`)
			last, _ := find(m, "lsrd_config_last_reload_successful")
			if ok != wantOK || fail != wantFail || last != wantLast {
				return fmt.Errorf("reloads: %v ok, %v failed, last successful %v; want %v, %v, %v", ok, fail, last, wantOK, wantFail, wantLast)
			}
			return nil
		}
	}
	topo.Eventually(t, 5*time.Second, "no reloads yet", reloads(0, 0, 1))
	cfg, err := os.ReadFile(l1.Config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l1.Config, append(cfg, "no-such-key: 1\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l1.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	topo.Eventually(t, 15*time.Second, "a refused reload counted", reloads(0, 1, 0))
	if err := os.WriteFile(l1.Config, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l1.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	topo.Eventually(t, 15*time.Second, "a good reload counted", reloads(1, 1, 1))
}
