package config

import (
	"strings"
	"testing"
	"time"
)

func TestZeroTierDefaults(t *testing.T) {
	c, err := Parse("lsrd.yaml", []byte("router-id: 1.1.1.1\nldp:\n  interfaces:\n    - name: 8056c2e21c123456\n    - name: eth0\n"))
	if err != nil {
		t.Fatal(err)
	}
	z := c.ZeroTier
	if z == nil || z.API != "http://127.0.0.1:9993" || z.AuthToken != "/var/lib/zerotier-one/authtoken.secret" ||
		z.PollInterval.Std() != 5*time.Second || z.MaxLabelDepth != 2 || z.PayloadMTU != 1500 || z.ExpectedPlanet != nil {
		t.Errorf("defaults %+v", z)
	}
	if id, ok := c.LDP.Interfaces[0].NetworkID(); !ok || id != 0x8056c2e21c123456 {
		t.Errorf("NetworkID = %x, %v", id, ok)
	}
	if _, ok := c.LDP.Interfaces[1].NetworkID(); ok {
		t.Error("eth0 taken for a network ID")
	}
	c, err = Parse("lsrd.yaml", []byte("router-id: 1.1.1.1\nldp:\n  interfaces:\n    - name: eth0\n"))
	if err != nil || c.ZeroTier != nil {
		t.Errorf("no network IDs and no section: %+v, %v", c.ZeroTier, err)
	}
	c, err = Parse("lsrd.yaml", []byte("router-id: 1.1.1.1\nzerotier:\n  api: http://127.0.0.1:19993\n  expected-planet:\n    id: 0x6c737264\n    timestamp: 1764000000000\n  max-label-depth: 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	e := c.ZeroTier.Expect()
	if e.PlanetID != 0x6c737264 || e.PlanetTimestamp != 1764000000000 || e.MaxLabelDepth != 3 || e.PayloadMTU != 1500 || c.ZeroTier.API != "http://127.0.0.1:19993" {
		t.Errorf("expect %+v, api %s", e, c.ZeroTier.API)
	}
}

func TestZeroTierRejects(t *testing.T) {
	for _, c := range []struct{ name, yaml, want string }{
		{"not hex", "ldp:\n  interfaces:\n    - name: 8056c2e21c12345z\n", `field ldp.interfaces[0].name: "8056c2e21c12345z": neither a Linux interface name`},
		{"17 chars", "ldp:\n  interfaces:\n    - name: 8056c2e21c1234567\n", "field ldp.interfaces[0].name"},
		{"api", "zerotier:\n  api: 127.0.0.1:9993\n", "field zerotier.api: 127.0.0.1:9993"},
		{"token", "zerotier:\n  authtoken: authtoken.secret\n", "field zerotier.authtoken: authtoken.secret"},
		{"poll", "zerotier:\n  poll-interval: 1ms\n", "field zerotier.poll-interval: 1ms"},
		{"depth", "zerotier:\n  max-label-depth: 40\n", "field zerotier.max-label-depth: 40"},
		{"payload", "zerotier:\n  payload-mtu: 20\n", "field zerotier.payload-mtu: 20"},
		{"planet", "zerotier:\n  expected-planet:\n    timestamp: 5\n", "field zerotier.expected-planet.id: 0"},
		{"typo", "zerotier:\n  max-label-dept: 2\n", "field zerotier.max-label-dept: unknown key; did you mean max-label-depth?"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte("router-id: 1.1.1.1\n"+c.yaml))
			if err == nil || !strings.HasPrefix(err.Error(), "test.yaml: ") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}
