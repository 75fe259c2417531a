package metrics

import (
	"context"
	"net/netip"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/ldp"
	"github.com/lsrd/lsrd/ldp/lib"
	"github.com/lsrd/lsrd/ldp/wire"
	"github.com/lsrd/lsrd/netlinkfib"
	"github.com/lsrd/lsrd/rib"
)

// Snapshot is the state lsrd exports, read from its parts when Prometheus
// scrapes: each part is read on the goroutine that owns it, so the numbers
// are consistent within a part.
type Snapshot struct {
	// Time is when the snapshot was taken: time in state is measured to it.
	Time time.Time
	// Neighbors and Counters are the LDP engine's (Engine.Neighbors,
	// Engine.Counters); LIB is the label decision part's (LIB.Stats).
	Neighbors []ldp.NeighborInfo
	Counters  ldp.Counters
	LIB       lib.Stats
	// LFIB and FTN count the entries of the forwarding lsrd wants (LDP's
	// label routes and the IP routes it owns); Kernel is what the kernel
	// layer believes it has programmed (FIB.Status).
	LFIB, FTN int
	Kernel    netlinkfib.Status
	// RIB counts best routes by source.
	RIB map[rib.Source]int
	// VRFs are the provider edge's VRFs with their route counts (none
	// without VRFs).
	VRFs []api.VRF
}

// SnapshotFunc takes a Snapshot. It is called at every scrape and must give
// up when ctx ends.
type SnapshotFunc func(ctx context.Context) (Snapshot, error)

// sessionStates are the label values of lsrd_ldp_session_state, in the
// order of RFC 5036 section 2.5.4.
var sessionStates = []ldp.State{ldp.NonExistent, ldp.Initialized, ldp.OpenRec, ldp.OpenSent, ldp.Operational}

// ribSources are the label values of lsrd_rib_routes, all exported (zero
// included) so that a source appearing is a change, not a new series.
var ribSources = []rib.Source{rib.SourceConnected, rib.SourceStatic, rib.SourceKernel, rib.SourceBGP}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(Namespace+"_"+name, help, labels, nil)
}

var (
	sessionStateDesc = desc("ldp_session_state",
		"LDP session state per peer (RFC 5036 section 2.5.4): 1 for the state the session is in, 0 for the others.", "peer", "state")
	sessionsDesc = desc("ldp_sessions",
		"LDP neighbours by session state (NON EXISTENT: a neighbour known by its hellos without a session).", "state")
	stateSecondsDesc = desc("ldp_session_state_seconds",
		"Time the session with the peer has been in its current state.", "peer")
	flapsDesc = desc("ldp_session_flaps_total",
		"LDP sessions with the peer that left OPERATIONAL.", "peer")
	adjacenciesDesc = desc("ldp_adjacencies",
		"LDP Hello adjacencies by interface and type (link, targeted; targeted ones have no interface).", "interface", "type")
	hellosDesc = desc("ldp_hellos_total",
		"LDP Hellos by interface, type (link, targeted) and direction (sent, received).", "interface", "type", "direction")
	messagesDesc = desc("ldp_messages_total",
		"LDP session messages by peer, message type and direction (sent, received).", "peer", "type", "direction")
	notificationsDesc = desc("ldp_notifications_total",
		"LDP Notification messages by peer, status code and direction (sent, received).", "peer", "status", "direction")
	bindingsDesc = desc("ldp_label_bindings",
		"LDP label bindings: local (FECs with a label of this LSR, null labels included) and remote (labels neighbours advertised).", "kind")
	labelsInUseDesc = desc("ldp_labels_in_use",
		"Labels allocated from the label range: bound to a FEC, or withdrawn and not yet released.")
	labelRangeDesc = desc("ldp_label_range_size",
		"Size of the label range (ldp.labels.min to ldp.labels.max).")
	allocFailuresDesc = desc("ldp_label_allocation_failures_total",
		"Times a FEC found the label range exhausted.")
	fecsDesc = desc("ldp_fecs",
		"FECs: prefixes with a route that the label allocation policy accepts.")
	starvedDesc = desc("ldp_fecs_without_label",
		"FECs waiting for a label because the range is exhausted.")
	staleBindingsDesc = desc("ldp_stale_bindings",
		"Labels of restarting neighbours kept, marked stale, by LDP graceful restart (RFC 3478) until they advertise them again or their reconnect or recovery time ends.")
	lfibDesc = desc("lfib_entries",
		"Label routes (swap, pop) in the forwarding lsrd wants.")
	ftnDesc = desc("ftn_entries",
		"IP routes lsrd owns in the forwarding it wants (with or without a pushed label).")
	kernelObjectsDesc = desc("kernel_objects",
		"What the kernel layer has programmed: label routes (label_route), IP routes (route), nexthop objects (nexthop) and nexthop groups (group).", "kind")
	kernelStaleDesc = desc("kernel_state_stale",
		"1 when the kernel layer's view of the kernel must be re-read before its next pass.")
	kernelStaleRoutesDesc = desc("kernel_stale_routes",
		"Label routes and IP routes a previous run left that lsrd keeps, stale, until its inputs have converged after a restart, and does not want (yet): what the sweep would delete now. 0 once swept.")
	kernelAwaitingSweepDesc = desc("kernel_awaiting_sweep",
		"1 while a previous run's adopted kernel routes are kept, until the sweep after convergence.")
	ribRoutesDesc = desc("rib_routes",
		"Best routes in lsrd's RIB by source (connected, static, kernel, bgp).", "source")
	vrfRoutesDesc = desc("vrf_routes",
		"Routes of each VRF by kind: local (in the VRF's table, not lsrd's), exported (local routes sent as VPN routes), imported (prefixes with a VPN route whose route targets the VRF imports), installed (imported prefixes lsrd routes over an LSP in the VRF's table).", "vrf", "kind")
	vrfLabelDesc = desc("vrf_label",
		"The label of each VRF in per-vrf mode (popped into a lookup in the VRF's table); 0 in per-prefix mode.", "vrf")
	limitRefusedDesc = desc("ldp_limit_refused_total",
		"Hellos and connections LDP refused or closed because one of its bounds was reached, by bound: interface-adjacencies, neighbors, pending-connections, init-timeout, unrouted-labels (ldp.limits in the configuration).", "limit")
	igpSyncDesc = desc("ldp_igp_sync",
		"LDP-IGP synchronisation (RFC 5443) per LDP interface: 1 for its state, 0 for the others. achieved: every LDP neighbour on the link has an OPERATIONAL session and sent End-of-LIB; not-achieved: one has not (yet); no-peer: no LDP neighbour on the link.", "interface", "state")
	rejectionsDesc = desc("ldp_session_rejections_total",
		"LDP session initializations refused with a Session Rejected status (No Hello, Parameters Advertisement Mode, Max PDU Length, Label Range, Bad KeepAlive Time), every neighbour together, by direction (sent: this LSR refused; received: the neighbour did). RFC 3815's mplsLdpEntityStatsSessionAttempts.", "direction")
	unknownTLVsDesc = desc("ldp_unknown_tlvs_total",
		"TLVs in the peer's LDP messages that lsrd does not know: ignored (U bit set) or refused with an Unknown TLV notification (U bit clear). RFC 3815's mplsLdpSessionStatsUnknownTlvErrors.", "peer")
	securityDesc = desc("ldp_security_events_total",
		"Sessions and hellos that failed or were dropped for TCP-MD5 or GTSM, by event: md5-no-answer (a signed dial failed: the neighbour's key differs or it has none), md5-unsigned-connection (an unsigned connection from a neighbour with a key, closed), md5-no-session (no session from a neighbour with a key 30s after discovery), gtsm-hello-ttl (a link hello with TTL below 255 dropped).", "event")

	// Session parameters (MPLS-LDP-STD-MIB, RFC 3815: mplsLdpSessionKeepAliveHoldTimeRem's
	// negotiated hold, mplsLdpSessionProtocolVersion, mplsLdpSessionMaxPduLength).
	sessionHoldDesc = desc("ldp_session_hold_seconds",
		"The negotiated KeepAlive Time (hold time) of an OPERATIONAL session.", "peer")
	sessionKeepaliveDesc = desc("ldp_session_keepalive_interval_seconds",
		"How often this LSR sends a KeepAlive on an OPERATIONAL session with nothing else to send.", "peer")
	sessionMaxPDUDesc = desc("ldp_session_max_pdu_bytes",
		"The negotiated maximum PDU length of an OPERATIONAL session.", "peer")
	sessionVersionDesc = desc("ldp_session_protocol_version",
		"The LDP protocol version of an OPERATIONAL session.", "peer")

	stateDescs = []*prometheus.Desc{sessionHoldDesc, sessionKeepaliveDesc, sessionMaxPDUDesc, sessionVersionDesc, sessionStateDesc, sessionsDesc, stateSecondsDesc, flapsDesc, adjacenciesDesc,
		hellosDesc, messagesDesc, notificationsDesc, bindingsDesc, labelsInUseDesc, labelRangeDesc,
		allocFailuresDesc, fecsDesc, starvedDesc, staleBindingsDesc, lfibDesc, ftnDesc, kernelObjectsDesc, kernelStaleDesc,
		kernelStaleRoutesDesc, kernelAwaitingSweepDesc, ribRoutesDesc, vrfRoutesDesc, vrfLabelDesc,
		limitRefusedDesc, securityDesc, igpSyncDesc, rejectionsDesc, unknownTLVsDesc}

	syncStates = []string{ldp.SyncAchieved, ldp.SyncNotAchieved, ldp.SyncNoPeer}
)

// scrapeTimeout bounds how long a scrape waits for lsrd's parts.
const scrapeTimeout = 5 * time.Second

// stateCollector exports a Snapshot taken at every scrape.
type stateCollector struct{ snap SnapshotFunc }

// NewStateCollector returns the collector of lsrd's protocol and forwarding
// state, which calls snap at every scrape. It only reads.
func NewStateCollector(snap SnapshotFunc) prometheus.Collector { return stateCollector{snap: snap} }

// Describe sends every metric the collector exports.
func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range stateDescs {
		ch <- d
	}
}

// Collect takes a snapshot and exports it; a snapshot that fails is
// reported as an invalid metric (the scrape shows the error).
func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	s, err := c.snap(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(sessionsDesc, err)
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}

	// Series per peer only for peers that reached OPERATIONAL (those the
	// engine keeps counters for): hellos from made-up LSR IDs must not
	// make series.
	known := map[netip.Addr]bool{}
	for _, p := range s.Counters.Peers {
		known[p.LSRID] = true
	}
	byState := map[string]int{}
	type adjKey struct{ ifname, typ string }
	adjs := map[adjKey]int{}
	for _, n := range s.Neighbors {
		peer := n.LSRID.String()
		byState[n.State]++
		for _, a := range n.Adjacencies {
			k := adjKey{a.Interface, "link"}
			if a.Targeted {
				k = adjKey{"", "targeted"}
			}
			adjs[k]++
		}
		if !known[n.LSRID] {
			continue
		}
		for _, st := range sessionStates {
			v := 0.0
			if st.String() == n.State {
				v = 1
			}
			gauge(sessionStateDesc, v, peer, st.String())
		}
		if !n.Since.IsZero() {
			gauge(stateSecondsDesc, max(0, s.Time.Sub(n.Since).Seconds()), peer)
		}
		if n.KeepAlive > 0 {
			gauge(sessionHoldDesc, n.KeepAlive.Seconds(), peer)
			gauge(sessionKeepaliveDesc, n.KeepaliveInterval.Seconds(), peer)
			gauge(sessionMaxPDUDesc, float64(n.MaxPDU), peer)
			gauge(sessionVersionDesc, float64(n.ProtocolVersion), peer)
		}
	}
	for _, l := range []ldp.Limit{ldp.LimitInterfaceAdjacencies, ldp.LimitNeighbors, ldp.LimitPendingConnections, ldp.LimitInitTimeout, ldp.LimitUnroutedLabels} {
		counter(limitRefusedDesc, s.Counters.Limits[l], string(l))
	}
	for _, ev := range []ldp.Security{ldp.SecMD5NoAnswer, ldp.SecMD5Unsigned, ldp.SecMD5NoSession, ldp.SecGTSMHello} {
		counter(securityDesc, s.Counters.Security[ev], string(ev))
	}
	for _, st := range sessionStates {
		gauge(sessionsDesc, float64(byState[st.String()]), st.String())
	}
	for k, n := range adjs {
		gauge(adjacenciesDesc, float64(n), k.ifname, k.typ)
	}

	for _, p := range s.Counters.Peers {
		peer := peerLabel(p.LSRID)
		counter(flapsDesc, p.Flaps, peer)
		counter(unknownTLVsDesc, p.UnknownTLVs, peer)
		for t, n := range p.Sent {
			counter(messagesDesc, n, peer, messageLabel(t), "sent")
		}
		for t, n := range p.Received {
			counter(messagesDesc, n, peer, messageLabel(t), "received")
		}
		for c, n := range p.NotificationsSent {
			counter(notificationsDesc, n, peer, statusLabel(c), "sent")
		}
		for c, n := range p.NotificationsReceived {
			counter(notificationsDesc, n, peer, statusLabel(c), "received")
		}
	}
	counter(rejectionsDesc, s.Counters.RejectionsSent, "sent")
	counter(rejectionsDesc, s.Counters.RejectionsReceived, "received")
	for _, h := range s.Counters.Hellos {
		typ := "link"
		if h.Targeted {
			typ = "targeted"
		}
		counter(hellosDesc, h.Sent, h.Interface, typ, "sent")
		counter(hellosDesc, h.Received, h.Interface, typ, "received")
		if !h.Targeted {
			sync := ldp.InterfaceSync(s.Neighbors, h.Interface)
			for _, st := range syncStates {
				gauge(igpSyncDesc, boolGauge(st == sync), h.Interface, st)
			}
		}
	}

	gauge(bindingsDesc, float64(s.LIB.LocalBindings), "local")
	gauge(bindingsDesc, float64(s.LIB.RemoteBindings), "remote")
	gauge(labelsInUseDesc, float64(s.LIB.LabelsInUse))
	gauge(labelRangeDesc, float64(s.LIB.LabelRange))
	counter(allocFailuresDesc, s.LIB.AllocFailures)
	gauge(fecsDesc, float64(s.LIB.FECs))
	gauge(starvedDesc, float64(s.LIB.Starved))
	gauge(staleBindingsDesc, float64(s.LIB.StaleBindings))

	gauge(lfibDesc, float64(s.LFIB))
	gauge(ftnDesc, float64(s.FTN))
	gauge(kernelObjectsDesc, float64(s.Kernel.Labels), "label_route")
	gauge(kernelObjectsDesc, float64(s.Kernel.Prefixes), "route")
	gauge(kernelObjectsDesc, float64(s.Kernel.Nexthops), "nexthop")
	gauge(kernelObjectsDesc, float64(s.Kernel.Groups), "group")
	stale := 0.0
	if s.Kernel.Stale {
		stale = 1
	}
	gauge(kernelStaleDesc, stale)
	gauge(kernelStaleRoutesDesc, float64(s.Kernel.StaleRoutes))
	awaiting := 0.0
	if s.Kernel.AwaitingSweep {
		awaiting = 1
	}
	gauge(kernelAwaitingSweepDesc, awaiting)

	for _, src := range ribSources {
		gauge(ribRoutesDesc, float64(s.RIB[src]), src.String())
	}
	for _, v := range s.VRFs {
		gauge(vrfRoutesDesc, float64(v.Local), v.Name, "local")
		gauge(vrfRoutesDesc, float64(v.Exported), v.Name, "exported")
		gauge(vrfRoutesDesc, float64(v.Imported), v.Name, "imported")
		gauge(vrfRoutesDesc, float64(v.Installed), v.Name, "installed")
		gauge(vrfLabelDesc, float64(v.Label), v.Name)
	}
}

// peerLabel is the peer label value: the LSR ID, or "unidentified" for
// connections whose peer never named itself.
func peerLabel(id netip.Addr) string {
	if !id.IsValid() {
		return "unidentified"
	}
	return id.String()
}

// messageLabel is a message type as a label value: its RFC name in
// snake_case (label_mapping, address_withdraw), "unknown" for types the
// codec does not know.
func messageLabel(t wire.MsgType) string {
	if !t.Known() {
		return "unknown"
	}
	return snake(t.String())
}

// statusLabel is a status code as a label value: its RFC name in snake_case
// (shutdown, session_rejected_no_hello), "unknown" for other codes.
func statusLabel(c wire.StatusCode) string {
	if !c.Known() {
		return "unknown"
	}
	return snake(c.String())
}

func snake(s string) string {
	return strings.ToLower(strings.NewReplacer(" ", "_", "/", "_", "-", "_").Replace(s))
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
