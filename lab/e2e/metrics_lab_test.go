//go:build lab

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
// returns data.
func TestPrometheusScrapesLSRD(t *testing.T) {
	bin := lsrctlBinary(t)
	c := newChain(t)
	c.r1.EnableMPLS(c.a1, "lo")
	c.r3.EnableMPLS(c.b3, "lo")
	c.r1.StartFRR(topo.FRRConfig{RouterID: "1.1.1.1",
		Static: []string{"2.2.2.2/32 10.1.0.2", "3.3.3.3/32 10.1.0.2"},
		LDP:    &topo.FRRLDP{Interfaces: []string{c.a1}}})
	l2 := c.r2.StartLSRD(lsrdConfig("2.2.2.2", []string{c.a2, c.b2}, "1.1.1.1/32 10.1.0.1", "3.3.3.3/32 10.2.0.3") +
		"metrics:\n  listen: " + metricsListen + "\n")
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
			// BGP is not configured here: GoBGP's metrics are absent.
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
