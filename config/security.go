package config

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Neighbor is what the configuration says about some LDP neighbours, named
// by LSR ID (lsr-id) or by a prefix of LSR IDs (prefix): their TCP-MD5
// password (RFC 5036 section 2.9), given inline or in a file, and whether
// GTSM applies to them. A neighbour matched by several entries takes the
// most specific one.
type Neighbor struct {
	LSRID        netip.Addr   `yaml:"lsr-id"`
	Prefix       netip.Prefix `yaml:"prefix"`
	Password     string       `yaml:"password"`
	PasswordFile string       `yaml:"password-file"`
	// GTSM false turns GTSM off for these neighbours (RFC 6720: needed
	// with a peer that sends link hellos or sessions with a TTL below
	// 255 and sets the G flag anyway).
	GTSM *bool `yaml:"gtsm"`

	// Key is the password, read from PasswordFile when that is set.
	Key string `yaml:"-"`
}

// Peers is the prefix of LSR IDs the entry applies to.
func (n Neighbor) Peers() netip.Prefix {
	if n.LSRID.IsValid() {
		return netip.PrefixFrom(n.LSRID, 32)
	}
	return n.Prefix
}

// GTSM is Generalized TTL Security for LDP (RFC 6720).
type GTSM struct {
	// Disabled stops setting the G flag in link hellos, so that no
	// session uses GTSM. Sessions with directly connected peers that set
	// it too drop segments with a TTL below 255 by default.
	Disabled bool `yaml:"disabled"`
	// CheckHellos also drops received link hellos with a TTL below 255.
	// Off by default: RFC 5036 link hellos travel with TTL 1, and FRR's
	// and other vendors' IPv4 hellos still do.
	CheckHellos bool `yaml:"check-hellos"`
}

// maxPasswordLen is the longest key Linux's TCP_MD5SIG takes.
const maxPasswordLen = 80

// loadNeighbors validates ldp.neighbors and reads password files, relative
// to the configuration file's directory (dir).
func (l *LDP) loadNeighbors(dir string) error {
	seen := map[netip.Prefix]int{}
	for i := range l.Neighbors {
		n := &l.Neighbors[i]
		f := fmt.Sprintf("ldp.neighbors[%d]", i)
		switch {
		case n.LSRID.IsValid() && n.Prefix.IsValid():
			return fieldError(f, n.LSRID, "give lsr-id or prefix, not both")
		case n.LSRID.IsValid() && (!n.LSRID.Is4() || n.LSRID.IsUnspecified()):
			return fieldError(f+".lsr-id", n.LSRID, "must be a non-zero IPv4 address")
		case n.Prefix.IsValid() && !n.Prefix.Addr().Is4():
			return fieldError(f+".prefix", n.Prefix, "must be an IPv4 prefix of LSR IDs")
		case n.Prefix.IsValid() && n.Prefix != n.Prefix.Masked():
			return fieldError(f+".prefix", n.Prefix, fmt.Sprintf("has host bits set (did you mean %s?)", n.Prefix.Masked()))
		case !n.LSRID.IsValid() && !n.Prefix.IsValid():
			return fieldError(f, "no lsr-id or prefix", "one of them names the neighbours")
		}
		if j, dup := seen[n.Peers()]; dup {
			return fieldError(f, n.Peers(), fmt.Sprintf("already named by ldp.neighbors[%d]", j))
		}
		seen[n.Peers()] = i
		switch {
		case n.Password != "" && n.PasswordFile != "":
			return fieldError(f, "password and password-file", "give one of them")
		case n.PasswordFile != "":
			path := n.PasswordFile
			if !filepath.IsAbs(path) {
				path = filepath.Join(dir, path)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return fieldError(f+".password-file", n.PasswordFile, err.Error())
			}
			n.Key = strings.TrimRight(string(b), "\r\n")
			if n.Key == "" {
				return fieldError(f+".password-file", n.PasswordFile, "is empty")
			}
		default:
			n.Key = n.Password
		}
		if len(n.Key) > maxPasswordLen {
			return fieldError(f+".password", fmt.Sprintf("of %d bytes", len(n.Key)), fmt.Sprintf("must be at most %d bytes (the kernel's TCP-MD5 limit)", maxPasswordLen))
		}
		if n.Key == "" && n.GTSM == nil {
			return fieldError(f, n.Peers(), "says nothing: give a password, a password-file or gtsm")
		}
	}
	return nil
}

// Runs reports whether LDP runs in the family named ("ipv4", "ipv6").
func (l LDP) Runs(family string) bool { return slices.Contains(l.AddressFamilies, family) }

func (l LDP) validateFamilies() error {
	for i, f := range l.AddressFamilies {
		if f != "ipv4" && f != "ipv6" {
			return fieldError(fmt.Sprintf("ldp.address-families[%d]", i), f, "must be ipv4 or ipv6")
		}
		if slices.Contains(l.AddressFamilies[:i], f) {
			return fieldError(fmt.Sprintf("ldp.address-families[%d]", i), f, "listed twice")
		}
	}
	a := l.TransportAddressIPv6
	switch {
	case l.Runs("ipv6") && !a.IsValid():
		return fieldError("ldp.transport-address-ipv6", "missing", "LDP over IPv6 needs a global IPv6 address of this router (RFC 7552 section 6.1)")
	case a.IsValid() && !l.Runs("ipv6"):
		return fieldError("ldp.transport-address-ipv6", a, "is set but ldp.address-families has no ipv6")
	case a.IsValid() && (!a.Is6() || a.Is4In6() || !a.IsGlobalUnicast() || a.IsLinkLocalUnicast() || a.Zone() != ""):
		return fieldError("ldp.transport-address-ipv6", a, "must be a global unicast IPv6 address")
	}
	for i, ifc := range l.Interfaces {
		for j, f := range ifc.AddressFamilies {
			if !l.Runs(f) {
				return fieldError(fmt.Sprintf("ldp.interfaces[%d].address-families[%d]", i, j), f, "is not in ldp.address-families")
			}
		}
	}
	if p := l.TransportPreference; p != "ipv4" && p != "ipv6" {
		return fieldError("ldp.transport-preference", p, "must be ipv4 or ipv6")
	}
	return nil
}
