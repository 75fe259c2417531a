package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Reloads counts configuration reloads (SIGHUP, lsrctl reload) and when the
// running configuration was last loaded successfully.
type Reloads struct {
	total       *prometheus.CounterVec
	lastSuccess prometheus.Gauge
	successful  prometheus.Gauge
}

// NewReloads registers lsrd_config_reloads_total,
// lsrd_config_last_reload_success_timestamp_seconds and
// lsrd_config_last_reload_successful with reg. started is when lsrd loaded
// its configuration at start: the first successful load.
func NewReloads(reg prometheus.Registerer, started time.Time) *Reloads {
	r := &Reloads{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "config_reloads_total",
			Help: "Configuration reloads by result (success, failure); a failed reload changes nothing.",
		}, []string{"result"}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "config_last_reload_success_timestamp_seconds",
			Help: "When the running configuration was loaded (at start or by the last successful reload), in seconds since the Unix epoch.",
		}),
		successful: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "config_last_reload_successful",
			Help: "Whether the last reload attempt succeeded (1) or was refused (0); 1 before any reload.",
		}),
	}
	// Both results exist from the start, so that increase() sees the first.
	r.total.WithLabelValues("success")
	r.total.WithLabelValues("failure")
	r.lastSuccess.Set(float64(started.UnixNano()) / 1e9)
	r.successful.Set(1)
	reg.MustRegister(r.total, r.lastSuccess, r.successful)
	return r
}

// Record counts a reload attempt that ended at `at` with err (nil: applied).
func (r *Reloads) Record(err error, at time.Time) {
	if err != nil {
		r.total.WithLabelValues("failure").Inc()
		r.successful.Set(0)
		return
	}
	r.total.WithLabelValues("success").Inc()
	r.successful.Set(1)
	r.lastSuccess.Set(float64(at.UnixNano()) / 1e9)
}
