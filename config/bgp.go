package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/lsrd/lsrd/bgp"
)

// BGP configures the embedded BGP speaker; absent, lsrd runs no BGP.
type BGP struct {
	AS uint32 `yaml:"as"`
	// RouterID is the BGP identifier; lsrd's router-id when unset.
	RouterID   netip.Addr     `yaml:"router-id"`
	ListenPort int32          `yaml:"listen-port"` // 0: 179; -1: do not listen
	Neighbors  []BGPNeighbor  `yaml:"neighbors"`
	Networks   []netip.Prefix `yaml:"networks"` // originated, next hop self
	// PrefixLists filter routes per neighbour (import, export).
	PrefixLists []BGPPrefixList `yaml:"prefix-lists"`
	// GracefulRestart (RFC 4724) for every neighbour, helper and
	// restarting roles.
	GracefulRestart BGPGracefulRestart `yaml:"graceful-restart"`
}

// BGPGracefulRestart configures BGP graceful restart; see
// bgp.GracefulRestart for what each role does.
type BGPGracefulRestart struct {
	Enabled bool `yaml:"enabled"`
	// RestartTime is advertised to neighbours (default 90s, at most 4095s).
	RestartTime Duration `yaml:"restart-time"`
	// DeferralTime bounds a restarting lsrd's wait for its neighbours'
	// End-of-RIB (default 360s).
	DeferralTime Duration `yaml:"deferral-time"`
}

// BGPPrefixList is an ordered list of rules: the first that matches a route
// decides, and a route none matches is denied.
type BGPPrefixList struct {
	Name  string       `yaml:"name"`
	Rules []PrefixRule `yaml:"rules"`
}

// PrefixRule (in bgp.prefix-lists and ldp.labels.prefix-list) matches routes inside Prefix with a length from GE to LE
// (both default to the prefix's own length; LE defaults to the full length
// when only GE is given). Action is permit (the default) or deny.
type PrefixRule struct {
	Prefix netip.Prefix `yaml:"prefix"`
	GE     uint8        `yaml:"ge"`
	LE     uint8        `yaml:"le"`
	Action string       `yaml:"action"`
}

// BGPNeighbor is one BGP peer.
type BGPNeighbor struct {
	Address  netip.Addr `yaml:"address"`
	RemoteAS uint32     `yaml:"remote-as"`
	Password string     `yaml:"password"`
	Passive  bool       `yaml:"passive"`
	// LocalAddress is the address to dial from (update-source): a
	// provider edge's loopback, for iBGP between loopbacks.
	LocalAddress netip.Addr `yaml:"local-address"`
	MultihopTTL  uint8      `yaml:"multihop-ttl"`
	// TTLSecurityHops turns on GTSM (RFC 5082) for a peer this many hops away.
	TTLSecurityHops uint8    `yaml:"ttl-security-hops"`
	Families        []string `yaml:"families"` // ipv4-unicast (default), ipv6-unicast, ipv4-labeled-unicast, ipv4-vpn, ipv6-vpn, route-target
	Import          string   `yaml:"import"`   // prefix list for routes accepted
	Export          string   `yaml:"export"`   // prefix list for routes advertised
}

// Speaker returns the speaker's configuration.
func (b *BGP) Speaker() bgp.Config {
	c := bgp.Config{AS: b.AS, RouterID: b.RouterID, ListenPort: b.ListenPort, Networks: b.Networks,
		GracefulRestart: bgp.GracefulRestart{Enabled: b.GracefulRestart.Enabled,
			RestartTime: b.GracefulRestart.RestartTime.Std(), DeferralTime: b.GracefulRestart.DeferralTime.Std()}}
	for _, n := range b.Neighbors {
		c.Neighbors = append(c.Neighbors, bgp.Neighbor{Address: n.Address, RemoteAS: n.RemoteAS,
			Password: n.Password, Passive: n.Passive, LocalAddress: n.LocalAddress, MultihopTTL: n.MultihopTTL, TTLSecurityHops: n.TTLSecurityHops, Families: n.Families,
			Import: n.Import, Export: n.Export})
	}
	for _, l := range b.PrefixLists {
		c.PrefixLists = append(c.PrefixLists, PrefixList(l.Name, l.Rules))
	}
	return c
}

// bgpFieldNames maps the speaker's field names in its errors to this file's
// keys, so that an error names what the operator wrote.
var bgpFieldNames = strings.NewReplacer(
	"router_id", "router-id", "listen_port", "listen-port",
	"remote_as", "remote-as", "multihop_ttl", "multihop-ttl", "prefix_lists", "prefix-lists",
	"ttl_security_hops", "ttl-security-hops", "local_address", "local-address", "graceful_restart", "graceful-restart",
	"restart_time", "restart-time", "deferral_time", "deferral-time",
)

func (b *BGP) validate() error {
	var errs []error
	for i, l := range b.PrefixLists {
		errs = append(errs, checkActions(fmt.Sprintf("bgp.prefix-lists[%d].rules", i), l.Rules)...)
	}
	if err := b.Speaker().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("%s", bgpFieldNames.Replace(err.Error())))
	}
	return errors.Join(errs...)
}

// PrefixList is rules as the list the bgp package evaluates (first match
// decides; no match denies).
func PrefixList(name string, rules []PrefixRule) bgp.PrefixList {
	pl := bgp.PrefixList{Name: name}
	for _, r := range rules {
		pl.Rules = append(pl.Rules, bgp.PrefixRule{Prefix: r.Prefix, GE: r.GE, LE: r.LE, Deny: r.Action == "deny"})
	}
	return pl
}

// checkActions refuses actions other than permit and deny.
func checkActions(field string, rules []PrefixRule) []error {
	var errs []error
	for j, r := range rules {
		if r.Action != "" && r.Action != "permit" && r.Action != "deny" {
			errs = append(errs, fmt.Errorf("%s[%d].action: %q is neither permit nor deny", field, j, r.Action))
		}
	}
	return errs
}
