// Package config reads and validates lsrd's YAML configuration
// (/etc/lsrd/lsrd.yaml by default).
//
// It owns the file's schema, its defaults and every check on it: a bad file
// is rejected whole, with the file, the field and the value named, before
// anything else of lsrd sees it. It never starts anything and never touches
// the network or the kernel.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lsrd/lsrd/internal/strictyaml"

	"go.yaml.in/yaml/v3"
)

// MaxKernelLabel is the highest label Linux can forward: its label table
// (net.mpls.platform_labels) holds at most 2^20-1 entries, labels 0 to
// 2^20-2, so the 20-bit label 1048575 is out of its reach.
const MaxKernelLabel = 1<<20 - 2

// DefaultPath is where lsrd looks for its configuration.
const DefaultPath = "/etc/lsrd/lsrd.yaml"

// Config is lsrd's whole configuration.
type Config struct {
	RouterID     netip.Addr    `yaml:"router-id"`
	LogLevel     string        `yaml:"log-level"`
	LogFormat    string        `yaml:"log-format"`
	LDP          LDP           `yaml:"ldp"`
	StaticRoutes []StaticRoute `yaml:"static-routes"`
	BGP          *BGP          `yaml:"bgp"`
	Kernel       Kernel        `yaml:"kernel"`
	Metrics      Metrics       `yaml:"metrics"`
	Control      Control       `yaml:"control"`
	ZeroTier     *ZeroTier     `yaml:"zerotier"`
	// VRFs make lsrd a provider edge for BGP/MPLS IP VPNs (vrf.go).
	VRFs      []VRF     `yaml:"vrfs"`
	VRFLabels VRFLabels `yaml:"vrf-labels"`
	// Memory sets the Go collector's headroom (memory.go).
	Memory Memory `yaml:"memory"`

	// Warnings are what is valid but likely not meant, for lsrd to log
	// and lsrd -check to print.
	Warnings []string `yaml:"-"`
}

// LDP configures discovery, sessions and labels.
type LDP struct {
	// TransportAddress is where sessions are dialled from and accepted on;
	// the router ID when unset.
	TransportAddress netip.Addr `yaml:"transport-address"`
	// AddressFamilies are the families LDP runs in (RFC 7552): ipv4 (the
	// default), ipv6, or both (dual stack). IPv6 needs
	// TransportAddressIPv6, a global address of this router.
	AddressFamilies      []string   `yaml:"address-families"`
	TransportAddressIPv6 netip.Addr `yaml:"transport-address-ipv6"`
	// TransportPreference is the family of sessions between dual-stack
	// routers (RFC 7552 section 6.1.1): ipv6 (the RFC's default) or ipv4.
	// Both routers must agree.
	TransportPreference string      `yaml:"transport-preference"`
	Interfaces          []Interface `yaml:"interfaces"`
	Targeted            []Targeted  `yaml:"targeted-neighbors"`
	// AcceptTargeted lists the prefixes whose LSRs may open a targeted
	// adjacency without being configured here.
	AcceptTargeted []netip.Prefix `yaml:"accept-targeted-from"`
	Timers         Timers         `yaml:"timers"`
	Labels         Labels         `yaml:"labels"`
	Limits         Limits         `yaml:"limits"`
	// GracefulRestart is RFC 3478 (gracefulrestart.go).
	GracefulRestart GracefulRestart `yaml:"graceful-restart"`
	// Neighbors are TCP-MD5 passwords and GTSM exceptions by LSR ID
	// (security.go).
	Neighbors []Neighbor `yaml:"neighbors"`
	// GTSM is RFC 6720 (security.go).
	GTSM GTSM `yaml:"gtsm"`
}

// Interface is an interface LDP runs basic discovery on, in AddressFamilies
// (a subset of ldp.address-families; all of them when empty).
type Interface struct {
	Name            string   `yaml:"name"`
	AddressFamilies []string `yaml:"address-families"`
}

// Targeted is a neighbour reached with extended discovery.
type Targeted struct {
	Address netip.Addr `yaml:"address"`
}

// Timers are LDP's protocol timers (RFC 5036 defaults).
type Timers struct {
	HelloInterval         Duration `yaml:"hello-interval"`
	HelloHold             Duration `yaml:"hello-hold"`
	TargetedHelloInterval Duration `yaml:"targeted-hello-interval"`
	TargetedHelloHold     Duration `yaml:"targeted-hello-hold"`
	KeepAlive             Duration `yaml:"keepalive"`
}

// Labels is the label allocation policy.
type Labels struct {
	Min uint32 `yaml:"min"`
	Max uint32 `yaml:"max"`
	// Control is "ordered" (the default) or "independent" (RFC 5036 2.6.1).
	Control string `yaml:"control"`
	// ExplicitNull advertises label 0 instead of implicit-null for FECs this
	// router is egress for.
	ExplicitNull bool `yaml:"explicit-null"`
	// Allocate says which routes get labels: "host-routes" (the default:
	// connected prefixes and /32 and /128 routes, so loopbacks get LSPs and a
	// full table never does) or "all". Neither includes BGP routes.
	Allocate string `yaml:"allocate"`
	// BGPHostRoutes also gives labels to /32 and /128 routes learned by BGP:
	// the loopbacks of remote LSRs learned over the overlay, so that LDP
	// builds LSPs to them. Other BGP routes never get labels.
	BGPHostRoutes bool `yaml:"bgp-host-routes"`
	// Protocols limits the kernel routes (those other daemons and
	// operators installed) that get labels to these route protocols, by
	// iproute2's name ("ospf", "isis", "bird") or number. Empty: any.
	// Connected and lsrd's own static routes are not kernel routes.
	Protocols []RouteProtocol `yaml:"protocols"`
	// PrefixList limits labels to the routes it permits, whatever their
	// source: rules as in bgp.prefix-lists ({prefix: 10.255.0.0/16, le:
	// 32}), the first that matches decides, none denies. Empty: any.
	PrefixList []PrefixRule `yaml:"prefix-list"`
}

// StaticRoute is a route from the configuration.
type StaticRoute struct {
	Prefix    netip.Prefix `yaml:"prefix"`
	NextHop   netip.Addr   `yaml:"next-hop"`
	Interface string       `yaml:"interface"`
	Distance  *uint8       `yaml:"distance"`
}

// Kernel configures the kernel layer.
type Kernel struct {
	// KeepRoutesOnShutdown leaves lsrd's kernel routes in place when it stops,
	// for a restart that must not interrupt forwarding; the next start adopts
	// them.
	KeepRoutesOnShutdown bool `yaml:"keep-routes-on-shutdown"`
	// RestartSweepAfter bounds how long a start keeps the routes a previous
	// run left (kept on purpose, or after a crash) while it waits for its
	// inputs (LDP, BGP) to say they have brought everything back: then
	// whatever nobody wants is deleted, converged or not. Default 120s.
	RestartSweepAfter Duration `yaml:"restart-sweep-after"`
	// StopTimeout bounds how long a clean stop spends removing lsrd's
	// kernel routes (all tables, side by side). What is left then stays
	// until the next start adopts and sweeps it. Default 60s; the service
	// manager's stop timeout must be longer.
	StopTimeout Duration `yaml:"stop-timeout"`
	// RouteProtocol is the protocol number on every route and nexthop
	// object lsrd installs (default 234: no routing daemon's). A start
	// adopts what an earlier lsrd left with 193, its number before.
	RouteProtocol uint8 `yaml:"route-protocol"`
	// Ingress: where the labelled copies of other daemons' routes go.
	Ingress Ingress `yaml:"ingress"`
}

// DefaultRestartSweepAfter is kernel.restart-sweep-after's default: the
// restart time GoBGP and FRR's bgpd offer by default (RFC 4724's Restart
// Time) and the order of LDP graceful restart's recovery time. LDP without
// graceful restart needs a hello hold time (15s) and a session (up to the
// 15s init timeout) plus the label exchange; BGP a connect retry (30s) plus
// a full table; 120s covers both on a loaded router, and a route nobody
// wants any more lives at most that long.
const DefaultRestartSweepAfter = 120 * time.Second

// DefaultStopTimeout is kernel.stop-timeout's default: a full table of
// routes and VRFs of 100,000 routes need far less on hardware (the kernel
// deletes a route in microseconds), and well over 10s under emulation.
const DefaultStopTimeout = 60 * time.Second

// Metrics configures the Prometheus endpoint.
type Metrics struct {
	Listen string `yaml:"listen"` // host:port; empty disables
	// Pprof also serves Go's profiles at /debug/pprof/ on Listen, for
	// finding where memory or CPU goes. Off by default: profiles show
	// internals and cost CPU while taken.
	Pprof bool `yaml:"pprof"`
}

// Control configures the operators' API socket.
type Control struct {
	Socket string `yaml:"socket"`
}

// Duration is a time.Duration written as "5s", "3m".
type Duration time.Duration

// UnmarshalYAML reads a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (like 5s or 3m)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Std returns the duration as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// MarshalYAML writes the duration as the configuration does ("5s").
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Load reads and validates the file at path.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, b)
}

// Parse reads and validates a configuration; name is used in errors.
func Parse(name string, b []byte) (*Config, error) {
	var c Config
	if err := strictyaml.Decode(name, b, &c); err != nil {
		if errors.Is(err, strictyaml.ErrEmpty) {
			return nil, fmt.Errorf("%s: empty configuration: router-id is required", name)
		}
		return nil, err
	}
	c.setDefaults()
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, withLine(err, b))
	}
	if err := c.LDP.loadNeighbors(filepath.Dir(name)); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(c.LDP.Interfaces) == 0 && len(c.LDP.Targeted) == 0 && len(c.LDP.AcceptTargeted) == 0 {
		c.Warnings = append(c.Warnings, "ldp: no interfaces, targeted-neighbors or accept-targeted-from: LDP will form no session")
	}
	return &c, nil
}

func (c *Config) setDefaults() {
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.LogFormat == "" {
		c.LogFormat = "text"
	}
	c.Memory.setDefaults()
	l := &c.LDP
	if !l.TransportAddress.IsValid() {
		l.TransportAddress = c.RouterID
	}
	if len(l.AddressFamilies) == 0 {
		l.AddressFamilies = []string{"ipv4"}
	}
	if l.TransportPreference == "" {
		l.TransportPreference = "ipv6"
	}
	t := &l.Timers
	def := func(d *Duration, v time.Duration) {
		if *d == 0 {
			*d = Duration(v)
		}
	}
	def(&t.HelloInterval, 5*time.Second)
	def(&t.HelloHold, 15*time.Second)
	def(&t.TargetedHelloInterval, 15*time.Second)
	def(&t.TargetedHelloHold, 45*time.Second)
	def(&t.KeepAlive, 180*time.Second)
	l.Limits.setDefaults()
	l.GracefulRestart.setDefaults()
	if l.Labels.Min == 0 {
		l.Labels.Min = 16
	}
	ldpMaxGiven := l.Labels.Max != 0
	if l.Labels.Max == 0 {
		l.Labels.Max = MaxKernelLabel
	}
	if l.Labels.Control == "" {
		l.Labels.Control = "ordered"
	}
	if l.Labels.Allocate == "" {
		l.Labels.Allocate = "host-routes"
	}
	c.Kernel.setDefaults()
	if c.Kernel.RestartSweepAfter == 0 {
		c.Kernel.RestartSweepAfter = Duration(DefaultRestartSweepAfter)
	}
	if c.Kernel.StopTimeout == 0 {
		c.Kernel.StopTimeout = Duration(DefaultStopTimeout)
	}
	if c.Control.Socket == "" {
		c.Control.Socket = "/run/lsrd/lsrd.sock"
	}
	if c.BGP != nil && !c.BGP.RouterID.IsValid() {
		c.BGP.RouterID = c.RouterID
	}
	c.setZeroTierDefaults()
	c.setVRFDefaults(ldpMaxGiven)
}

// fieldError names a field and its bad value.
func fieldError(field string, value any, why string) error {
	return &FieldError{Field: field, Value: fmt.Sprint(value), Why: why}
}

// FieldError is a configuration value refused after decoding: the key path
// as the file writes it, the value, and why.
type FieldError struct {
	Field, Value, Why string
}

func (e *FieldError) Error() string { return fmt.Sprintf("field %s: %s: %s", e.Field, e.Value, e.Why) }

// withLine prefixes a FieldError with the line of its field in b, when the
// file has the field (a default that is refused has none).
func withLine(err error, b []byte) error {
	lines := strictyaml.Lines(b)
	var fe *FieldError
	if !errors.As(err, &fe) {
		// Other parts' checks (bgp) start with the field's path.
		if path, rest, ok := strings.Cut(err.Error(), ": "); ok {
			if line, ok := lines[path]; ok {
				return fmt.Errorf("line %d: field %s: %s", line, path, rest)
			}
		}
		return err
	}
	for f := fe.Field; f != ""; {
		if line, ok := lines[f]; ok {
			return fmt.Errorf("line %d: %w", line, err)
		}
		// A field the file does not write: its section's line.
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return err
}

func (c *Config) validate() error {
	if !c.RouterID.IsValid() {
		return errors.New("field router-id: missing: it is required (an IPv4 address, usually the loopback)")
	}
	if !c.RouterID.Is4() || c.RouterID.IsUnspecified() {
		return fieldError("router-id", c.RouterID, "must be a non-zero IPv4 address (an LSR ID is 4 bytes)")
	}
	if err := c.Memory.validate(); err != nil {
		return err
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fieldError("log-level", c.LogLevel, "must be debug, info, warn or error")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fieldError("log-format", c.LogFormat, "must be text (key=value) or json (one JSON object a line)")
	}
	l := c.LDP
	if !l.TransportAddress.Is4() {
		return fieldError("ldp.transport-address", l.TransportAddress, "must be an IPv4 address")
	}
	if err := l.validateFamilies(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, ifc := range l.Interfaces {
		f := fmt.Sprintf("ldp.interfaces[%d].name", i)
		if err := validInterfaceName(f, ifc.Name); err != nil {
			return err
		}
		if seen[ifc.Name] {
			return fieldError(f, ifc.Name, "listed twice")
		}
		seen[ifc.Name] = true
	}
	for i, tn := range l.Targeted {
		if !tn.Address.Is4() {
			return fieldError(fmt.Sprintf("ldp.targeted-neighbors[%d].address", i), tn.Address, "must be an IPv4 address")
		}
	}
	t := l.Timers
	for _, p := range []struct {
		field          string
		interval, hold Duration
	}{
		{"ldp.timers.hello", t.HelloInterval, t.HelloHold},
		{"ldp.timers.targeted-hello", t.TargetedHelloInterval, t.TargetedHelloHold},
	} {
		if p.hold.Std() < time.Second || p.hold.Std() > 65535*time.Second {
			return fieldError(p.field+"-hold", p.hold.Std(), "must be between 1s and 65535s (a 16-bit count of seconds)")
		}
		if p.interval.Std() <= 0 || p.interval >= p.hold {
			return fieldError(p.field+"-interval", p.interval.Std(), fmt.Sprintf("must be positive and shorter than the hold time %s", p.hold.Std()))
		}
	}
	if k := t.KeepAlive.Std(); k < time.Second || k > 65535*time.Second {
		return fieldError("ldp.timers.keepalive", k, "must be between 1s and 65535s")
	}
	if err := l.Limits.validate(); err != nil {
		return err
	}
	if err := l.GracefulRestart.validate(); err != nil {
		return err
	}
	lb := l.Labels
	if lb.Min < 16 || lb.Min > MaxKernelLabel {
		return fieldError("ldp.labels.min", lb.Min, fmt.Sprintf("must be between 16 (0-15 are reserved) and %d", MaxKernelLabel))
	}
	if lb.Max < lb.Min || lb.Max > MaxKernelLabel {
		return fieldError("ldp.labels.max", lb.Max, fmt.Sprintf("must be between min (%d) and %d, the highest label the Linux kernel's label table can hold", lb.Min, MaxKernelLabel))
	}
	if lb.Control != "ordered" && lb.Control != "independent" {
		return fieldError("ldp.labels.control", lb.Control, "must be ordered or independent")
	}
	if lb.Allocate != "host-routes" && lb.Allocate != "all" {
		return fieldError("ldp.labels.allocate", lb.Allocate, "must be host-routes or all")
	}
	if errs := checkActions("ldp.labels.prefix-list", lb.PrefixList); len(errs) > 0 {
		return errs[0]
	}
	if err := PrefixList("ldp.labels.prefix-list", lb.PrefixList).Check("ldp.labels.prefix-list"); err != nil {
		return err
	}
	for i, s := range c.StaticRoutes {
		f := fmt.Sprintf("static-routes[%d]", i)
		if !s.Prefix.IsValid() {
			return fieldError(f+".prefix", "missing", "a prefix like 192.0.2.0/24 is required")
		}
		if s.Prefix != s.Prefix.Masked() {
			return fieldError(f+".prefix", s.Prefix, fmt.Sprintf("has host bits set (did you mean %s?)", s.Prefix.Masked()))
		}
		if !s.NextHop.IsValid() && s.Interface == "" {
			return fieldError(f, s.Prefix, "needs a next-hop, an interface, or both")
		}
		if s.NextHop.IsValid() && s.NextHop.Is4() != s.Prefix.Addr().Is4() {
			return fieldError(f+".next-hop", s.NextHop, "is not of the prefix's address family")
		}
		if s.NextHop.Zone() != "" {
			return fieldError(f+".next-hop", s.NextHop, "has a zone: give the address alone and the interface in interface")
		}
		if s.NextHop.IsLinkLocalUnicast() && s.Interface == "" {
			return fieldError(f+".next-hop", s.NextHop, "is link-local: it needs an interface")
		}
	}
	if err := c.Kernel.validate(); err != nil {
		return err
	}
	if d := c.Kernel.RestartSweepAfter.Std(); d < time.Second || d > time.Hour {
		return fieldError("kernel.restart-sweep-after", d, "must be between 1s and 1h")
	}
	if d := c.Kernel.StopTimeout.Std(); d < time.Second || d > time.Hour {
		return fieldError("kernel.stop-timeout", d, "must be between 1s and 1h")
	}
	if c.Metrics.Listen != "" && !strings.Contains(c.Metrics.Listen, ":") {
		return fieldError("metrics.listen", c.Metrics.Listen, "must be host:port, like 127.0.0.1:9642")
	}
	if !strings.HasPrefix(c.Control.Socket, "/") {
		return fieldError("control.socket", c.Control.Socket, "must be an absolute path")
	}
	if err := c.validateZeroTier(); err != nil {
		return err
	}
	if err := c.validateVRFs(); err != nil {
		return err
	}
	if c.BGP != nil {
		return c.BGP.validate()
	}
	return nil
}

// Redacted returns the configuration as YAML, as lsrd runs it (defaults
// filled in), with every password replaced: "lsrctl show running-config".
func (c *Config) Redacted() ([]byte, error) {
	cp := *c
	cp.LDP.Neighbors = slices.Clone(c.LDP.Neighbors)
	for i := range cp.LDP.Neighbors {
		if cp.LDP.Neighbors[i].Password != "" {
			cp.LDP.Neighbors[i].Password = "<redacted>"
		}
	}
	if c.BGP != nil {
		b := *c.BGP
		b.Neighbors = slices.Clone(c.BGP.Neighbors)
		for i := range b.Neighbors {
			if b.Neighbors[i].Password != "" {
				b.Neighbors[i].Password = "<redacted>"
			}
		}
		cp.BGP = &b
	}
	return yaml.Marshal(&cp)
}
