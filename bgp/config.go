package bgp

import (
	"errors"
	"fmt"
	"net/netip"
)

// Address families a neighbour may carry.
const (
	FamilyIPv4Unicast = "ipv4-unicast"
	FamilyIPv6Unicast = "ipv6-unicast"
	// FamilyIPv4LabeledUnicast is IPv4 with a label per prefix (RFC 8277):
	// a route learned in it pushes the peer's label under the LSP's.
	FamilyIPv4LabeledUnicast = "ipv4-labeled-unicast"
)

// DefaultListenPort is the BGP port (RFC 4271 section 8.2.1).
const DefaultListenPort = 179

// maxPasswordLen is the kernel's TCP-MD5 key limit (TCP_MD5SIG_MAXKEYLEN):
// a longer password would be refused only when the session is dialled.
const maxPasswordLen = 80

// Config is the BGP speaker's configuration.
type Config struct {
	// AS is our autonomous system number. It cannot change on reload.
	AS uint32
	// RouterID is the BGP identifier, an IPv4 address. It cannot change on reload.
	RouterID netip.Addr
	// ListenPort is the TCP port to accept sessions on: 0 means 179, -1 means
	// do not listen (dial out only). It cannot change on reload.
	ListenPort int32
	// Neighbors are the configured peers.
	Neighbors []Neighbor
	// Networks are originated with next hop self (the loopback at least).
	Networks []netip.Prefix
	// PrefixLists are the lists neighbours' Import and Export name.
	PrefixLists []PrefixList
	// GracefulRestart applies to every neighbour.
	GracefulRestart GracefulRestart
}

// Neighbor is one configured peer.
type Neighbor struct {
	Address  netip.Addr
	RemoteAS uint32
	// Password enables TCP-MD5 (RFC 2385) on the session.
	Password string
	// Passive waits for the peer to connect instead of dialling it.
	Passive bool
	// LocalAddress is the address sessions are dialled from (the loopback
	// of a provider edge, which the peer knows it by); the kernel's choice
	// when unset.
	LocalAddress netip.Addr
	// BindInterface, when set, binds the session's socket to that device
	// (SO_BINDTODEVICE): a VRF device for a customer's router in a VRF.
	BindInterface string
	// MultihopTTL, when not zero, allows an eBGP peer this many hops away.
	MultihopTTL uint8
	// TTLSecurityHops, when not zero, turns on the TTL security check (GTSM,
	// RFC 5082): packets are sent with TTL 255 and only accepted from a
	// peer at most this many hops away.
	TTLSecurityHops uint8
	// Families default to ipv4-unicast.
	Families []string
	// Import and Export name prefix lists filtering the routes accepted
	// from and advertised to the neighbour; empty accepts everything.
	// Changing them re-evaluates the routes without resetting the session.
	Import, Export string
}

// families returns the neighbour's families with the default applied.
func (n Neighbor) families() []string {
	if len(n.Families) == 0 {
		return []string{FamilyIPv4Unicast}
	}
	return n.Families
}

// listenPort returns the port with the default applied.
func (c Config) listenPort() int32 {
	if c.ListenPort == 0 {
		return DefaultListenPort
	}
	return c.ListenPort
}

// Validate checks the configuration. Every error names the field and the bad
// value, e.g. "bgp.neighbors[1].address: ...".
func (c Config) Validate() error {
	var errs []error
	bad := func(field string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("bgp.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.AS == 0 {
		bad("as", "0 is not a valid AS number")
	}
	switch {
	case !c.RouterID.IsValid():
		bad("router_id", "missing")
	case !c.RouterID.Is4():
		bad("router_id", "%s is not an IPv4 address", c.RouterID)
	case c.RouterID.IsUnspecified():
		bad("router_id", "%s is not a valid router id", c.RouterID)
	}
	if c.ListenPort < -1 || c.ListenPort > 65535 {
		bad("listen_port", "%d is out of range (1-65535, 0 for 179, -1 to not listen)", c.ListenPort)
	}
	seen := map[netip.Addr]int{}
	for i, n := range c.Neighbors {
		f := fmt.Sprintf("neighbors[%d]", i)
		switch {
		case !n.Address.IsValid():
			bad(f+".address", "missing")
		case n.Address.IsUnspecified() || n.Address.IsMulticast():
			bad(f+".address", "%s is not a unicast address", n.Address)
		case n.Address.Zone() != "":
			bad(f+".address", "%s: link-local neighbours with a zone are not supported", n.Address)
		default:
			if j, dup := seen[n.Address.Unmap()]; dup {
				bad(f+".address", "%s is also neighbors[%d]", n.Address, j)
			}
			seen[n.Address.Unmap()] = i
		}
		if n.RemoteAS == 0 {
			bad(f+".remote_as", "0 is not a valid AS number")
		}
		if n.LocalAddress.IsValid() && n.Address.IsValid() && n.LocalAddress.Unmap().Is4() != n.Address.Unmap().Is4() {
			bad(f+".local_address", "%s is not of the neighbour's address family", n.LocalAddress)
		}
		if len(n.Password) > maxPasswordLen {
			bad(f+".password", "%d characters, at most %d (TCP-MD5 key limit)", len(n.Password), maxPasswordLen)
		}
		if n.Passive && c.ListenPort == -1 {
			bad(f+".passive", "neighbour %s is passive but listen_port is -1: the session could never open", n.Address)
		}
		if n.MultihopTTL != 0 && n.RemoteAS == c.AS {
			bad(f+".multihop_ttl", "%d set on an iBGP neighbour (AS %d): only eBGP sessions are TTL-limited", n.MultihopTTL, n.RemoteAS)
		}
		if n.TTLSecurityHops != 0 && n.MultihopTTL != 0 {
			bad(f+".ttl_security_hops", "%d and multihop_ttl %d both set: TTL security replaces multihop", n.TTLSecurityHops, n.MultihopTTL)
		}
		if n.TTLSecurityHops == 255 {
			bad(f+".ttl_security_hops", "255 is out of range (1-254)")
		}
		fams := map[string]bool{}
		for j, fam := range n.Families {
			switch fam {
			case FamilyIPv4Unicast, FamilyIPv6Unicast, FamilyIPv4LabeledUnicast, FamilyIPv4VPN, FamilyIPv6VPN, FamilyRouteTarget:
			default:
				bad(fmt.Sprintf("%s.families[%d]", f, j), "%q is not supported (%s, %s, %s, %s, %s, %s)", fam,
					FamilyIPv4Unicast, FamilyIPv6Unicast, FamilyIPv4LabeledUnicast, FamilyIPv4VPN, FamilyIPv6VPN, FamilyRouteTarget)
			}
			if fams[fam] {
				bad(fmt.Sprintf("%s.families[%d]", f, j), "%q listed twice", fam)
			}
			fams[fam] = true
		}
		if fams[FamilyRouteTarget] && !fams[FamilyIPv4VPN] && !fams[FamilyIPv6VPN] {
			bad(f+".families", "%q without %s or %s: route target membership constrains VPN routes only", FamilyRouteTarget, FamilyIPv4VPN, FamilyIPv6VPN)
		}
	}
	c.GracefulRestart.validate(bad)
	lists := map[string]int{}
	for i, l := range c.PrefixLists {
		f := fmt.Sprintf("prefix_lists[%d]", i)
		l.validate(f, bad)
		if j, dup := lists[l.Name]; dup && l.Name != "" {
			bad(f+".name", "%q is also prefix_lists[%d]", l.Name, j)
		}
		lists[l.Name] = i
	}
	for i, n := range c.Neighbors {
		for _, ref := range []struct{ field, name string }{{"import", n.Import}, {"export", n.Export}} {
			if _, ok := lists[ref.name]; ref.name != "" && !ok {
				bad(fmt.Sprintf("neighbors[%d].%s", i, ref.field), "no prefix list named %q", ref.name)
			}
		}
	}
	nets := map[netip.Prefix]int{}
	for i, p := range c.Networks {
		f := fmt.Sprintf("networks[%d]", i)
		switch {
		case !p.IsValid():
			bad(f, "missing or invalid prefix")
		case p != p.Masked():
			bad(f, "%s has host bits set (did you mean %s?)", p, p.Masked())
		default:
			if j, dup := nets[p]; dup {
				bad(f, "%s is also networks[%d]", p, j)
			}
			nets[p] = i
		}
	}
	return errors.Join(errs...)
}
