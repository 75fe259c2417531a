// Package fec names what LDP binds labels to: Forwarding Equivalence
// Classes (RFC 5036 section 2.1) and the address families they and LDP's
// other state come in (RFC 7552).
//
// A FEC is a small comparable value, usable as a map key. Today it holds an
// IPv4 or IPv6 prefix; pseudowire FECs (RFC 4447 FEC 128 and 129) are new
// kinds of the same type, not a new key for every table. The package knows
// no socket, no session and no label.
package fec

import (
	"fmt"
	"net/netip"

	"github.com/lsrd/lsrd/ldp/wire"
)

// Family is an address family LDP runs in. Its values are the IANA numbers
// used on the wire (RFC 5036 section 3.4.1), so that conversion is free.
type Family = wire.AddressFamily

// The families LDP carries.
const (
	IPv4 = wire.AFIPv4
	IPv6 = wire.AFIPv6
)

// Families lists the families in the order LDP's per-family work goes
// through them (IPv4 first, as RFC 7552 section 6.1 prefers by default).
var Families = [...]Family{IPv4, IPv6}

// FamilyOf returns the family of a, or 0 when a is not valid. An
// IPv4-mapped IPv6 address is IPv6; unmap it first to mean IPv4.
func FamilyOf(a netip.Addr) Family { return wire.FamilyOf(a) }

// Kind is the kind of a FEC. Its values are the FEC element types of the
// wire (RFC 5036 section 3.4.1, RFC 4447 section 5.2).
type Kind uint8

// The kinds of FEC lsrd binds labels to.
const (
	KindPrefix Kind = Kind(wire.FECPrefix)
)

// FEC is one Forwarding Equivalence Class. The zero FEC is not valid.
type FEC struct {
	prefix netip.Prefix
	kind   Kind
}

// Prefix returns the prefix FEC for p, with host bits cleared. An invalid
// or zoned p gives the zero FEC.
func Prefix(p netip.Prefix) FEC {
	if !p.IsValid() || p.Addr().Zone() != "" {
		return FEC{}
	}
	return FEC{kind: KindPrefix, prefix: p.Masked()}
}

// IsValid reports whether f names a FEC.
func (f FEC) IsValid() bool { return f.kind != 0 }

// Kind returns the kind of f.
func (f FEC) Kind() Kind { return f.kind }

// Prefix returns the prefix of a prefix FEC, and the zero prefix for any
// other kind.
func (f FEC) Prefix() netip.Prefix { return f.prefix }

// Family returns the address family f belongs to: that of its prefix.
func (f FEC) Family() Family { return FamilyOf(f.prefix.Addr()) }

// Compare orders FECs by kind, then family, then prefix, so that sorted
// lists (and the messages built from them) are deterministic.
func (f FEC) Compare(g FEC) int {
	if f.kind != g.kind {
		return int(f.kind) - int(g.kind)
	}
	return f.prefix.Compare(g.prefix)
}

// String formats f as its prefix ("10.0.0.1/32", "2001:db8::/64").
func (f FEC) String() string {
	switch f.kind {
	case KindPrefix:
		return f.prefix.String()
	case 0:
		return "invalid FEC"
	}
	return fmt.Sprintf("FEC kind %d", f.kind)
}

// MarshalText writes f as String does, for JSON state files and the API.
func (f FEC) MarshalText() ([]byte, error) {
	if f.kind != KindPrefix {
		return nil, fmt.Errorf("cannot encode %v", f)
	}
	return f.prefix.MarshalText()
}

// UnmarshalText reads a prefix FEC written by MarshalText.
func (f *FEC) UnmarshalText(b []byte) error {
	var p netip.Prefix
	if err := p.UnmarshalText(b); err != nil {
		return fmt.Errorf("FEC %q: %w", b, err)
	}
	if *f = Prefix(p); !f.IsValid() {
		return fmt.Errorf("FEC %q: not a prefix", b)
	}
	return nil
}

// FromElement returns the FEC a single-FEC wire element names. Wildcards
// name sets of FECs, not one, and give false.
func FromElement(e wire.FECElement) (FEC, bool) {
	if pe, ok := e.(wire.PrefixFEC); ok {
		f := Prefix(pe.Prefix)
		return f, f.IsValid()
	}
	return FEC{}, false
}

// Element returns the wire element that names f.
func (f FEC) Element() wire.FECElement { return wire.PrefixFEC{Prefix: f.prefix} }

// TLV returns a FEC TLV naming f alone.
func (f FEC) TLV() wire.FEC { return wire.FEC{f.Element()} }
