package ldp

import (
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/ldp/fec"
	"github.com/lsrd/lsrd/ldp/lib"
)

// Defaults of RFC 5036: hello hold times of section 3.5.2 (15 s for Link
// Hellos, 45 s for Targeted Hellos, each sent at a third of the hold time),
// the KeepAlive time suggested in section 3.5.3, and the Max PDU Length that
// applies before negotiation.
const (
	DefaultLinkHelloHold         = 15 * time.Second
	DefaultLinkHelloInterval     = 5 * time.Second
	DefaultTargetedHelloHold     = 45 * time.Second
	DefaultTargetedHelloInterval = 15 * time.Second
	DefaultKeepAlive             = 180 * time.Second
	DefaultMaxPDULength          = 4096
	// InfiniteHold is the hello hold time 0xffff of section 3.5.2: the
	// adjacency never expires.
	InfiniteHold = 0xffff * time.Second
)

// Defaults of lsrd's bounds on what strangers can make it keep (RFC 5036
// sets none). Every LSR on a link or a ZeroTier network is a neighbour, so
// the adjacency bound is per interface and well above the 60 routers of a
// large overlay; the connection bounds follow OpenBSD/FRR ldpd, which give
// a connection without an adjacency 5 s to be matched by a hello
// (PENDING_CONN_TIMEOUT) and a session 15 s to initialize
// (INIT_FSM_TIMEOUT).
const (
	DefaultMaxAdjacenciesPerInterface = 256
	DefaultMaxNeighbors               = 1024
	DefaultMaxPendingConnections      = 64
	DefaultPendingConnTimeout         = 5 * time.Second
	DefaultInitTimeout                = 15 * time.Second
	// DefaultCountersLinger is how long the protocol counters (and metric
	// series) of a peer that reached OPERATIONAL outlive the neighbour:
	// long enough for a scrape to see a flap, short enough that peers
	// gone for good do not accumulate.
	DefaultCountersLinger = 15 * time.Minute
)

// Config is the engine's configuration. Zero durations and lengths take the
// RFC 5036 defaults above.
type Config struct {
	// LSRID is this LSR's router ID, the first part of its LDP Identifier
	// (section 2.2.2). The label space is always 0: lsrd has one
	// platform-wide label space.
	LSRID netip.Addr
	// TransportAddr is the address sessions use (section 2.5.2); invalid
	// means LSRID.
	TransportAddr netip.Addr
	// TransportAddr6, a global IPv6 address, runs LDP over IPv6 too (RFC
	// 7552, family.go): link hellos to ff02::2, IPv6 sessions, FECs and
	// addresses. IPv4Disabled leaves IPv6 alone (an IPv6-only LSR).
	TransportAddr6 netip.Addr
	IPv4Disabled   bool
	// TransportPreference is the family of sessions between dual-stack
	// LSRs (RFC 7552 section 6.1.1): IPv6 unless fec.IPv4.
	TransportPreference Family
	// Interfaces run basic discovery (section 2.4.1), in the families
	// InterfaceFamilies lists for them, else in every family LDP runs in.
	Interfaces        []string
	InterfaceFamilies map[string][]Family
	// Targets receive Targeted Hellos (section 2.4.2) for extended
	// discovery.
	Targets []netip.Addr
	// AcceptTargeted lists the sources whose Targeted Hellos are answered
	// even though they are not in Targets; 0.0.0.0/0 accepts any. Targets
	// are always accepted.
	AcceptTargeted []netip.Prefix

	LinkHelloHold         time.Duration
	LinkHelloInterval     time.Duration
	TargetedHelloHold     time.Duration
	TargetedHelloInterval time.Duration
	// KeepAlive is the session hold time proposed in Initialization
	// (section 3.5.3); KeepAlives are sent every third of the negotiated
	// value.
	KeepAlive time.Duration
	// MaxPDULength is the Max PDU Length proposed in Initialization.
	MaxPDULength uint16

	// Bounds on the state other LSRs can create. Hellos beyond them are
	// dropped before any state is kept, and counted (Counters.Limits).
	// MaxAdjacenciesPerInterface bounds the link adjacencies of one
	// interface, so that a flood on one link cannot crowd out the others;
	// MaxNeighbors bounds the neighbours (LSR IDs) altogether, configured
	// targets excepted.
	MaxAdjacenciesPerInterface int
	MaxNeighbors               int
	// MaxPendingConnections bounds the accepted connections whose peer has
	// not yet named itself in a PDU; more are closed at once.
	// PendingConnTimeout is how long a connection from an address that
	// no adjacency has may wait for its first PDU (a TCP SYN may overtake
	// the hello); InitTimeout how long any session may take to have the
	// peer's Initialization accepted (OPENREC); from then on the peer has
	// the negotiated KeepAlive time for its KeepAlive.
	MaxPendingConnections int
	PendingConnTimeout    time.Duration
	InitTimeout           time.Duration
	// CountersLinger is how long a peer's counters outlive it.
	CountersLinger time.Duration

	// Auth is the TCP-MD5 keys of sessions (auth.go), by prefix of
	// neighbour LSR IDs.
	Auth []AuthKey
	// GTSM is RFC 6720 (gtsm.go).
	GTSM GTSM

	// LabelMin and LabelMax are the local label range, as the LIB was
	// created with. A configuration change that moves it renumbers the
	// FECs outside the new range without a session reset (the
	// LabelManager's SetLabelRange); zero leaves the range to the LIB.
	LabelMin, LabelMax fib.Label

	// GracefulRestart is LDP Graceful Restart (RFC 3478), off when not
	// Enabled: no FT Session TLV is sent and every session loss ends the
	// neighbour's bindings at once, as RFC 5036 has it.
	GracefulRestart GracefulRestart

	// Logger receives protocol events; nil discards them. Logging never
	// changes what Handle returns.
	Logger *slog.Logger
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if !c.TransportAddr.IsValid() {
		c.TransportAddr = c.LSRID
	}
	def := setDefault[time.Duration]
	def(&c.LinkHelloHold, DefaultLinkHelloHold)
	def(&c.LinkHelloInterval, DefaultLinkHelloInterval)
	def(&c.TargetedHelloHold, DefaultTargetedHelloHold)
	def(&c.TargetedHelloInterval, DefaultTargetedHelloInterval)
	def(&c.KeepAlive, DefaultKeepAlive)
	if c.MaxPDULength == 0 {
		c.MaxPDULength = DefaultMaxPDULength
	}
	defInt := setDefault[int]
	defInt(&c.MaxAdjacenciesPerInterface, DefaultMaxAdjacenciesPerInterface)
	defInt(&c.MaxNeighbors, DefaultMaxNeighbors)
	defInt(&c.MaxPendingConnections, DefaultMaxPendingConnections)
	def(&c.PendingConnTimeout, DefaultPendingConnTimeout)
	def(&c.InitTimeout, DefaultInitTimeout)
	def(&c.CountersLinger, DefaultCountersLinger)
	if c.GracefulRestart.Enabled {
		def(&c.GracefulRestart.ReconnectTime, DefaultGRReconnectTime)
		def(&c.GracefulRestart.RecoveryTime, DefaultGRRecoveryTime)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// setDefault sets *p to v when it is the zero value.
func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

func configErr(field string, value any, why string) error {
	return fmt.Errorf("ldp config: %s %v: %s", field, value, why)
}

// validate checks a configuration that already has its defaults.
func (c Config) validate() error {
	if !c.LSRID.Is4() || c.LSRID.IsUnspecified() {
		return configErr("LSRID", c.LSRID, "must be a non-zero IPv4 address (RFC 5036 section 2.2.2)")
	}
	if !c.TransportAddr.Is4() || c.TransportAddr.IsUnspecified() || c.TransportAddr.IsMulticast() {
		return configErr("TransportAddr", c.TransportAddr, "must be an IPv4 unicast address")
	}
	if c.TransportAddr6.IsValid() && (!c.TransportAddr6.Is6() || c.TransportAddr6.Is4In6() || !usableTransport(c.TransportAddr6) || c.TransportAddr6.Zone() != "") {
		return configErr("TransportAddr6", c.TransportAddr6, "must be a global unicast IPv6 address (RFC 7552 section 6.1)")
	}
	if c.LabelMin != 0 || c.LabelMax != 0 {
		if err := lib.CheckLabelRange(c.LabelMin, c.LabelMax); err != nil {
			return fmt.Errorf("ldp config: %w", err)
		}
	}
	if c.families() == 0 {
		return configErr("IPv4Disabled", true, "and no TransportAddr6: LDP would run in no address family")
	}
	if p := c.TransportPreference; p != 0 && p != fec.IPv4 && p != fec.IPv6 {
		return configErr("TransportPreference", p, "must be IPv4 or IPv6")
	}
	for i, n := range c.Interfaces {
		if n == "" {
			return configErr(fmt.Sprintf("Interfaces[%d]", i), `""`, "empty interface name")
		}
		if slices.Contains(c.Interfaces[:i], n) {
			return configErr(fmt.Sprintf("Interfaces[%d]", i), n, "listed twice")
		}
	}
	for i, a := range c.Targets {
		f := fmt.Sprintf("Targets[%d]", i)
		if !usableTransport(a) || a.Zone() != "" || !c.families().has(fec.FamilyOf(a)) {
			return configErr(f, a, "must be a unicast address (IPv6: global) of a family LDP runs in")
		}
		if slices.Contains(c.Targets[:i], a) {
			return configErr(f, a, "listed twice")
		}
		if a == c.TransportAddr || a == c.TransportAddr6 {
			return configErr(f, a, "is this LSR's transport address")
		}
	}
	for i, p := range c.AcceptTargeted {
		if !p.IsValid() || p.Addr().Zone() != "" || !c.families().has(fec.FamilyOf(p.Addr())) {
			return configErr(fmt.Sprintf("AcceptTargeted[%d]", i), p, "must be a prefix of a family LDP runs in")
		}
	}
	if err := checkHello("LinkHello", c.LinkHelloHold, c.LinkHelloInterval); err != nil {
		return err
	}
	if err := checkHello("TargetedHello", c.TargetedHelloHold, c.TargetedHelloInterval); err != nil {
		return err
	}
	// The KeepAlive time is a 16-bit count of seconds; below 3 s a third of
	// it would round to nothing.
	if c.KeepAlive < 3*time.Second || c.KeepAlive > 0xffff*time.Second || c.KeepAlive%time.Second != 0 {
		return configErr("KeepAlive", c.KeepAlive, "must be whole seconds from 3s to 65535s")
	}
	// Values of 255 or less mean 4096 on the wire (section 3.5.3); refuse
	// them rather than silently propose something else.
	if c.MaxPDULength < 256 {
		return configErr("MaxPDULength", c.MaxPDULength, "must be at least 256")
	}
	for _, b := range []struct {
		name string
		v    int
	}{{"MaxAdjacenciesPerInterface", c.MaxAdjacenciesPerInterface}, {"MaxNeighbors", c.MaxNeighbors}, {"MaxPendingConnections", c.MaxPendingConnections}} {
		if b.v < 1 {
			return configErr(b.name, b.v, "must be at least 1")
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"PendingConnTimeout", c.PendingConnTimeout}, {"InitTimeout", c.InitTimeout}, {"CountersLinger", c.CountersLinger}} {
		if d.v < time.Second {
			return configErr(d.name, d.v, "must be at least 1s")
		}
	}
	for name, fams := range c.InterfaceFamilies {
		f := fmt.Sprintf("InterfaceFamilies[%s]", name)
		if !slices.Contains(c.Interfaces, name) {
			return configErr(f, fams, "names an interface not in Interfaces")
		}
		for _, af := range fams {
			if !c.families().has(af) {
				return configErr(f, af, "is not a family LDP runs in")
			}
		}
	}
	if err := c.validateAuth(); err != nil {
		return err
	}
	if err := c.GTSM.validate(); err != nil {
		return err
	}
	return c.GracefulRestart.validate()
}

func checkHello(name string, hold, interval time.Duration) error {
	if hold%time.Second != 0 || hold < 3*time.Second || hold > InfiniteHold {
		return configErr(name+"Hold", hold, "must be whole seconds from 3s to 65535s (infinite)")
	}
	if interval <= 0 || (hold != InfiniteHold && interval >= hold) {
		return configErr(name+"Interval", interval, fmt.Sprintf("must be positive and below the hold time %v", hold))
	}
	return nil
}

// sameIdentity reports whether two configurations give this LSR the same
// LDP Identifier and transport address; when either changes every session
// and adjacency must start over.
func (c Config) sameIdentity(o Config) bool {
	return c.LSRID == o.LSRID && c.TransportAddr == o.TransportAddr && c.TransportAddr6 == o.TransportAddr6 &&
		c.IPv4Disabled == o.IPv4Disabled && c.preference() == o.preference()
}

// acceptsTargeted reports whether a Targeted Hello from src is answered
// (RFC 5036 section 2.4.2 leaves this to configuration).
func (c Config) acceptsTargeted(src netip.Addr) bool {
	if slices.Contains(c.Targets, src) {
		return true
	}
	for _, p := range c.AcceptTargeted {
		if p.Contains(src) {
			return true
		}
	}
	return false
}
