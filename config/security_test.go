package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNeighborPasswords(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ldp.key"), []byte("from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Parse(filepath.Join(dir, "lsrd.yaml"), []byte(`
router-id: 1.1.1.1
ldp:
  neighbors:
    - lsr-id: 2.2.2.2
      password: inline
    - prefix: 10.9.0.0/16
      password-file: ldp.key
    - lsr-id: 3.3.3.3
      gtsm: false
`))
	if err != nil {
		t.Fatal(err)
	}
	n := c.LDP.Neighbors
	if len(n) != 3 || n[0].Key != "inline" || n[0].Peers() != netip.MustParsePrefix("2.2.2.2/32") ||
		n[1].Key != "from-a-file" || n[1].Peers() != netip.MustParsePrefix("10.9.0.0/16") ||
		n[2].Key != "" || n[2].GTSM == nil || *n[2].GTSM {
		t.Errorf("neighbors %+v", n)
	}
}

func TestNeighborRejects(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"- lsr-id: 2.2.2.2\n      prefix: 2.0.0.0/8\n      password: x", "not both"},
		{"- password: x", "no lsr-id or prefix"},
		{"- prefix: 10.0.0.1/8\n      password: x", "host bits"},
		{"- prefix: 2001:db8::/32\n      password: x", "IPv4 prefix"},
		{"- lsr-id: 2.2.2.2\n      password: x\n    - lsr-id: 2.2.2.2\n      password: y", "already named"},
		{"- lsr-id: 2.2.2.2\n      password: x\n      password-file: /k", "give one of them"},
		{"- lsr-id: 2.2.2.2\n      password-file: /nonexistent/ldp.key", "ldp.neighbors[0].password-file"},
		{"- lsr-id: 2.2.2.2\n      password: " + strings.Repeat("k", 81), "at most 80 bytes"},
		{"- lsr-id: 2.2.2.2", "says nothing"},
	} {
		_, err := Parse("lsrd.yaml", []byte("router-id: 1.1.1.1\nldp:\n  neighbors:\n    "+c.yaml+"\n"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.yaml, err, c.want)
		}
	}
}

func TestStaticIPv6NextHops(t *testing.T) {
	for _, c := range []struct{ route, want string }{
		{"prefix: 2001:db8:9::/48\n    next-hop: fe80::1%eth0", "has a zone"},
		{"prefix: 2001:db8:9::/48\n    next-hop: fe80::1", "needs an interface"},
		{"prefix: 2001:db8:9::/48\n    next-hop: fe80::1\n    interface: eth0", ""},
		{"prefix: 2001:db8:9::/48\n    next-hop: 2001:db8::1", ""},
	} {
		_, err := Parse("lsrd.yaml", []byte("router-id: 1.1.1.1\nstatic-routes:\n  - "+c.route+"\n"))
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%q: error %v, want %q", c.route, err, c.want)
		}
	}
}

func TestAddressFamilies(t *testing.T) {
	c, err := Parse("lsrd.yaml", []byte("router-id: 1.1.1.1\n"))
	if err != nil || !c.LDP.Runs("ipv4") || c.LDP.Runs("ipv6") || c.LDP.TransportPreference != "ipv6" {
		t.Fatalf("defaults: %+v, %v", c.LDP, err)
	}
	c, err = Parse("lsrd.yaml", []byte("router-id: 1.1.1.1\nldp:\n  address-families: [ipv6]\n  transport-address-ipv6: 2001:db8::1\n  transport-preference: ipv4\n"))
	if err != nil || c.LDP.Runs("ipv4") || !c.LDP.Runs("ipv6") || c.LDP.TransportAddressIPv6 != netip.MustParseAddr("2001:db8::1") {
		t.Fatalf("IPv6 only: %+v, %v", c.LDP, err)
	}
	for _, bad := range []struct{ yaml, want string }{
		{"address-families: [ipv6]", "ldp.transport-address-ipv6: missing"},
		{"transport-address-ipv6: 2001:db8::1", "has no ipv6"},
		{"address-families: [ipv6]\n  transport-address-ipv6: fe80::1", "global unicast"},
		{"address-families: [ipv6]\n  transport-address-ipv6: 10.0.0.1", "global unicast"},
		{"address-families: [ipv4, ipv4]", "listed twice"},
		{"address-families: [mpls]", "ipv4 or ipv6"},
		{"transport-preference: ipx", "ldp.transport-preference"},
		{"interfaces:\n    - name: eth0\n      address-families: [ipv6]", "ldp.interfaces[0].address-families[0]"},
	} {
		_, err := Parse("lsrd.yaml", []byte("router-id: 1.1.1.1\nldp:\n  "+bad.yaml+"\n"))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: error %v, want one containing %q", bad.yaml, err, bad.want)
		}
	}
}
