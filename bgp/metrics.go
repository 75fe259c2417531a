package bgp

import (
	"context"
	"net/netip"
	"strconv"
	"sync"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/server"
	"github.com/prometheus/client_golang/prometheus"
)

// Collector returns the collector of the lsrd_bgp_* metrics: per neighbour,
// its session state, time established, flaps, messages, output queue and
// prefixes per family, read from the running server at scrape time; nothing
// while the speaker is not running. Reading them runs on GoBGP's server
// loop, the one that takes every UPDATE, and counting the received
// prefixes walks the neighbour's Adj-RIB-In: with a full table and that
// loop busy, that is seconds. So a scrape never waits for it: it serves the
// last reading, and one older than peerListMaxAge is refreshed in the
// background (the first scrape waits up to a second for the first
// reading). The advertised count (GoBGP computes it by running the export
// policy over the whole table) is left to `lsrctl show bgp neighbors`. They replace GoBGP's own collector,
// whose counters lack _total, whose flags and settings are counters and
// whose "uptime" is a Unix time.
func (s *Speaker) Collector() prometheus.Collector { return newSpeakerCollector(s) }

type speakerCollector struct {
	s                                         *Speaker
	state, established, flaps, outQueue, info *prometheus.Desc
	messages, routes                          *prometheus.Desc

	mu         sync.Mutex
	read       time.Time     // when peers was read
	peers      []*api.Peer   // the last reading
	err        error         // the last reading's failure, nil when it succeeded
	refreshing chan struct{} // closed when the reading under way ends; nil when none is
}

// peerListMaxAge is how long a reading of the neighbours serves scrapes.
const peerListMaxAge = 5 * time.Second

// peerStates are the BGP FSM states (RFC 4271 section 8.2.2) as
// lsrd_bgp_peer_state names them.
var peerStates = []string{"idle", "connect", "active", "opensent", "openconfirm", "established"}

func newSpeakerCollector(s *Speaker) *speakerCollector {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("lsrd_bgp_"+name, help, labels, nil)
	}
	peer := []string{"peer"}
	return &speakerCollector{s: s,
		state:       desc("peer_state", "1 for the BGP session state a neighbour is in, 0 for the others.", "peer", "state"),
		established: desc("peer_established_seconds", "Time a neighbour's session has been established; absent while it is not.", peer...),
		flaps:       desc("peer_flaps_total", "Sessions with a neighbour that left established.", peer...),
		outQueue:    desc("peer_out_queue", "Messages queued for a neighbour.", peer...),
		info:        desc("peer_info", "A configured neighbour; the value is always 1.", "peer", "remote_as", "local_as"),
		messages:    desc("messages_total", "BGP messages by neighbour, direction and type.", "peer", "direction", "type"),
		routes:      desc("routes", "Prefixes per neighbour and family: received, and accepted (after import policy).", "peer", "family", "kind"),
	}
}

func (c *speakerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.state, c.established, c.flaps, c.outQueue, c.info, c.messages, c.routes} {
		ch <- d
	}
}

// Collect reports the running server's last reading (list).
func (c *speakerCollector) Collect(ch chan<- prometheus.Metric) {
	c.s.mu.Lock()
	srv := c.s.server
	running := c.s.started && !c.s.stopped
	c.s.mu.Unlock()
	if !running {
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	peers, err := c.list(srv)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.state, err)
	}
	for _, p := range peers {
		addr := p.GetConf().GetNeighborAddress()
		st := p.GetState()
		state := sessionState(st.GetSessionState())
		for _, s := range peerStates {
			gauge(c.state, b2f(s == state), addr, s)
		}
		if up := p.GetTimers().GetState().GetUptime(); state == "established" && up != nil && up.GetSeconds() > 0 {
			gauge(c.established, time.Since(up.AsTime()).Seconds(), addr)
		}
		if a, err := netip.ParseAddr(addr); err == nil {
			counter(c.flaps, uint64(c.s.sessions.facts(a).flaps), addr)
		}
		gauge(c.outQueue, float64(st.GetOutQ()), addr)
		gauge(c.info, 1, addr, strconv.FormatUint(uint64(p.GetConf().GetPeerAsn()), 10), strconv.FormatUint(uint64(st.GetLocalAsn()), 10))
		for dir, m := range map[string]*api.Message{"received": st.GetMessages().GetReceived(), "sent": st.GetMessages().GetSent()} {
			for typ, v := range map[string]uint64{"open": m.GetOpen(), "update": m.GetUpdate(), "notification": m.GetNotification(),
				"keepalive": m.GetKeepalive(), "refresh": m.GetRefresh()} {
				counter(c.messages, v, addr, dir, typ)
			}
		}
		for _, af := range p.GetAfiSafis() {
			if !af.GetConfig().GetEnabled() {
				continue
			}
			fam := metricFamily(af.GetConfig().GetFamily())
			gauge(c.routes, float64(af.GetState().GetReceived()), addr, fam, "received")
			gauge(c.routes, float64(af.GetState().GetAccepted()), addr, fam, "accepted")
		}
	}
}

// list returns the last reading of the neighbours, and the error of the
// last attempt if it failed, starting a new one in the background when the
// reading is older than peerListMaxAge.
func (c *speakerCollector) list(srv *server.BgpServer) ([]*api.Peer, error) {
	c.mu.Lock()
	if time.Since(c.read) >= peerListMaxAge && c.refreshing == nil {
		done := make(chan struct{})
		c.refreshing = done
		go func() {
			defer close(done)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var peers []*api.Peer
			err := srv.ListPeer(ctx, &api.ListPeerRequest{}, func(p *api.Peer) { peers = append(peers, p) })
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.err = err; err == nil {
				c.peers, c.read = peers, time.Now()
			}
			c.refreshing = nil
		}()
	}
	first, wait := c.read.IsZero(), c.refreshing
	c.mu.Unlock()
	if first && wait != nil {
		select {
		case <-wait:
		case <-time.After(time.Second):
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.peers, c.err
}

// metricFamily names a family for the routes metric: as the
// configuration does, or GoBGP's AFI-SAFI for one lsrd does not carry.
func metricFamily(f *api.Family) string {
	if n := familyName(f); n != "" {
		return n
	}
	return f.GetAfi().String() + "-" + f.GetSafi().String()
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
