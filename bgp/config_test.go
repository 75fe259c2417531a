package bgp

import (
	"net/netip"
	"strings"
	"testing"
)

func validConfig() Config {
	return Config{
		AS:       65001,
		RouterID: netip.MustParseAddr("1.1.1.1"),
		Neighbors: []Neighbor{
			{Address: netip.MustParseAddr("10.0.0.2"), RemoteAS: 65002},
			{Address: netip.MustParseAddr("2001:db8::2"), RemoteAS: 65001, Families: []string{"ipv6-unicast"}},
		},
		Networks: []netip.Prefix{netip.MustParsePrefix("1.1.1.1/32")},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string // substring of the error; "" for valid
	}{
		{"valid", func(*Config) {}, ""},
		{"no neighbours", func(c *Config) { c.Neighbors = nil }, ""},
		{"listen -1", func(c *Config) { c.ListenPort = -1 }, ""},
		{"AS 0", func(c *Config) { c.AS = 0 }, "bgp.as: 0"},
		{"no router id", func(c *Config) { c.RouterID = netip.Addr{} }, "bgp.router_id: missing"},
		{"IPv6 router id", func(c *Config) { c.RouterID = netip.MustParseAddr("::1") }, "bgp.router_id: ::1 is not an IPv4"},
		{"zero router id", func(c *Config) { c.RouterID = netip.MustParseAddr("0.0.0.0") }, "bgp.router_id: 0.0.0.0"},
		{"listen port", func(c *Config) { c.ListenPort = 70000 }, "bgp.listen_port: 70000"},
		{"neighbour no address", func(c *Config) { c.Neighbors[1].Address = netip.Addr{} }, "bgp.neighbors[1].address: missing"},
		{"neighbour unspecified", func(c *Config) { c.Neighbors[0].Address = netip.MustParseAddr("0.0.0.0") }, "bgp.neighbors[0].address: 0.0.0.0"},
		{"duplicate neighbour", func(c *Config) { c.Neighbors[1].Address = netip.MustParseAddr("10.0.0.2") }, "bgp.neighbors[1].address: 10.0.0.2 is also neighbors[0]"},
		{"duplicate mapped neighbour", func(c *Config) { c.Neighbors[1].Address = netip.MustParseAddr("::ffff:10.0.0.2") }, "is also neighbors[0]"},
		{"remote AS 0", func(c *Config) { c.Neighbors[0].RemoteAS = 0 }, "bgp.neighbors[0].remote_as: 0"},
		{"password 80", func(c *Config) { c.Neighbors[0].Password = strings.Repeat("x", 80) }, ""},
		{"password 81", func(c *Config) { c.Neighbors[0].Password = strings.Repeat("x", 81) }, "bgp.neighbors[0].password: 81 characters"},
		{"bad family", func(c *Config) { c.Neighbors[0].Families = []string{"ipv4-unicast", "l2vpn-evpn"} }, `bgp.neighbors[0].families[1]: "l2vpn-evpn" is not supported`},
		{"family twice", func(c *Config) { c.Neighbors[0].Families = []string{"ipv4-unicast", "ipv4-unicast"} }, "bgp.neighbors[0].families[1]: \"ipv4-unicast\" listed twice"},
		{"route targets with VPN", func(c *Config) { c.Neighbors[0].Families = []string{"ipv4-vpn", "route-target"} }, ""},
		{"route targets alone", func(c *Config) { c.Neighbors[0].Families = []string{"ipv4-unicast", "route-target"} }, `bgp.neighbors[0].families: "route-target" without ipv4-vpn or ipv6-vpn`},
		{"multihop eBGP", func(c *Config) { c.Neighbors[0].MultihopTTL = 3 }, ""},
		{"multihop iBGP", func(c *Config) { c.Neighbors[1].MultihopTTL = 3 }, "bgp.neighbors[1].multihop_ttl: 3"},
		{"TTL security", func(c *Config) { c.Neighbors[0].TTLSecurityHops = 1 }, ""},
		{"TTL security and multihop", func(c *Config) { c.Neighbors[0].TTLSecurityHops = 1; c.Neighbors[0].MultihopTTL = 2 }, "bgp.neighbors[0].ttl_security_hops: 1 and multihop_ttl 2"},
		{"TTL security 255", func(c *Config) { c.Neighbors[0].TTLSecurityHops = 255 }, "bgp.neighbors[0].ttl_security_hops: 255"},
		{"passive without listening", func(c *Config) { c.ListenPort = -1; c.Neighbors[0].Passive = true }, "bgp.neighbors[0].passive"},
		{"network host bits", func(c *Config) { c.Networks = append(c.Networks, netip.MustParsePrefix("10.1.2.3/24")) }, "bgp.networks[1]: 10.1.2.3/24 has host bits set (did you mean 10.1.2.0/24?)"},
		{"network twice", func(c *Config) { c.Networks = append(c.Networks, c.Networks[0]) }, "bgp.networks[1]: 1.1.1.1/32 is also networks[0]"},
		{"network invalid", func(c *Config) { c.Networks = append(c.Networks, netip.Prefix{}) }, "bgp.networks[1]: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.want != "" && err == nil:
				t.Fatalf("Validate() = nil, want an error with %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("Validate() = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestValidateReportsAll(t *testing.T) {
	c := validConfig()
	c.AS = 0
	c.Neighbors[0].RemoteAS = 0
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "bgp.as") || !strings.Contains(err.Error(), "bgp.neighbors[0].remote_as") {
		t.Fatalf("Validate() = %v, want both errors", err)
	}
}
