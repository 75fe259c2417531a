// Package fib holds the desired forwarding state lsrd's producers publish and
// its kernel layer programs: the LFIB (incoming label -> swap or pop -> next
// hops) and the FTN (IP prefix -> push labels -> next hops).
//
// It is the seam between the label decisions (ldp), the routes (rib) and the
// kernel (netlinkfib): plain values, no behaviour beyond comparing and
// describing them. It must never import any of those packages.
package fib

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Label is an MPLS label value (20 bits).
type Label uint32

// Reserved label values (RFC 3032 section 2.1).
const (
	LabelIPv4ExplicitNull Label = 0
	LabelRouterAlert      Label = 1
	LabelIPv6ExplicitNull Label = 2
	LabelImplicitNull     Label = 3
	// FirstUnreserved is the lowest label an LSR may allocate for a FEC.
	FirstUnreserved Label = 16
	// MaxLabel is the highest 20-bit label.
	MaxLabel Label = 1<<20 - 1
)

// String writes a label as operators read it.
func (l Label) String() string {
	switch l {
	case LabelIPv4ExplicitNull:
		return "explicit-null"
	case LabelImplicitNull:
		return "implicit-null"
	}
	return fmt.Sprintf("%d", uint32(l))
}

// NextHop is where labelled or unlabelled traffic leaves the router.
type NextHop struct {
	Addr   netip.Addr `json:"addr"`   // the neighbour's address on the link
	Ifname string     `json:"ifname"` // the outgoing interface
	// Labels to put on the packet, outermost first. In the LFIB an empty stack
	// pops (the downstream neighbour advertised implicit-null); in the FTN an
	// empty stack forwards unlabelled.
	Labels []Label `json:"labels"`
}

func (n NextHop) String() string {
	s := n.Addr.String() + " dev " + n.Ifname
	if len(n.Labels) == 0 {
		return s
	}
	ls := make([]string, len(n.Labels))
	for i, l := range n.Labels {
		ls[i] = l.String()
	}
	return s + " labels " + strings.Join(ls, "/")
}

// Equal reports whether two next hops are the same.
func (n NextHop) Equal(o NextHop) bool {
	return n.Addr == o.Addr && n.Ifname == o.Ifname && slices.Equal(n.Labels, o.Labels)
}

// LFIBEntry is one incoming label: swap to each next hop's labels (ECMP when
// several), or pop where a next hop has none.
type LFIBEntry struct {
	InLabel  Label     `json:"in_label"`
	NextHops []NextHop `json:"next_hops"`
}

// Equal reports whether two entries program the same forwarding.
func (e LFIBEntry) Equal(o LFIBEntry) bool {
	return e.InLabel == o.InLabel && slices.EqualFunc(e.NextHops, o.NextHops, NextHop.Equal)
}

// FTNEntry maps an IP prefix to labelled next hops: the ingress of an LSP.
type FTNEntry struct {
	Prefix   netip.Prefix `json:"prefix"`
	NextHops []NextHop    `json:"next_hops"`
	// Foreign says the prefix's route belongs to another daemon (an IGP's
	// route in the kernel): lsrd's labelled copy goes into its ingress
	// table, beside that route and never in its place.
	Foreign bool `json:"foreign,omitempty"`
}

// Equal reports whether two entries program the same forwarding.
func (e FTNEntry) Equal(o FTNEntry) bool {
	return e.Prefix == o.Prefix && e.Foreign == o.Foreign && slices.EqualFunc(e.NextHops, o.NextHops, NextHop.Equal)
}

// Table is a whole desired state: what the kernel should hold.
type Table struct {
	LFIB map[Label]LFIBEntry
	FTN  map[netip.Prefix]FTNEntry
	// Throws are the prefixes that must bypass the ingress table: routes
	// of the main table more specific than a Foreign FTN entry, which
	// would otherwise be shadowed by it (the kernel consults the ingress
	// table first, and longest-prefix match works within one table).
	Throws map[netip.Prefix]struct{}
}

// NewTable returns an empty table.
func NewTable() *Table {
	return &Table{LFIB: map[Label]LFIBEntry{}, FTN: map[netip.Prefix]FTNEntry{}}
}

// Delta is what changed in a Table since the last one handed on: entries
// added or replaced, and entries removed (nil); throws added (true) or
// removed (false). A producer that knows what changed hands on a Delta
// instead of copying its whole table, so that one new label costs its
// entries, not the table. Entries are shared with the producer, which
// replaces entries and never changes one in place; neither side may change
// them.
//
// Rides moves, per LSP, every entry that rides it without naming each
// one: Apply applies them before the entries named in FTN, which win.
type Delta struct {
	LFIB   map[Label]*LFIBEntry
	FTN    map[netip.Prefix]*FTNEntry
	Throws map[netip.Prefix]bool
	Rides  map[netip.Addr]*Ride
}

// Ride says that the LSP to one address has new next hops (a new label,
// typically) and lists the FTN entries that ride it: routes whose one
// recursive next hop is that address, with no labels of their own, so
// that their next hops are RideHops of the LSP's. A producer that hands on
// a Ride instead of the entries costs the kernel layer one nexthop object
// when it can rewrite the object they share in place, whatever their
// number (RFC 4798's 6PE routes and IPv4 routes each share one).
type Ride struct {
	NextHops []NextHop      // the LSP's next hops now (LDP's FTN entry for the address)
	Prefixes []netip.Prefix // the entries riding it (each listed once)
}

// RideHops is the next hops of a route of the family v6 over an LSP with
// next hops lsp: the LSP's own for an IPv4 route or an IPv6 LSP; for an
// IPv6 route over an IPv4 LSP (6PE, RFC 4798) each IPv4 next hop's gateway
// mapped to IPv6 (the kernel's form of it) and, under the LSP's label, the
// IPv6 explicit null, so that the egress, which may get the packet with no
// LSP label left (penultimate hop popping), still knows it is IPv6. The
// result is lsp itself when nothing changes, else a new slice.
func RideHops(lsp []NextHop, v6 bool) []NextHop {
	if !v6 || !slices.ContainsFunc(lsp, func(nh NextHop) bool { return nh.Addr.Unmap().Is4() }) {
		return lsp
	}
	out := make([]NextHop, len(lsp))
	for i, nh := range lsp {
		if nh.Addr.Unmap().Is4() {
			nh.Addr = netip.AddrFrom16(nh.Addr.Unmap().As16())
			nh.Labels = append(slices.DeleteFunc(slices.Clone(nh.Labels), func(l Label) bool { return l == LabelImplicitNull }),
				LabelIPv6ExplicitNull)
		}
		out[i] = nh
	}
	return out
}

// Empty reports whether d changes nothing.
func (d *Delta) Empty() bool {
	return d == nil || len(d.LFIB) == 0 && len(d.FTN) == 0 && len(d.Throws) == 0 && len(d.Rides) == 0
}

// Len is the number of entries d changes, the entries its rides move
// included.
func (d *Delta) Len() int {
	if d == nil {
		return 0
	}
	n := len(d.LFIB) + len(d.FTN) + len(d.Throws)
	for _, r := range d.Rides {
		n += len(r.Prefixes)
	}
	return n
}

// Merge adds the later delta o to d.
func (d *Delta) Merge(o *Delta) {
	if o == nil {
		return
	}
	if d.LFIB == nil {
		d.LFIB = map[Label]*LFIBEntry{}
	}
	if d.FTN == nil {
		d.FTN = map[netip.Prefix]*FTNEntry{}
	}
	if d.Throws == nil && len(o.Throws) > 0 {
		d.Throws = map[netip.Prefix]bool{}
	}
	// o's rides, then its entries: the order Apply keeps.
	for a, r := range o.Rides {
		d.mergeRide(a, r)
	}
	for k, e := range o.LFIB {
		d.LFIB[k] = e
	}
	for k, e := range o.FTN {
		d.FTN[k] = e
	}
	for k, on := range o.Throws {
		d.Throws[k] = on
	}
}

// mergeRide adds the later ride r of the LSP to a. An entry d names that r
// moves is moved here, since Apply moves rides before it applies the named
// entries; the prefixes of both rides go on riding r's next hops.
func (d *Delta) mergeRide(a netip.Addr, r *Ride) {
	var hops [2][]NextHop
	for _, p := range r.Prefixes {
		e := d.FTN[p]
		if e == nil {
			continue
		}
		moved := *e
		moved.NextHops = rideHopsOnce(&hops, r.NextHops, p)
		d.FTN[p] = &moved
	}
	if d.Rides == nil {
		d.Rides = map[netip.Addr]*Ride{}
	}
	old := d.Rides[a]
	if old == nil {
		d.Rides[a] = r
		return
	}
	seen := make(map[netip.Prefix]struct{}, len(r.Prefixes))
	prefixes := slices.Clone(r.Prefixes)
	for _, p := range r.Prefixes {
		seen[p] = struct{}{}
	}
	for _, p := range old.Prefixes {
		if _, dup := seen[p]; !dup {
			prefixes = append(prefixes, p)
		}
	}
	d.Rides[a] = &Ride{NextHops: r.NextHops, Prefixes: prefixes}
}

// rideHopsOnce is RideHops for p's family, computed once per family into
// hops, so that the entries of one ride share two slices at most.
func rideHopsOnce(hops *[2][]NextHop, lsp []NextHop, p netip.Prefix) []NextHop {
	i := 0
	if p.Addr().Is6() {
		i = 1
	}
	if hops[i] == nil {
		hops[i] = RideHops(lsp, i == 1)
	}
	return hops[i]
}

// Apply changes t by d: its rides first, then its entries.
func (t *Table) Apply(d *Delta) {
	if d == nil {
		return
	}
	for _, r := range d.Rides {
		var hops [2][]NextHop
		for _, p := range r.Prefixes {
			if e, ok := t.FTN[p]; ok {
				e.NextHops = rideHopsOnce(&hops, r.NextHops, p)
				t.FTN[p] = e
			}
		}
	}
	for k, e := range d.LFIB {
		if e == nil {
			delete(t.LFIB, k)
		} else {
			t.LFIB[k] = *e
		}
	}
	for k, e := range d.FTN {
		if e == nil {
			delete(t.FTN, k)
		} else {
			t.FTN[k] = *e
		}
	}
	for k, on := range d.Throws {
		switch {
		case on && t.Throws == nil:
			t.Throws = map[netip.Prefix]struct{}{k: {}}
		case on:
			t.Throws[k] = struct{}{}
		default:
			delete(t.Throws, k)
		}
	}
}
