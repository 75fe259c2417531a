package metrics

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestKernel(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	k := NewKernel(reg)
	k.Operation("label_add", "ok", 200*time.Microsecond)
	k.Operation("label_add", "ok", 3*time.Millisecond)
	k.Operation("label_add", "error", 3*time.Millisecond)
	k.Operation("route_replace", "ok", 2*time.Second)
	k.Resync()
	k.Resync()
	k.Error("refused")
	k.Error("resolve")
	k.Error("refused")

	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP lsrd_kernel_operations_total Netlink requests sent to the kernel, by object and operation (kind: label_add, route_replace, nexthop_delete, ...) and result (ok, error).
# TYPE lsrd_kernel_operations_total counter
lsrd_kernel_operations_total{kind="label_add",result="error"} 1
lsrd_kernel_operations_total{kind="label_add",result="ok"} 2
lsrd_kernel_operations_total{kind="route_replace",result="ok"} 1
# HELP lsrd_kernel_resyncs_total Passes that re-read all of lsrd's kernel state (at start, periodically, after a failure, after a change behind lsrd's back).
# TYPE lsrd_kernel_resyncs_total counter
lsrd_kernel_resyncs_total 2
# HELP lsrd_kernel_errors_total Kernel work that failed, by kind: refused (the kernel refused a request), conflict (another protocol's route holds the prefix), resolve (next hop interface missing), read (reading the kernel failed).
# TYPE lsrd_kernel_errors_total counter
lsrd_kernel_errors_total{kind="conflict"} 0
lsrd_kernel_errors_total{kind="read"} 0
lsrd_kernel_errors_total{kind="refused"} 2
lsrd_kernel_errors_total{kind="resolve"} 1
`), "lsrd_kernel_operations_total", "lsrd_kernel_resyncs_total", "lsrd_kernel_errors_total"); err != nil {
		t.Error(err)
	}

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "lsrd_kernel_operation_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			h := m.GetHistogram()
			bucket := func(le float64) uint64 {
				for _, b := range h.GetBucket() {
					if b.GetUpperBound() >= le*0.999 && b.GetUpperBound() <= le*1.001 {
						return b.GetCumulativeCount()
					}
				}
				return 0
			}
			kind := m.GetLabel()[0].GetValue()
			switch kind {
			case "label_add":
				// 0.2 ms, 3 ms and 3 ms: one at or under 0.4 ms, all three
				// under 6.4 ms.
				if h.GetSampleCount() != 3 || bucket(0.0004) != 1 || bucket(0.0064) != 3 {
					t.Errorf("label_add latency: %v", h)
				}
			case "route_replace":
				if h.GetSampleCount() != 1 || h.GetSampleSum() != 2 {
					t.Errorf("route_replace latency: %v", h)
				}
			default:
				t.Errorf("latency of kind %q observed", kind)
			}
		}
		return
	}
	t.Error("lsrd_kernel_operation_duration_seconds not gathered")
}

func TestReloads(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	start := time.Unix(1_700_000_000, 0)
	r := NewReloads(reg, start)
	const head = `
# HELP lsrd_config_last_reload_success_timestamp_seconds When the running configuration was loaded (at start or by the last successful reload), in seconds since the Unix epoch.
# TYPE lsrd_config_last_reload_success_timestamp_seconds gauge
lsrd_config_last_reload_success_timestamp_seconds %s
# HELP lsrd_config_last_reload_successful Whether the last reload attempt succeeded (1) or was refused (0); 1 before any reload.
# TYPE lsrd_config_last_reload_successful gauge
lsrd_config_last_reload_successful %d
# HELP lsrd_config_reloads_total Configuration reloads by result (success, failure); a failed reload changes nothing.
# TYPE lsrd_config_reloads_total counter
lsrd_config_reloads_total{result="failure"} %d
lsrd_config_reloads_total{result="success"} %d
`
	check := func(when string, ts string, ok, failures, successes int) {
		t.Helper()
		want := strings.NewReader(fmt.Sprintf(head, ts, ok, failures, successes))
		if err := testutil.GatherAndCompare(reg, want); err != nil {
			t.Errorf("%s: %v", when, err)
		}
	}
	check("at start", "1.7e+09", 1, 0, 0)
	r.Record(nil, start.Add(10*time.Second))
	check("after a reload", "1.70000001e+09", 1, 0, 1)
	r.Record(errors.New("bad file"), start.Add(20*time.Second))
	check("after a refused reload", "1.70000001e+09", 0, 1, 1)
}
