package topo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// prometheusAddr is where a lab Prometheus serves its API, on its router's
// loopback.
const prometheusAddr = "127.0.0.1:9090"

// Prometheus is a Prometheus server (Debian's prometheus package) running in
// a lab router, scraping targets every second, queried through its HTTP API.
type Prometheus struct {
	r      *Router
	proc   *process
	client *http.Client
}

// StartPrometheus starts Prometheus in the router with one scrape job named
// job for targets (host:port, reached from the router's namespace), scraped
// every second. It is stopped when the test ends, and its log printed if the
// test failed.
func (r *Router) StartPrometheus(job string, targets ...string) *Prometheus {
	t := r.lab.t
	t.Helper()
	dir := t.TempDir()
	var quoted []string
	for _, tg := range targets {
		quoted = append(quoted, strconv.Quote(tg))
	}
	conf := filepath.Join(dir, "prometheus.yml")
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"+
		"scrape_configs:\n  - job_name: %s\n    static_configs:\n      - targets: [%s]\n", job, strings.Join(quoted, ", "))
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatalf("topo: %s: %v", r.Name, err)
	}
	p := &Prometheus{r: r}
	var err error
	p.proc, err = r.startProcess("prometheus", filepath.Join(dir, "prometheus.log"), "prometheus",
		"--config.file="+conf, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+prometheusAddr)
	if err != nil {
		t.Fatalf("topo: %s: %v (apt-get install prometheus)", r.Name, err)
	}
	p.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) { return r.DialContext(ctx, addr) },
	}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("topo: %s: prometheus log:\n%s", r.Name, p.proc.logText())
		}
		p.Stop()
	})
	Eventually(t, 60*time.Second, r.Name+": prometheus ready", func() error {
		if err := p.proc.exited(); err != nil {
			return err
		}
		resp, err := p.client.Get("http://" + prometheusAddr + "/-/ready")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/-/ready: %s", resp.Status)
		}
		return nil
	})
	return p
}

// Stop stops Prometheus (SIGTERM, SIGKILL after 10 s).
func (p *Prometheus) Stop() { p.proc.stop(10 * time.Second) }

// Sample is one element of an instant vector.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Query evaluates a PromQL expression now and returns the instant vector
// (a scalar comes back as one sample without labels). Errors carry
// Prometheus's own message, such as a parse error.
func (p *Prometheus) Query(expr string) ([]Sample, error) {
	resp, err := p.client.Get("http://" + prometheusAddr + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		return nil, fmt.Errorf("prometheus query %q: %w", expr, err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("prometheus query %q: %w", expr, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("prometheus query %q: %s", expr, body.Error)
	}
	value := func(v [2]any) (float64, error) {
		s, ok := v[1].(string)
		if !ok {
			return 0, errors.New("value is not a string")
		}
		return strconv.ParseFloat(s, 64)
	}
	switch body.Data.ResultType {
	case "vector":
		var vs []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal(body.Data.Result, &vs); err != nil {
			return nil, fmt.Errorf("prometheus query %q: %w", expr, err)
		}
		var out []Sample
		for _, v := range vs {
			f, err := value(v.Value)
			if err != nil {
				return nil, fmt.Errorf("prometheus query %q: %w", expr, err)
			}
			out = append(out, Sample{Labels: v.Metric, Value: f})
		}
		return out, nil
	case "scalar":
		var v [2]any
		if err := json.Unmarshal(body.Data.Result, &v); err != nil {
			return nil, fmt.Errorf("prometheus query %q: %w", expr, err)
		}
		f, err := value(v)
		if err != nil {
			return nil, fmt.Errorf("prometheus query %q: %w", expr, err)
		}
		return []Sample{{Value: f}}, nil
	}
	return nil, fmt.Errorf("prometheus query %q: result type %s", expr, body.Data.ResultType)
}

// QueryValue evaluates an expression that must give exactly one sample and
// returns its value.
func (p *Prometheus) QueryValue(expr string) (float64, error) {
	s, err := p.Query(expr)
	if err != nil {
		return 0, err
	}
	if len(s) != 1 {
		return 0, fmt.Errorf("prometheus query %q: %d samples %v, want 1", expr, len(s), s)
	}
	return s[0].Value, nil
}
