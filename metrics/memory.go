package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsrd/lsrd/internal/gctune"
)

// memoryCollector exports what the collector's tuning has done
// (internal/gctune); the Go runtime's own figures are go_memstats_*.
type memoryCollector struct {
	read              func() gctune.Stats
	percent, idle     *prometheus.Desc
	returns, returned *prometheus.Desc
}

// NewMemoryCollector returns the collector of lsrd_memory_*.
func NewMemoryCollector(read func() gctune.Stats) prometheus.Collector {
	desc := descs("memory")
	return &memoryCollector{
		read:     read,
		percent:  desc("gc_percent", "The Go collector's target now (GOGC): memory.gc-percent while lsrd works, memory.idle-gc-percent at rest."),
		idle:     desc("idle", "1 while lsrd is at rest (its allocation has settled), 0 while it works through a burst."),
		returns:  desc("returns_total", "Times lsrd returned its freed memory to the system when a burst of work settled."),
		returned: desc("returned_bytes_total", "Bytes the Go runtime gave back to the system at those times."),
	}
}

func (c *memoryCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, c.percent, c.idle, c.returns, c.returned)
}

func (c *memoryCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.read()
	idle := 0.0
	if s.Idle {
		idle = 1
	}
	ch <- prometheus.MustNewConstMetric(c.percent, prometheus.GaugeValue, float64(s.GCPercent))
	ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, idle)
	ch <- prometheus.MustNewConstMetric(c.returns, prometheus.CounterValue, float64(s.Returns))
	ch <- prometheus.MustNewConstMetric(c.returned, prometheus.CounterValue, float64(s.Returned))
}
