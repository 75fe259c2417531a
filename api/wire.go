package api

// The control API's wire types for what other packages produce: LDP
// neighbours (package ldp), label bindings and LIB counters (ldp/lib), the
// kernel layer's status (netlinkfib), BGP neighbours and paths (bgp), LSP
// ping results (oam) and routes (rib). They live here, with aliases in
// those packages, so that lsrctl reads lsrd's answers without linking
// GoBGP's server, grpc or netlink.

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/ldp/fec"
	"github.com/lsrd/lsrd/lspping"
)

// LDPNeighbor is one neighbour as operators see it ("show ldp neighbors"
// and "show ldp discovery").
type LDPNeighbor struct {
	LSRID     netip.Addr `json:"lsr_id"`
	Transport netip.Addr `json:"transport_address"`
	// State is the session's state (RFC 5036 section 2.5.4), NON EXISTENT
	// when there is no session (yet).
	State string `json:"state"`
	// Since is when the session entered State; zero without a session.
	Since  time.Time `json:"since,omitzero"`
	Active bool      `json:"active"` // this LSR opened the session
	// KeepAlive is the negotiated KeepAlive Time (RFC 5036 section 3.5.3):
	// the session's hold time. KeepaliveInterval is how often this LSR
	// sends a KeepAlive when it has nothing else to send (a third of it).
	KeepAlive         time.Duration  `json:"keepalive_ns,omitempty"`
	KeepaliveInterval time.Duration  `json:"keepalive_interval_ns,omitempty"`
	Remote            netip.AddrPort `json:"remote,omitzero"`
	// ProtocolVersion and MaxPDU are the session's negotiated parameters;
	// Capabilities the neighbour announced (RFC 5561), by name.
	ProtocolVersion int      `json:"protocol_version,omitempty"`
	MaxPDU          int      `json:"max_pdu,omitempty"`
	Capabilities    []string `json:"capabilities,omitempty"`
	// MessagesSent and MessagesReceived count the session messages
	// exchanged with the neighbour since lsrd started, every session
	// together (hellos received included).
	MessagesSent     uint64 `json:"messages_sent"`
	MessagesReceived uint64 `json:"messages_received"`
	// MD5 is true when the session's connection is TCP-MD5 signed; a
	// neighbour with a key never has a session without it.
	MD5 bool `json:"md5"`
	// GTSM is true when the session drops segments that arrive with a
	// TTL below 255 (RFC 6720).
	GTSM        bool           `json:"gtsm"`
	Adjacencies []LDPAdjacency `json:"adjacencies"`
	// Synced is LDP-IGP synchronisation (RFC 5443) with this neighbour:
	// the session is OPERATIONAL and the neighbour's initial labels are
	// all in, as its End-of-LIB (RFC 5919) says; a neighbour that does
	// not signal End-of-LIB is synced once OPERATIONAL.
	Synced bool `json:"igp_sync"`

	// GracefulRestart is true when the session (the current one, or the
	// last OPERATIONAL one while this LSR helps the neighbour restart)
	// negotiated RFC 3478: both sides sent the FT Session TLV.
	// PeerReconnectTime and PeerRecoveryTime are the neighbour's FT
	// Reconnect Timeout and Recovery Time.
	GracefulRestart   bool          `json:"graceful_restart"`
	PeerReconnectTime time.Duration `json:"peer_reconnect_ns,omitempty"`
	PeerRecoveryTime  time.Duration `json:"peer_recovery_ns,omitempty"`
	// GRHelper is "reconnect-wait" while this LSR keeps the labels of a
	// neighbour whose session was lost, "recovering" once it is back and
	// re-advertising, empty otherwise. StaleBindings counts its labels
	// still stale; StaleUntil is when they are deleted if not refreshed.
	GRHelper      string    `json:"gr_helper,omitempty"`
	StaleBindings int       `json:"stale_bindings,omitempty"`
	StaleUntil    time.Time `json:"stale_until,omitzero"`
}

// LDPAdjacency is one Hello adjacency of a neighbour.
type LDPAdjacency struct {
	Targeted  bool          `json:"targeted"`
	Interface string        `json:"interface,omitempty"` // link adjacencies
	Source    netip.Addr    `json:"source,omitzero"`     // the last hello's source address
	Hold      time.Duration `json:"hold_ns"`
	// Expires is when the adjacency ends without another Hello; zero when
	// the hold time is infinite.
	Expires time.Time `json:"expires,omitzero"`
}

// LDPBinding is one FEC's labels, for operators (lsrctl show ldp bindings).
type LDPBinding struct {
	FEC        fec.FEC            `json:"fec"`
	LocalLabel fib.Label          `json:"local_label"` // 0 with HasLocal false when none is allocated
	HasLocal   bool               `json:"has_local"`
	Remote     []LDPRemoteBinding `json:"remote"`
	// AdvertisedTo are the neighbours this LSR sent its mapping for the
	// FEC to (and has not withdrawn), by LSR ID.
	AdvertisedTo []netip.Addr `json:"advertised_to,omitempty"`
}

// LDPRemoteBinding is a label a neighbour advertised for a FEC, and whether it is
// in use (the neighbour is the FEC's next hop).
type LDPRemoteBinding struct {
	Peer  netip.Addr `json:"peer"`
	Label fib.Label  `json:"label"`
	InUse bool       `json:"in_use"`
}

// LIBStats are the LIB's counters (lsrctl show ldp summary, metrics).
type LIBStats struct {
	// LabelsInUse counts allocated labels: bound to a FEC, or withdrawn
	// and not yet released by every peer. LabelRange is the range size.
	LabelsInUse int `json:"labels_in_use"`
	LabelRange  int `json:"label_range"`
	// AllocFailures counts FECs that found the range exhausted (once per
	// episode); Starved is how many are waiting for a label now.
	AllocFailures uint64 `json:"alloc_failures"`
	Starved       int    `json:"starved"`
	// FECs counts prefixes with a route that Config.Allocate accepted.
	FECs int `json:"fecs"`
	// LocalBindings counts FECs with a local label (allocated, or a null
	// label where this LSR is the egress): "show ldp bindings" rows with a
	// local label.
	LocalBindings int `json:"local_bindings"`
	// RemoteBindings counts labels neighbours advertised (used or not).
	RemoteBindings int `json:"remote_bindings"`
	// Withdrawn counts mappings withdrawn from a peer and not yet released.
	Withdrawn int `json:"withdrawn"`
	// Peers counts operational sessions.
	Peers int `json:"peers"`
	// UnroutedRefused counts mappings for FECs without a route released at
	// once because their peer had Config.MaxUnroutedPerPeer of them.
	UnroutedRefused uint64 `json:"unrouted_refused"`
	// StaleBindings counts neighbours' labels kept, marked stale, for a
	// graceful restart (RFC 3478): counted in RemoteBindings too.
	StaleBindings int `json:"stale_bindings"`
	// SeededLabels counts labels still kept for FECs of the previous run
	// (Config.Seed) that have not reappeared: counted in LabelsInUse.
	SeededLabels int `json:"seeded_labels"`
}

// FIBStatus is a snapshot of what the FIB believes it has programmed.
type FIBStatus struct {
	Labels   int  `json:"labels"`   // MPLS label routes
	Prefixes int  `json:"prefixes"` // IP routes
	Nexthops int  `json:"nexthops"` // single nexthop objects
	Groups   int  `json:"groups"`   // nexthop groups
	Stale    bool `json:"stale"`
	// Requests the last pass sent to the kernel: 0 when it found nothing
	// to do, 1 for a relabel of an LSP however many prefixes use it.
	LastPassRequests int `json:"last_pass_requests"`
	// Requests sent to the kernel since start, every pass together.
	Requests uint64 `json:"requests"`
	// Time the last pass spent sending requests and reading the answers
	// (the rest is reading the kernel and diffing).
	LastPassKernelTime time.Duration `json:"last_pass_kernel_ns"`
	// AwaitingSweep is true while a previous run's adopted routes are
	// kept, until the parent declares convergence (SweepStale).
	AwaitingSweep bool `json:"awaiting_sweep"`
	// StaleRoutes counts the adopted label routes and IP routes the desired
	// table does not want (yet): what the sweep would delete now. 0 once
	// swept. (Not to be confused with Stale, about the FIB's cache.)
	StaleRoutes int `json:"stale_routes"`
	// Passes that compared only what the producer named as changed
	// (scoped) and passes over the whole desired table (full), since
	// start; LastPassScoped tells which the last one was.
	ScopedPasses   uint64 `json:"scoped_passes"`
	FullPasses     uint64 `json:"full_passes"`
	LastPassScoped bool   `json:"last_pass_scoped"`
}

// BGPNeighbor is one neighbour's state, for the control API.
type BGPNeighbor struct {
	Address  netip.Addr    `json:"address"`
	RemoteAS uint32        `json:"remote_as"`
	State    string        `json:"state"`
	Uptime   time.Duration `json:"uptime"`
	Received uint64        `json:"received"`
	Accepted uint64        `json:"accepted"`
	// Families are the families configured; Import and Export the prefix
	// lists (empty: everything).
	Families []string `json:"families"`
	Import   string   `json:"import,omitempty"`
	Export   string   `json:"export,omitempty"`
	// EndOfRIB is true once the neighbour sent the End-of-RIB marker
	// (RFC 4724 section 2) for every family of the session since it came
	// up. GoBGP sends it only where graceful restart was negotiated; other
	// speakers (FRR) send it always.
	EndOfRIB bool `json:"end_of_rib"`

	// The rest is what "show bgp neighbors --detail" adds.
	Description string     `json:"description,omitempty"`
	RouterID    netip.Addr `json:"router_id,omitzero"`
	LocalAS     uint32     `json:"local_as"`
	// Local and Remote are the session's TCP endpoints, once connected.
	Local  netip.AddrPort `json:"local,omitzero"`
	Remote netip.AddrPort `json:"remote,omitzero"`
	// AdminDown is true when the neighbour is shut down in GoBGP.
	AdminDown bool `json:"admin_down"`
	// HoldTime and Keepalive are the negotiated timers (RFC 4271 section
	// 4.2: the smaller hold time, and a third of it); ConfiguredHoldTime
	// is what this side offers.
	HoldTime           time.Duration `json:"hold_time_ns,omitempty"`
	Keepalive          time.Duration `json:"keepalive_ns,omitempty"`
	ConfiguredHoldTime time.Duration `json:"configured_hold_time_ns,omitempty"`
	// LastDown is when the session last left established; zero if it
	// never did. Flaps counts those times.
	LastDown time.Time `json:"last_down,omitzero"`
	Flaps    uint32    `json:"flaps"`
	// Advertised counts the paths sent to the neighbour, every family.
	Advertised uint64 `json:"advertised"`
	// PerFamily is Received, Accepted and Advertised by family.
	PerFamily []BGPFamilyCounts `json:"per_family,omitempty"`
	// MessagesSent and MessagesReceived count the session's messages by
	// type since the neighbour was configured.
	MessagesSent     BGPMessages `json:"messages_sent"`
	MessagesReceived BGPMessages `json:"messages_received"`
	OutQueue         uint32      `json:"out_queue"`
	// LocalCapabilities and RemoteCapabilities are the capabilities each
	// side sent in its OPEN, by name (RFC 5492), the families included.
	LocalCapabilities  []string `json:"local_capabilities,omitempty"`
	RemoteCapabilities []string `json:"remote_capabilities,omitempty"`
	// MD5 is true when the session is TCP-MD5 signed (RFC 2385).
	MD5 bool `json:"md5"`
	// MultihopTTL and TTLSecurityHops are the neighbour's settings: eBGP
	// multihop and GTSM (RFC 5082); 0 when off.
	MultihopTTL     uint8 `json:"multihop_ttl,omitempty"`
	TTLSecurityHops uint8 `json:"ttl_security_hops,omitempty"`
}

// BGPFamilyCounts are one family's path counts for a neighbour.
type BGPFamilyCounts struct {
	Family     string `json:"family"`
	Received   uint64 `json:"received"`
	Accepted   uint64 `json:"accepted"`
	Advertised uint64 `json:"advertised"`
}

// BGPMessages counts BGP messages by type.
type BGPMessages struct {
	Open         uint64 `json:"open"`
	Update       uint64 `json:"update"`
	Notification uint64 `json:"notification"`
	Keepalive    uint64 `json:"keepalive"`
	RouteRefresh uint64 `json:"route_refresh"`
	Total        uint64 `json:"total"`
}

// BGPReset is the answer to a reset of a BGP neighbour.
type BGPReset struct {
	Neighbor netip.Addr `json:"neighbor"`
	// Soft is "", "in", "out" or "both": empty for a hard reset (the
	// session closed with a Cease and re-formed).
	Soft string `json:"soft,omitempty"`
}

// BGPRoute is one path in the BGP table, as "show bgp routes" lists it.
type BGPRoute struct {
	Prefix  netip.Prefix `json:"prefix"`
	Family  string       `json:"family"`
	NextHop netip.Addr   `json:"next_hop,omitzero"`
	// Peer is the neighbour the path came from; zero for our own networks.
	Peer      netip.Addr    `json:"peer,omitzero"`
	Local     bool          `json:"local"` // one of our networks
	Best      bool          `json:"best"`
	ASPath    []uint32      `json:"as_path"`
	LocalPref uint32        `json:"local_pref,omitempty"`
	MED       uint32        `json:"med,omitempty"`
	Labels    []uint32      `json:"labels,omitempty"` // labelled unicast
	Age       time.Duration `json:"age_ns"`
}

// LSPPingResult is the answer to one probe.
type LSPPingResult struct {
	Seq        uint32              `json:"seq"`
	TTL        uint8               `json:"ttl"`
	Replied    bool                `json:"replied"`
	From       netip.Addr          `json:"from,omitzero"`
	RTT        time.Duration       `json:"rtt_ns,omitempty"`
	ReturnCode lspping.ReturnCode  `json:"return_code"`
	Subcode    uint8               `json:"return_subcode"`
	Meaning    string              `json:"meaning,omitempty"`
	Downstream []LSPPingDownstream `json:"downstream,omitempty"`
	Error      string              `json:"error,omitempty"`
}

// LSPPingDownstream is one downstream a transit router reported.
type LSPPingDownstream struct {
	Address netip.Addr `json:"address"`
	MTU     int        `json:"mtu"`
	Labels  []uint32   `json:"labels"`
}

// RouteNextHop is a gateway and the interface it is reached through. A connected
// route has no gateway (Addr is the zero value).
type RouteNextHop struct {
	Addr   netip.Addr `json:"addr"`
	Ifname string     `json:"ifname"`
}

// Route is one route to a prefix from one source.
type Route struct {
	Prefix   netip.Prefix   `json:"prefix"`
	Source   RouteSource    `json:"source"`
	Distance uint8          `json:"distance"`
	NextHops []RouteNextHop `json:"next_hops"`
	// Recursive holds, in a published route, the learned next-hop addresses
	// that were resolved through other routes (a BGP next hop on a remote
	// loopback): the kernel layer pushes the LSP label towards them.
	Recursive []netip.Addr `json:"recursive_next_hops,omitempty"`
	// Labels are labels the source asks to push, outermost first: the label
	// a BGP labelled-unicast peer advertised (RFC 8277). The kernel layer
	// pushes them under the LSP label towards the next hop.
	Labels []uint32 `json:"labels,omitempty"`
	// Protocol is a kernel route's protocol number (rtm_protocol: 188
	// for zebra's OSPF routes, 12 for BIRD's), for the label policy.
	Protocol uint8 `json:"protocol,omitempty"`
}

// RouteSource says where a route was learned.
type RouteSource uint8

// Route sources.
const (
	SourceConnected RouteSource = iota + 1
	SourceStatic
	SourceKernel
	SourceBGP
)

func (s RouteSource) String() string {
	switch s {
	case SourceConnected:
		return "connected"
	case SourceStatic:
		return "static"
	case SourceKernel:
		return "kernel"
	case SourceBGP:
		return "bgp"
	}
	return fmt.Sprintf("source(%d)", uint8(s))
}

// MarshalText writes the source's name, for the control API's JSON.
func (s RouteSource) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LDP session states as LDPNeighbor.State writes them (RFC 5036 section
// 2.5.4), and its graceful restart helper states.
const (
	LDPNonExistent  = "NON EXISTENT"
	LDPOperational  = "OPERATIONAL"
	GRReconnectWait = "reconnect-wait"
	GRRecovering    = "recovering"
)

// VRF is one VRF of the provider edge ("show vrf").
type VRF struct {
	Name      string   `json:"name"`
	Table     uint32   `json:"table"`
	RD        string   `json:"rd"`
	ImportRTs []string `json:"import_rts"`
	ExportRTs []string `json:"export_rts"`
	LabelMode string   `json:"label_mode"` // per-vrf or per-prefix
	// Label is the VRF's label (per-vrf mode).
	Label fib.Label `json:"label,omitempty"`
	// Local counts the routes of the VRF's table lsrd did not put there,
	// Exported those of them exported, Imported the prefixes with a VPN
	// route imported, Installed those with a route lsrd wants in the
	// table (an LSP to the provider edge, no local route).
	Local     int `json:"local"`
	Exported  int `json:"exported"`
	Imported  int `json:"imported"`
	Installed int `json:"installed"`
}

// VPNRoute is one VPN route ("show bgp vpn"): received (with the VRFs that
// import it) or exported by lsrd.
type VPNRoute struct {
	RD       string       `json:"rd"`
	Prefix   netip.Prefix `json:"prefix"`
	Label    uint32       `json:"label"`
	NextHop  netip.Addr   `json:"next_hop"`
	RTs      []string     `json:"route_targets"`
	Neighbor netip.Addr   `json:"neighbor,omitzero"` // zero for ours
	Exported bool         `json:"exported"`          // one lsrd originates
	VRFs     []string     `json:"vrfs,omitempty"`    // the VRFs importing it
	// LSP says the provider edge has an LSP (without one the route is
	// imported but not installed).
	LSP bool `json:"lsp"`
}
