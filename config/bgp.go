package config

import (
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
}

// BGPNeighbor is one BGP peer.
type BGPNeighbor struct {
	Address     netip.Addr `yaml:"address"`
	RemoteAS    uint32     `yaml:"remote-as"`
	Password    string     `yaml:"password"`
	Passive     bool       `yaml:"passive"`
	MultihopTTL uint8      `yaml:"multihop-ttl"`
	Families    []string   `yaml:"families"` // ipv4-unicast (default), ipv6-unicast
}

// Speaker returns the speaker's configuration.
func (b *BGP) Speaker() bgp.Config {
	c := bgp.Config{AS: b.AS, RouterID: b.RouterID, ListenPort: b.ListenPort, Networks: b.Networks}
	for _, n := range b.Neighbors {
		c.Neighbors = append(c.Neighbors, bgp.Neighbor{Address: n.Address, RemoteAS: n.RemoteAS,
			Password: n.Password, Passive: n.Passive, MultihopTTL: n.MultihopTTL, Families: n.Families})
	}
	return c
}

// bgpFieldNames maps the speaker's field names in its errors to this file's
// keys, so that an error names what the operator wrote.
var bgpFieldNames = strings.NewReplacer(
	"router_id", "router-id", "listen_port", "listen-port",
	"remote_as", "remote-as", "multihop_ttl", "multihop-ttl",
)

func (b *BGP) validate() error {
	if err := b.Speaker().Validate(); err != nil {
		return fmt.Errorf("%s", bgpFieldNames.Replace(err.Error()))
	}
	return nil
}
