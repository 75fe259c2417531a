package api

import (
	"time"

	"github.com/lsrd/lsrd/zerotier"
)

// ZeroTierView is what lsrd knows of the ZeroTier underlay
// (GET /v1/zerotier, "lsrctl show zerotier").
type ZeroTierView struct {
	// Enabled is false when lsrd does not watch ZeroTier (no zerotier
	// section and no LDP interface given as a network ID).
	Enabled   bool   `json:"enabled"`
	API       string `json:"api,omitempty"`
	AuthToken string `json:"authtoken,omitempty"`
	// Reachable says whether the last poll of the service succeeded; Error
	// says why not.
	Reachable bool          `json:"reachable"`
	Error     string        `json:"error,omitempty"`
	Updated   time.Time     `json:"updated,omitzero"`
	Node      *ZeroTierNode `json:"node,omitempty"`
	// Planet grades the node's planet against the expected one.
	Planet   *zerotier.Finding     `json:"planet,omitempty"`
	Networks []ZeroTierNetworkView `json:"networks"`
}

// ZeroTierNode is the local ZeroTier One node.
type ZeroTierNode struct {
	Address              string `json:"address"`
	Version              string `json:"version"`
	Online               bool   `json:"online"`
	PlanetWorldID        uint64 `json:"planet_world_id"`
	PlanetWorldTimestamp uint64 `json:"planet_world_timestamp"`
	// PlanetExpected is true when the node uses the planet the
	// configuration expects (or none is expected).
	PlanetExpected bool `json:"planet_expected"`
}

// ZeroTierNetworkView is one network lsrd watches: given as an LDP
// interface by network ID, or joined with its device among LDP's interfaces.
type ZeroTierNetworkView struct {
	ID string `json:"id"`
	// ConfiguredAs is the LDP interface as the configuration names it (the
	// network ID or the device name).
	ConfiguredAs string   `json:"configured_as"`
	Name         string   `json:"name,omitempty"`
	Status       string   `json:"status,omitempty"`
	Device       string   `json:"device,omitempty"`
	MTU          int      `json:"mtu,omitempty"`
	Addresses    []string `json:"addresses,omitempty"`
	// LDPInterface is the device LDP runs on for this network; empty while
	// the network is not OK or has no device.
	LDPInterface           string `json:"ldp_interface,omitempty"`
	MTUHeadroomOK          bool   `json:"mtu_headroom_ok"`
	MulticastLDPSubscribed bool   `json:"multicast_ldp_subscribed"`
	// MulticastLDPJoined: the device holds 224.0.0.2's group in the
	// kernel, which ZeroTier One subscribes to; its own list
	// (MulticastLDPSubscribed) follows with a network config refresh.
	MulticastLDPJoined bool `json:"multicast_ldp_joined"`
	// Probes are the last LSP pings to the LDP neighbours on the network,
	// plain and labelled (the dataplane finding grades them).
	Probes   []zerotier.Probe   `json:"probes,omitempty"`
	Error    string             `json:"error,omitempty"`
	Findings []zerotier.Finding `json:"findings"`
}
