//go:build lab

package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
)

// lsrd's RIB follows the kernel: an address or route added or removed behind
// its back shows in /v1/rib within moments.
func TestLSRDFollowsKernelChanges(t *testing.T) {
	lab := topo.New(t)
	r1, r2 := lab.Router("r1"), lab.Router("r2")
	lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	r1.AddLoopback("1.1.1.1/32")
	l := r1.StartLSRD("router-id: 1.1.1.1\n")
	has := func(prefix string) (bool, error) {
		var routes []struct {
			Prefix string `json:"prefix"`
		}
		if err := l.Get("/v1/rib", &routes); err != nil {
			return false, err
		}
		for _, r := range routes {
			if r.Prefix == prefix {
				return true, nil
			}
		}
		return false, nil
	}
	wait := func(prefix string, want bool) {
		t.Helper()
		topo.Eventually(t, 10*time.Second, fmt.Sprintf("%s in lsrd's RIB: %v", prefix, want), func() error {
			got, err := has(prefix)
			if err != nil {
				return err
			}
			if got != want {
				return fmt.Errorf("present: %v", got)
			}
			return nil
		})
	}
	wait("1.1.1.1/32", true)
	r1.Run("ip", "route", "add", "5.5.5.0/24", "via", "10.0.0.2")
	wait("5.5.5.0/24", true)
	r1.AddLoopback("1.1.1.10/32")
	wait("1.1.1.10/32", true)
	r1.Run("ip", "addr", "del", "1.1.1.10/32", "dev", "lo")
	wait("1.1.1.10/32", false)
	r1.Run("ip", "route", "del", "5.5.5.0/24")
	wait("5.5.5.0/24", false)
}

// The metrics endpoint answers Prometheus scrapes with lsrd's build info and
// the process and Go collectors.
func TestLSRDServesMetrics(t *testing.T) {
	lab := topo.New(t)
	r1 := lab.Router("r1")
	r1.AddLoopback("1.1.1.1/32")
	l := r1.StartLSRD("router-id: 1.1.1.1\nmetrics:\n  listen: 127.0.0.1:9642\n")
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
		return r1.DialContext(ctx, addr)
	}}}
	var body string
	topo.Eventually(t, 10*time.Second, "lsrd's /metrics", func() error {
		resp, err := client.Get("http://127.0.0.1:9642/metrics")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		body = string(b)
		return err
	})
	for _, want := range []string{"lsrd_build_info{", "process_resident_memory_bytes", "go_goroutines"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := client.Get("http://127.0.0.1:9642" + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// Profiles only when asked for.
	if code, _ := get("/debug/pprof/heap?debug=1"); code != http.StatusNotFound {
		t.Errorf("/debug/pprof/heap without metrics.pprof: status %d, want 404", code)
	}
	if err := l.Reload("router-id: 1.1.1.1\nmetrics:\n  listen: 127.0.0.1:9642\n  pprof: true\n"); err == nil {
		t.Error("a reload switched pprof on; the metrics server is set up at start")
	}
	l.Stop()
	r1.StartLSRD("router-id: 1.1.1.1\nmetrics:\n  listen: 127.0.0.1:9642\n  pprof: true\n")
	topo.Eventually(t, 10*time.Second, "lsrd's heap profile", func() error {
		// Not get: its t.Fatal would end the wait at the first refused
		// connection, before the new lsrd listens.
		resp, err := client.Get("http://127.0.0.1:9642/debug/pprof/heap?debug=1")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "heap profile") {
			return fmt.Errorf("status %d: %.80q", resp.StatusCode, b)
		}
		return nil
	})
}
