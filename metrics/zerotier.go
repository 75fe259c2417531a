package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsrd/lsrd/api"
)

// zeroTierCollector exports lsrd's view of the ZeroTier underlay, read at
// scrape time so the figures are never older than the last poll.
type zeroTierCollector struct {
	read func() api.ZeroTierView

	apiUp, statusInfo, networkOK, mtu, headroom, mcast, ldpActive, planetInfo, planetExpected, dataplane *prometheus.Desc
}

// NewZeroTierCollector returns the collector of the lsrd_zerotier_* metrics;
// read returns lsrd's current view of the underlay and must be safe to call
// from the scraping goroutine. It exports nothing while ZeroTier is not
// watched.
func NewZeroTierCollector(read func() api.ZeroTierView) prometheus.Collector {
	desc := descs("zerotier")
	net := []string{"network"}
	return &zeroTierCollector{
		read:           read,
		apiUp:          desc("api_up", "Whether ZeroTier One's local service API answered the last poll (1) or not (0)."),
		statusInfo:     desc("network_status_info", "A watched network's status as ZeroTier One reports it; the value is always 1.", "network", "device", "status"),
		networkOK:      desc("network_ok", "Whether a watched network's status is OK (1) or not (0).", net...),
		mtu:            desc("mtu_bytes", "A watched network's MTU.", net...),
		headroom:       desc("mtu_headroom_ok", "Whether a network's MTU fits the payload MTU under the deepest label stack lsrd may push (1) or not (0).", net...),
		mcast:          desc("multicast_ldp_subscribed", "Whether the node subscribed to 224.0.0.2 (01:00:5e:00:00:02) on a network, so LDP hellos reach it (1) or not (0).", net...),
		ldpActive:      desc("network_ldp_active", "Whether LDP runs on the network's device (1) or not (0).", net...),
		planetInfo:     desc("planet_info", "The planet the node uses; the value is always 1.", "world_id", "timestamp"),
		planetExpected: desc("planet_expected", "Whether the node uses the planet lsrd's configuration expects, or no planet is expected (1), or another (0)."),
		dataplane:      desc("dataplane_ok", "Whether labelled LSP pings reach the LDP neighbours on a network that answer plain ones (1) or some do not, as when flow rules drop MPLS (0); absent while no neighbour answers.", net...),
	}
}

func (c *zeroTierCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, c.apiUp, c.statusInfo, c.networkOK, c.mtu, c.headroom, c.mcast, c.ldpActive, c.planetInfo, c.planetExpected, c.dataplane)
}

func (c *zeroTierCollector) Collect(ch chan<- prometheus.Metric) {
	v := c.read()
	if !v.Enabled {
		return
	}
	gauge := func(d *prometheus.Desc, val float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, val, labels...)
	}
	gauge(c.apiUp, b2f(v.Reachable))
	if v.Node != nil {
		gauge(c.planetInfo, 1, strconv.FormatUint(v.Node.PlanetWorldID, 10), strconv.FormatUint(v.Node.PlanetWorldTimestamp, 10))
		gauge(c.planetExpected, b2f(v.Node.PlanetExpected))
	}
	for _, n := range v.Networks {
		if n.ID == "" {
			continue
		}
		if n.Status != "" {
			gauge(c.statusInfo, 1, n.ID, n.Device, n.Status)
			gauge(c.mtu, float64(n.MTU), n.ID)
			gauge(c.headroom, b2f(n.MTUHeadroomOK), n.ID)
			gauge(c.mcast, b2f(n.MulticastLDPSubscribed), n.ID)
		}
		if ok, known := dataplaneOK(n); known {
			gauge(c.dataplane, b2f(ok), n.ID)
		}
		gauge(c.networkOK, b2f(n.Status == "OK"), n.ID)
		gauge(c.ldpActive, b2f(n.LDPInterface != ""), n.ID)
	}
}

// dataplaneOK grades a network's probes as zerotier.CheckProbes does.
func dataplaneOK(n api.ZeroTierNetworkView) (ok, known bool) {
	for _, p := range n.Probes {
		if p.IP && !p.Labelled {
			return false, true
		}
		known = known || p.Labelled
	}
	return known, known
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
