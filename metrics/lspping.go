package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsrd/lsrd/oam"
)

// lspPingCollector exports the LSP ping responder's and prober's counters.
type lspPingCollector struct {
	read               func() (oam.Stats, bool)
	requests, probes   *prometheus.Desc
	replies, malformed *prometheus.Desc
}

// NewLSPPingCollector returns the collector of lsrd_lsp_ping_*; read gives
// the counters, and false while LSP ping is not running.
func NewLSPPingCollector(read func() (oam.Stats, bool)) prometheus.Collector {
	desc := descs("lsp_ping")
	return &lspPingCollector{
		read:      read,
		requests:  desc("requests_total", "MPLS echo requests this router answered, or dropped over the responder's rate limit.", "result"),
		malformed: desc("malformed_requests_total", "Echo requests answered with return code 1 (malformed) or 2 (TLVs not understood)."),
		probes:    desc("probes_sent_total", "Echo requests this router sent (lsrctl ping/traceroute mpls, the ZeroTier data-plane check)."),
		replies:   desc("replies_received_total", "Echo replies to this router's probes."),
	}
}

func (c *lspPingCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, c.requests, c.malformed, c.probes, c.replies)
}

func (c *lspPingCollector) Collect(ch chan<- prometheus.Metric) {
	s, ok := c.read()
	if !ok {
		return
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(c.requests, s.RequestsAnswered, "answered")
	counter(c.requests, s.RequestsDropped, "rate-limited")
	counter(c.malformed, s.Malformed)
	counter(c.probes, s.ProbesSent)
	counter(c.replies, s.RepliesReceived)
}
