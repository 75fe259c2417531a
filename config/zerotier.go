package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/lsrd/lsrd/zerotier"
)

// ZeroTier configures how lsrd watches the ZeroTier underlay: where ZeroTier
// One's local service API is, and what the health checks expect. Absent, it
// takes its defaults as soon as an LDP interface is given as a network ID.
type ZeroTier struct {
	// API is ZeroTier One's local service (http://127.0.0.1:9993).
	API string `yaml:"api"`
	// AuthToken is the file holding the API token.
	AuthToken string `yaml:"authtoken"`
	// PollInterval is how often lsrd asks the service (5s).
	PollInterval Duration `yaml:"poll-interval"`
	// ExpectedPlanet is the planet every node must use; unchecked when absent.
	ExpectedPlanet *ExpectedPlanet `yaml:"expected-planet"`
	// MaxLabelDepth is the deepest label stack lsrd may push (2): the MTU
	// check asks for room for that many 4-byte labels.
	MaxLabelDepth int `yaml:"max-label-depth"`
	// PayloadMTU is the largest IP packet that must cross the overlay
	// labelled (1500).
	PayloadMTU int `yaml:"payload-mtu"`
	// MulticastGrace is how long after LDP joins 224.0.0.2 on a ZeroTier
	// device the kernel's membership is enough for the multicast check,
	// before ZeroTier One's own list shows the subscription (2m: it
	// refreshes the list with each network config, about every 60 s).
	MulticastGrace Duration `yaml:"multicast-grace"`
	// DataplaneInterval is how often lsrd LSP-pings each LDP neighbour on a
	// ZeroTier network, plain and labelled, to catch flow rules that drop
	// MPLS (30s).
	DataplaneInterval Duration `yaml:"dataplane-interval"`
}

// ExpectedPlanet names a planet by its world ID and, optionally, timestamp.
type ExpectedPlanet struct {
	ID        uint64 `yaml:"id"`
	Timestamp uint64 `yaml:"timestamp"`
}

// NetworkID returns the ZeroTier network ID an LDP interface is given as,
// and false when it is a device name.
func (i Interface) NetworkID() (uint64, bool) {
	if len(i.Name) != 16 {
		return 0, false
	}
	id, err := zerotier.ParseNetworkID(i.Name)
	return id, err == nil
}

// validInterfaceName accepts a Linux device name or a ZeroTier network ID.
func validInterfaceName(f, name string) error {
	if len(name) == 16 {
		if _, err := zerotier.ParseNetworkID(name); err != nil {
			return fieldError(f, fmt.Sprintf("%q", name), "neither a Linux interface name (at most 15 characters) nor a ZeroTier network ID (16 hex digits)")
		}
		return nil
	}
	if name == "" || len(name) > 15 || strings.ContainsAny(name, "/ \t") {
		return fieldError(f, fmt.Sprintf("%q", name), "not a Linux interface name (1-15 characters, no '/' or spaces) nor a ZeroTier network ID (16 hex digits)")
	}
	return nil
}

// usesNetworkIDs reports whether an LDP interface is given as a network ID.
func (c *Config) usesNetworkIDs() bool {
	for _, i := range c.LDP.Interfaces {
		if _, ok := i.NetworkID(); ok {
			return true
		}
	}
	return false
}

func (c *Config) setZeroTierDefaults() {
	if c.ZeroTier == nil {
		if !c.usesNetworkIDs() {
			return
		}
		c.ZeroTier = &ZeroTier{}
	}
	z := c.ZeroTier
	if z.API == "" {
		z.API = zerotier.DefaultAPI
	}
	if z.AuthToken == "" {
		z.AuthToken = zerotier.DefaultTokenPath
	}
	if z.PollInterval == 0 {
		z.PollInterval = Duration(5 * time.Second)
	}
	if z.MaxLabelDepth == 0 {
		z.MaxLabelDepth = 2
	}
	if z.PayloadMTU == 0 {
		z.PayloadMTU = 1500
	}
	if z.DataplaneInterval == 0 {
		z.DataplaneInterval = Duration(30 * time.Second)
	}
	if z.MulticastGrace == 0 {
		z.MulticastGrace = Duration(zerotier.DefaultMulticastGrace)
	}
}

func (c *Config) validateZeroTier() error {
	z := c.ZeroTier
	if z == nil {
		return nil
	}
	u, err := url.Parse(z.API)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return fieldError("zerotier.api", z.API, "must be an http URL of ZeroTier One's service, like http://127.0.0.1:9993")
	}
	if !strings.HasPrefix(z.AuthToken, "/") {
		return fieldError("zerotier.authtoken", z.AuthToken, "must be an absolute path, like /var/lib/zerotier-one/authtoken.secret")
	}
	if p := z.PollInterval.Std(); p < 100*time.Millisecond || p > 10*time.Minute {
		return fieldError("zerotier.poll-interval", p, "must be between 100ms and 10m")
	}
	if z.MaxLabelDepth < 1 || z.MaxLabelDepth > 16 {
		return fieldError("zerotier.max-label-depth", z.MaxLabelDepth, "must be between 1 and 16 labels")
	}
	if z.PayloadMTU < 68 || z.PayloadMTU > 10000 {
		return fieldError("zerotier.payload-mtu", z.PayloadMTU, "must be between 68 (IPv4's minimum) and 10000 (ZeroTier's largest MTU)")
	}
	if p := z.DataplaneInterval.Std(); p < time.Second || p > time.Hour {
		return fieldError("zerotier.dataplane-interval", p, "must be between 1s and 1h")
	}
	if g := z.MulticastGrace.Std(); g < time.Second || g > time.Hour {
		return fieldError("zerotier.multicast-grace", g, "must be between 1s and 1h")
	}
	if z.ExpectedPlanet != nil && z.ExpectedPlanet.ID == 0 {
		return fieldError("zerotier.expected-planet.id", 0, "a world ID is required (lsrctl zerotier planet inspect shows it)")
	}
	return nil
}

// Expect returns what the health checks hold the underlay to.
func (z *ZeroTier) Expect() zerotier.Expect {
	e := zerotier.Expect{MaxLabelDepth: z.MaxLabelDepth, PayloadMTU: z.PayloadMTU, MulticastGrace: z.MulticastGrace.Std()}
	if z.ExpectedPlanet != nil {
		e.PlanetID, e.PlanetTimestamp = z.ExpectedPlanet.ID, z.ExpectedPlanet.Timestamp
	}
	return e
}
