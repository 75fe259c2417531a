package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Kernel counts what lsrd's kernel layer does: it is the netlinkfib.Observer
// the daemon gives its FIB (netlinkfib.WithObserver).
type Kernel struct {
	ops      *prometheus.CounterVec
	duration *prometheus.HistogramVec
	resyncs  prometheus.Counter
	errors   *prometheus.CounterVec
	passes   *prometheus.HistogramVec
	rides    *prometheus.CounterVec
}

// kernelBuckets span one small batch acknowledged at once (0.1 ms) to a
// chunk of a full table under load (several seconds).
var kernelBuckets = prometheus.ExponentialBuckets(0.0001, 4, 9)

// NewKernel registers lsrd_kernel_operations_total,
// lsrd_kernel_operation_duration_seconds, lsrd_kernel_resyncs_total,
// lsrd_kernel_errors_total, lsrd_kernel_pass_duration_seconds and
// lsrd_kernel_lsp_rides_total with reg.
func NewKernel(reg prometheus.Registerer) *Kernel {
	k := &Kernel{
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "kernel_operations_total",
			Help: "Netlink requests sent to the kernel, by object and operation (kind: label_add, route_replace, nexthop_delete, ...) and result (ok, error).",
		}, []string{"kind", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "kernel_operation_duration_seconds",
			Help:    "Latency of netlink requests, by kind: from sending the pipelined batch that carried a request until the kernel acknowledged the batch.",
			Buckets: kernelBuckets,
		}, []string{"kind"}),
		resyncs: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "kernel_resyncs_total",
			Help: "Passes that re-read all of lsrd's kernel state (at start, periodically, after a failure, after a change behind lsrd's back).",
		}),
		passes: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "kernel_pass_duration_seconds",
			Help:    "Reconcile passes and their duration, by kind: scoped (only the entries that changed were compared) or full (the whole desired table).",
			Buckets: kernelBuckets,
		}, []string{"kind"}),
		rides: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "kernel_lsp_rides_total",
			Help: "LSPs that took new next hops (a new label) while routes rode them (BGP routes over the LSP to their next hop), per address family of the routes, by how the routes followed: in_place (the nexthop object they share was rewritten, no route touched) or per_route (each route compared and moved).",
		}, []string{"how"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "kernel_errors_total",
			Help: "Kernel work that failed, by kind: refused (the kernel refused a request), conflict (another protocol's route holds the prefix), resolve (next hop interface missing), read (reading the kernel failed).",
		}, []string{"kind"}),
	}
	// Every kind of error exists from the start, so that increase() sees
	// the first one.
	for _, kind := range []string{"refused", "conflict", "resolve", "read"} {
		k.errors.WithLabelValues(kind)
	}
	for _, kind := range []string{"scoped", "full"} {
		k.passes.WithLabelValues(kind)
	}
	for _, how := range []string{"in_place", "per_route"} {
		k.rides.WithLabelValues(how)
	}
	reg.MustRegister(k.ops, k.duration, k.resyncs, k.errors, k.passes, k.rides)
	return k
}

// Operation counts one kernel request and observes its latency.
func (k *Kernel) Operation(kind, result string, d time.Duration) {
	k.ops.WithLabelValues(kind, result).Inc()
	k.duration.WithLabelValues(kind).Observe(d.Seconds())
}

// Resync counts a full re-read of the kernel state.
func (k *Kernel) Resync() { k.resyncs.Inc() }

// Pass observes one reconcile pass.
func (k *Kernel) Pass(scoped bool, _ int, d time.Duration) {
	kind := "full"
	if scoped {
		kind = "scoped"
	}
	k.passes.WithLabelValues(kind).Observe(d.Seconds())
}

// Rides counts the LSPs whose riding routes moved in place or route by
// route in one pass.
func (k *Kernel) Rides(inPlace, perRoute int) {
	k.rides.WithLabelValues("in_place").Add(float64(inPlace))
	k.rides.WithLabelValues("per_route").Add(float64(perRoute))
}

// Error counts one failure of the given kind.
func (k *Kernel) Error(kind string) { k.errors.WithLabelValues(kind).Inc() }
