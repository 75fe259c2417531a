// Package metrics owns lsrd's Prometheus registry: what lsrd exports to NOC
// dashboards and how it is named.
//
// It builds a registry of lsrd's own (never the process-wide default one),
// with the Go runtime and process collectors and lsrd's build information.
// It must never change routing state: it only reads what the other parts
// report to it.
package metrics

import (
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Namespace prefixes every metric lsrd defines.
const Namespace = "lsrd"

// NewRegistry returns a registry holding the Go runtime and process
// collectors and lsrd_build_info.
func NewRegistry(version string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo(version),
	)
	return reg
}

// buildInfo is the lsrd_build_info gauge, always 1, whose labels say which
// build is running: the Prometheus convention for build metadata.
func buildInfo(version string) prometheus.Collector {
	goVersion := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace:   Namespace,
		Name:        "build_info",
		Help:        "Which lsrd build is running; the value is always 1.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": goVersion},
	})
	g.Set(1)
	return g
}

// descs returns the maker of a collector's descriptions, lsrd_<subsystem>_*.
func descs(subsystem string) func(name, help string, labels ...string) *prometheus.Desc {
	return func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(Namespace, subsystem, name), help, labels, nil)
	}
}

// describe sends a collector's descriptions (its Describe).
func describe(ch chan<- *prometheus.Desc, ds ...*prometheus.Desc) {
	for _, d := range ds {
		ch <- d
	}
}
