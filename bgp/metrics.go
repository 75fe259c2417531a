package bgp

import (
	gobgpmetrics "github.com/osrg/gobgp/v3/pkg/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

// Collector returns the speaker's Prometheus collector: GoBGP's own
// (bgp_peer_state, bgp_peer_flop_count, bgp_routes_received,
// bgp_received_update_total, ... per neighbour), read from the running
// server at every scrape. It exports nothing before Start and after Stop.
func (s *Speaker) Collector() prometheus.Collector { return speakerCollector{s} }

type speakerCollector struct{ s *Speaker }

// Describe sends GoBGP's descriptions, which do not depend on a server.
func (c speakerCollector) Describe(ch chan<- *prometheus.Desc) {
	gobgpmetrics.NewBgpCollector(nil).Describe(ch)
}

// Collect asks the running server; GoBGP's collector reads its peers
// through the server's own API, which serialises with the server's loop.
func (c speakerCollector) Collect(ch chan<- prometheus.Metric) {
	c.s.mu.Lock()
	srv := c.s.server
	running := c.s.started && !c.s.stopped
	c.s.mu.Unlock()
	if !running {
		return
	}
	gobgpmetrics.NewBgpCollector(srv).Collect(ch)
}
