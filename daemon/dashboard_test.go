package daemon

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/bgp"
	"github.com/lsrd/lsrd/ldp"
	"github.com/lsrd/lsrd/ldp/lib"
	"github.com/lsrd/lsrd/ldp/wire"
	"github.com/lsrd/lsrd/metrics"
	"github.com/lsrd/lsrd/netlinkfib"
	"github.com/lsrd/lsrd/oam"
	"github.com/lsrd/lsrd/rib"
	"github.com/lsrd/lsrd/zerotier"
)

const dashboardFile = "../docs/grafana/lsrd-dashboard.json"

// Every query of the Grafana dashboard names only metrics lsrd really
// exports: the names are checked against a registry built as the daemon
// builds it, with the real collectors fed a populated snapshot and a real
// BGP speaker with a neighbour.
func TestDashboardUsesExportedMetrics(t *testing.T) {
	exported := exportedNames(t)
	exprs, vars := dashboardQueries(t)
	if len(exprs) < 20 {
		t.Fatalf("the dashboard has %d queries; it should have one per panel (at least 20)", len(exprs))
	}
	used := map[string]bool{}
	for _, e := range exprs {
		names := promqlMetricNames(e)
		if len(names) == 0 {
			t.Errorf("query %q names no metric", e)
		}
		for _, n := range names {
			used[n] = true
			used[strings.TrimSuffix(n, "_bucket")] = true
			if !exported[n] {
				t.Errorf("query %q uses %s, which lsrd does not export", e, n)
			}
		}
	}
	for _, v := range vars {
		m := regexp.MustCompile(`^label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*),`).FindStringSubmatch(v)
		if m == nil || !exported[m[1]] {
			t.Errorf("variable query %q does not name an exported metric", v)
		}
	}
	// The NOC's panels of the issue are all there.
	for _, n := range []string{"lsrd_ldp_sessions", "lsrd_ldp_session_flaps_total", "lsrd_ldp_adjacencies",
		"lsrd_ldp_labels_in_use", "lsrd_ldp_label_range_size", "lsrd_lfib_entries", "lsrd_ftn_entries",
		"lsrd_kernel_operations_total", "lsrd_kernel_operation_duration_seconds", "lsrd_kernel_errors_total",
		"lsrd_kernel_resyncs_total", "lsrd_rib_routes", "lsrd_bgp_peer_state", "lsrd_bgp_routes", "lsrd_config_reloads_total"} {
		if !used[n] {
			t.Errorf("no panel shows %s", n)
		}
	}
}

// exportedNames gathers the registry lsrd serves, populated so that every
// family has samples, and returns the names PromQL can use: histograms by
// their base name and their _bucket, _sum and _count series.
func exportedNames(t *testing.T) map[string]bool {
	t.Helper()
	m := populatedMetricSet(t)
	mfs, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, mf := range mfs {
		if len(mf.GetMetric()) == 0 {
			continue
		}
		out[mf.GetName()] = true
		if typ := mf.GetType().String(); typ == "HISTOGRAM" || typ == "SUMMARY" {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				out[mf.GetName()+s] = true
			}
		}
	}
	for _, n := range []string{"lsrd_build_info", "lsrd_ldp_session_state", "lsrd_kernel_operation_duration_seconds_bucket", "lsrd_bgp_peer_state"} {
		if !out[n] {
			t.Fatalf("the registry does not export %s: the test's registry is not lsrd's", n)
		}
	}
	return out
}

func populatedSnapshot() metrics.Snapshot {
	a := netip.MustParseAddr
	now := time.Now()
	return metrics.Snapshot{
		Time: now,
		Neighbors: []ldp.NeighborInfo{{LSRID: a("2.2.2.2"), State: "OPERATIONAL", Since: now.Add(-time.Minute),
			KeepAlive: 180 * time.Second, KeepaliveInterval: time.Minute, MaxPDU: 4096, ProtocolVersion: 1,
			Adjacencies: []ldp.AdjacencyInfo{{Interface: "zt0"}}}},
		Counters: ldp.Counters{
			Peers: []ldp.PeerCounters{{LSRID: a("2.2.2.2"), Flaps: 1,
				Sent:                  map[wire.MsgType]uint64{wire.MsgLabelMapping: 1},
				Received:              map[wire.MsgType]uint64{wire.MsgLabelMapping: 1},
				NotificationsSent:     map[wire.StatusCode]uint64{wire.StatusShutdown: 1},
				NotificationsReceived: map[wire.StatusCode]uint64{wire.StatusShutdown: 1}}},
			Hellos: []ldp.HelloCounters{{Interface: "zt0", Sent: 1, Received: 1}},
		},
		LIB:    lib.Stats{LabelsInUse: 1, LabelRange: 100, LocalBindings: 1, RemoteBindings: 1, FECs: 1},
		LFIB:   1,
		FTN:    1,
		Kernel: netlinkfib.Status{Labels: 1, Prefixes: 1},
		RIB:    map[rib.Source]int{rib.SourceBGP: 1},
	}
}

// dashboardQueries returns the PromQL of every panel (rows' nested panels
// included) and the queries of the template variables.
func dashboardQueries(t *testing.T) (exprs, vars []string) {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	type panel struct {
		Title   string `json:"title"`
		Type    string `json:"type"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
		Panels []json.RawMessage `json:"panels"`
	}
	var d struct {
		Panels     []json.RawMessage `json:"panels"`
		Templating struct {
			List []struct {
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var walk func([]json.RawMessage)
	walk = func(ps []json.RawMessage) {
		for _, raw := range ps {
			var p panel
			if err := json.Unmarshal(raw, &p); err != nil {
				t.Fatalf("%s: panel: %v", dashboardFile, err)
			}
			if p.Type != "row" && len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for _, tg := range p.Targets {
				exprs = append(exprs, tg.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			var s string
			if json.Unmarshal(v.Query, &s) != nil {
				t.Fatalf("variable query %s", v.Query)
			}
			q.Query = s
		}
		vars = append(vars, q.Query)
	}
	return exprs, vars
}

// promqlKeywords are PromQL's binary operators and modifiers that read as
// identifiers.
var promqlKeywords = []string{"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
	"group_right", "bool", "offset", "inf", "nan", "atan2"}

// promqlMetricNames returns the metric names a PromQL expression selects
// (Grafana's $variables allowed): identifiers that are not functions or
// aggregations (followed by "(" or by by/without), keywords, label names
// (in {...} and in by/on/... lists), durations ([...]) or strings.
func promqlMetricNames(expr string) []string {
	var names []string
	isIdent := func(c byte, first bool) bool {
		return c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9')
	}
	// next returns the next non-space position from i.
	next := func(i int) int {
		for i < len(expr) && strings.ContainsRune(" \t\n", rune(expr[i])) {
			i++
		}
		return i
	}
	// skip returns the position after the group opened at i by open.
	skip := func(i int, open, close byte) int {
		depth := 0
		for ; i < len(expr); i++ {
			switch expr[i] {
			case '"', '\'', '`':
				q := expr[i]
				for i++; i < len(expr) && expr[i] != q; i++ {
					if expr[i] == '\\' {
						i++
					}
				}
			case open:
				depth++
			case close:
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '{':
			i = skip(i, '{', '}')
		case c == '[':
			i = skip(i, '[', ']')
		case c == '"' || c == '\'' || c == '`':
			// a string outside braces: label_replace's arguments
			for i++; i < len(expr) && expr[i] != c; i++ {
				if expr[i] == '\\' {
					i++
				}
			}
			i++
		case c == '$':
			i++
			if i < len(expr) && expr[i] == '{' {
				i = skip(i, '{', '}')
			}
			for i < len(expr) && isIdent(expr[i], false) {
				i++
			}
		case c >= '0' && c <= '9' || c == '.':
			for i < len(expr) && (isIdent(expr[i], false) || expr[i] == '.') {
				i++ // numbers, 1e3, and durations such as 5m after offset
			}
		case isIdent(c, true):
			j := i
			for j < len(expr) && isIdent(expr[j], false) {
				j++
			}
			word := expr[i:j]
			k := next(j)
			switch {
			case slices.Contains(promqlKeywords, strings.ToLower(word)):
				if slices.Contains([]string{"by", "without", "on", "ignoring", "group_left", "group_right"}, strings.ToLower(word)) &&
					k < len(expr) && expr[k] == '(' {
					j = skip(k, '(', ')') // label names
				}
			case k < len(expr) && expr[k] == '(':
				// a function or an aggregation
			case slices.Contains([]string{"by", "without"}, nextWord(expr[k:])):
				// an aggregation with its grouping first: sum by (le) (...)
			default:
				names = append(names, word)
			}
			i = j
		default:
			i++
		}
	}
	return names
}

func nextWord(s string) string {
	i := 0
	for i < len(s) && (s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')) {
		i++
	}
	return strings.ToLower(s[:i])
}

func TestPromQLMetricNames(t *testing.T) {
	for _, c := range []struct {
		expr string
		want []string
	}{
		{`up`, []string{"up"}},
		{`lsrd_ldp_sessions{state="OPERATIONAL",instance=~"$instance"}`, []string{"lsrd_ldp_sessions"}},
		{`sum by (instance, peer) (increase(lsrd_ldp_session_flaps_total{instance=~"$instance"}[$__rate_interval]))`, []string{"lsrd_ldp_session_flaps_total"}},
		{`histogram_quantile(0.99, sum(rate(x_bucket[5m])) by (le))`, []string{"x_bucket"}},
		{`100 * a / on (instance) group_left (peer) b offset 1h > bool 3`, []string{"a", "b"}},
		{`count without (le) (rate(c_total[1m:10s])) or vector(0)`, []string{"c_total"}},
		{`label_replace(m, "dst", "$1", "src", "(.*)") + n`, []string{"m", "n"}},
		{`sum(rate(y[5m] offset 1d)) / 2e3 - z`, []string{"y", "z"}},
		{`max by (instance, peer, state) (s{a="{b}"}) == 1 and ignoring(x) t`, []string{"s", "t"}},
	} {
		if got := promqlMetricNames(c.expr); !slices.Equal(got, c.want) {
			t.Errorf("promqlMetricNames(%q) = %q, want %q", c.expr, got, c.want)
		}
	}
}

// Every family lsrd exports passes Prometheus's linter (promtool check
// metrics runs the same rules), populated as in exportedNames.
func TestMetricsLint(t *testing.T) {
	m := populatedMetricSet(t)
	m.reg.MustRegister(metrics.NewZeroTierCollector(func() api.ZeroTierView {
		return api.ZeroTierView{Enabled: true, Reachable: true, Node: &api.ZeroTierNode{PlanetWorldID: 1, PlanetExpected: true},
			Networks: []api.ZeroTierNetworkView{{ID: "8056c2e21c123456", Status: "OK", Device: "ztmjfnbvsk", MTU: 2800,
				LDPInterface: "ztmjfnbvsk", Probes: []zerotier.Probe{{Neighbor: "2.2.2.2", IP: true, Labelled: true}}}}}
	}))
	m.reg.MustRegister(metrics.NewLSPPingCollector(func() (oam.Stats, bool) { return oam.Stats{RequestsAnswered: 1}, true }))
	problems, err := testutil.GatherAndLint(m.reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// populatedMetricSet is lsrd's metric set with every family given samples:
// kernel operations, a reload, a BGP speaker with a neighbour (stopped when
// the test ends) and a populated snapshot.
func populatedMetricSet(t *testing.T) *metricSet {
	t.Helper()
	m := newMetricSet("test", time.Now())
	m.kernel.Operation("label_add", "ok", time.Millisecond)
	m.kernel.Resync()
	m.kernel.Error("refused")
	m.reloads.Record(nil, time.Now())
	sp, err := bgp.New(bgp.Config{AS: 65001, RouterID: netip.MustParseAddr("1.1.1.1"), ListenPort: -1,
		Neighbors: []bgp.Neighbor{{Address: netip.MustParseAddr("192.0.2.1"), RemoteAS: 65002}}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sp.Stop)
	m.export(func(context.Context) (metrics.Snapshot, error) { return populatedSnapshot(), nil }, sp)
	return m
}
