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
type Delta struct {
	LFIB   map[Label]*LFIBEntry
	FTN    map[netip.Prefix]*FTNEntry
	Throws map[netip.Prefix]bool
}

// Empty reports whether d changes nothing.
func (d *Delta) Empty() bool {
	return d == nil || len(d.LFIB) == 0 && len(d.FTN) == 0 && len(d.Throws) == 0
}

// Len is the number of entries d changes.
func (d *Delta) Len() int {
	if d == nil {
		return 0
	}
	return len(d.LFIB) + len(d.FTN) + len(d.Throws)
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

// Apply changes t by d.
func (t *Table) Apply(d *Delta) {
	if d == nil {
		return
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
