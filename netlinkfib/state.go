package netlinkfib

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/lsrd/lsrd/fib"
)

// hop is a next hop in the kernel's terms: the interface by index, as the
// kernel reports it, so desired and actual compare without names.
type hop struct {
	gw      netip.Addr
	ifindex int
	labels  []fib.Label
}

// hopKey is a hop usable as a map key: two hops with the same key are the same
// kernel nexthop object. Stacks of up to three labels (every LSP lsrd
// builds) fit in the key itself: keying 100,000 prefixes allocates nothing.
type hopKey struct {
	gw      netip.Addr
	ifindex int
	n       int
	short   [3]fib.Label
	long    string // the whole stack, formatted, when longer
}

func (h hop) key() hopKey {
	k := hopKey{gw: h.gw, ifindex: h.ifindex, n: len(h.labels)}
	if len(h.labels) <= len(k.short) {
		copy(k.short[:], h.labels)
		return k
	}
	k.long = formatLabels(h.labels)
	return k
}

func formatLabels(ls []fib.Label) string {
	b := make([]byte, 0, 8*len(ls))
	for i, l := range ls {
		if i > 0 {
			b = append(b, '/')
		}
		b = strconv.AppendUint(b, uint64(l), 10)
	}
	return string(b)
}

func (h hop) equal(o hop) bool {
	return h.gw == o.gw && h.ifindex == o.ifindex && slices.Equal(h.labels, o.labels)
}

func (h hop) String() string {
	s := fmt.Sprintf("via %s ifindex %d", h.gw, h.ifindex)
	if len(h.labels) > 0 {
		s += " labels " + formatLabels(h.labels)
	}
	return s
}

// compareHops orders hops canonically. The kernel keeps next hops in the
// order they were given; sorting both sides means a producer that lists the
// same ECMP set in another order causes no churn.
func compareHops(a, b hop) int {
	if c := a.gw.Compare(b.gw); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ifindex, b.ifindex); c != 0 {
		return c
	}
	return slices.Compare(a.labels, b.labels)
}

// normalizeHops sorts hops and drops duplicates (a nexthop group may not name
// the same member twice).
func normalizeHops(hs []hop) []hop {
	slices.SortFunc(hs, compareHops)
	return slices.CompactFunc(hs, hop.equal)
}

// labelRoute is one MPLS label route: pop or swap to each hop (ECMP when
// several).
type labelRoute struct {
	in   fib.Label
	hops []hop
}

func (r labelRoute) equal(o labelRoute) bool {
	return r.in == o.in && slices.EqualFunc(r.hops, o.hops, hop.equal)
}

// kernelState is what lsrd owns in the kernel (and what stands in its way),
// read from a dump and kept current by the results of lsrd's own writes.
type kernelState struct {
	labels   map[fib.Label]labelRoute // our MPLS routes
	routes   map[netip.Prefix]uint32  // our IP routes: prefix -> nexthop object ID
	nexthops map[uint32]hop           // our single nexthop objects
	groups   map[uint32][]uint32      // our nexthop groups: ID -> sorted member IDs

	// ingress: the routes of routes that live in the ingress table (the
	// labelled copies of other daemons' routes); throws: lsrd's throw
	// routes there.
	ingress map[netip.Prefix]bool
	throws  map[netip.Prefix]bool

	// What a start adopted of the legacy protocol: label routes and IP
	// routes are replaced (which writes lsrd's protocol) or deleted by
	// that number; nexthop objects are never reused, only collected.
	legacyLabels  map[fib.Label]bool
	legacyRoutes  map[netip.Prefix]bool
	legacyObjects map[uint32]bool

	// Objects of others that block a desired item, by the protocol that
	// installed them: lsrd reports the conflict and never overwrites.
	foreignLabels  map[fib.Label]uint8
	foreignRoutes  map[netip.Prefix]uint8 // in the main target
	foreignIngress map[netip.Prefix]uint8 // in the ingress table
	// Every nexthop ID in the kernel, ours or not, so allocation never
	// collides.
	usedIDs map[uint32]bool
}

func newKernelState() *kernelState {
	return &kernelState{
		labels:         map[fib.Label]labelRoute{},
		routes:         map[netip.Prefix]uint32{},
		nexthops:       map[uint32]hop{},
		groups:         map[uint32][]uint32{},
		ingress:        map[netip.Prefix]bool{},
		throws:         map[netip.Prefix]bool{},
		legacyLabels:   map[fib.Label]bool{},
		legacyRoutes:   map[netip.Prefix]bool{},
		legacyObjects:  map[uint32]bool{},
		foreignLabels:  map[fib.Label]uint8{},
		foreignRoutes:  map[netip.Prefix]uint8{},
		foreignIngress: map[netip.Prefix]uint8{},
		usedIDs:        map[uint32]bool{},
	}
}

// referenced returns the nexthop IDs routes and groups still use.
func (s *kernelState) referenced() map[uint32]bool {
	ref := map[uint32]bool{}
	for _, id := range s.routes {
		ref[id] = true
	}
	for _, members := range s.groups {
		for _, m := range members {
			ref[m] = true
		}
	}
	return ref
}

// desiredState is a fib.Table resolved to the kernel's terms.
type desiredState struct {
	labels  map[fib.Label]labelRoute
	ftn     map[netip.Prefix][]hop
	ingress map[netip.Prefix]bool // ftn prefixes that go to the ingress table
	throws  map[netip.Prefix]bool // throw routes in the ingress table
}

// resolve turns a desired table into kernel terms, with ifindex looking up
// interface names in the FIB's namespace. Entries that cannot be programmed
// (unknown interface, bad label) are left out and reported; the rest go on.
//
// Entries for other daemons' routes (fib.FTNEntry.Foreign) and throw routes
// need the ingress table; with ingress false there is none, and they are
// reported.
func resolve(t *fib.Table, ifindex func(string) (int, bool), ingress bool) (desiredState, Errors) {
	d := desiredState{labels: map[fib.Label]labelRoute{}, ftn: map[netip.Prefix][]hop{},
		ingress: map[netip.Prefix]bool{}, throws: map[netip.Prefix]bool{}}
	var errs Errors
	if t == nil {
		return d, nil
	}
	d.labels = make(map[fib.Label]labelRoute, len(t.LFIB))
	d.ftn = make(map[netip.Prefix][]hop, len(t.FTN))
	for in, e := range t.LFIB {
		if in < fib.FirstUnreserved || in > fib.MaxLabel {
			errs = append(errs, labelError(in, "resolve", fmt.Errorf("incoming label %d is reserved or beyond 20 bits", uint32(in))))
			continue
		}
		hops, err := resolveHops(e.NextHops, ifindex)
		if err != nil {
			errs = append(errs, labelError(in, "resolve", err))
			continue
		}
		d.labels[in] = labelRoute{in: in, hops: hops}
	}
	// Prefixes behind one LSP share one next-hop slice (the producer's
	// tables are never changed in place): resolve it once, and let them
	// share the result too.
	type shared struct {
		first *fib.NextHop
		n     int
	}
	type resolved struct {
		hops []hop
		err  error
	}
	memo := map[shared]resolved{}
	for p, e := range t.FTN {
		if !p.IsValid() || p != p.Masked() {
			errs = append(errs, prefixError(p, "", "resolve", fmt.Errorf("prefix has host bits set or is invalid")))
			continue
		}
		if e.Foreign && !ingress {
			errs = append(errs, prefixError(p, "", "resolve", errNoIngressTable))
			continue
		}
		var hops []hop
		var err error
		if len(e.NextHops) > 0 {
			k := shared{&e.NextHops[0], len(e.NextHops)}
			r, ok := memo[k]
			if !ok {
				r.hops, r.err = resolveHops(e.NextHops, ifindex)
				memo[k] = r
			}
			hops, err = r.hops, r.err
		} else {
			hops, err = resolveHops(e.NextHops, ifindex)
		}
		if err != nil {
			errs = append(errs, prefixError(p, "", "resolve", err))
			continue
		}
		d.ftn[p] = hops
		if e.Foreign {
			d.ingress[p] = true
		}
	}
	for p := range t.Throws {
		switch {
		case !p.IsValid() || p != p.Masked():
			errs = append(errs, &ItemError{Item: "throw " + p.String(), Op: "resolve", Err: fmt.Errorf("prefix has host bits set or is invalid")})
		case !ingress:
			errs = append(errs, &ItemError{Item: "throw " + p.String(), Op: "resolve", Err: errNoIngressTable})
		default:
			d.throws[p] = true
		}
	}
	errs.sort()
	return d, errs
}

var errNoIngressTable = fmt.Errorf("a labelled copy of another daemon's route needs the ingress table, and none is configured")

func resolveHops(nhs []fib.NextHop, ifindex func(string) (int, bool)) ([]hop, error) {
	if len(nhs) == 0 {
		return nil, fmt.Errorf("no next hops")
	}
	hops := make([]hop, 0, len(nhs))
	for _, nh := range nhs {
		idx, ok := ifindex(nh.Ifname)
		if !ok {
			return nil, fmt.Errorf("next hop %s: interface %q not found", nh, nh.Ifname)
		}
		h := hop{gw: nh.Addr.Unmap(), ifindex: idx}
		for _, l := range nh.Labels {
			switch {
			case l == fib.LabelImplicitNull:
				// RFC 3032: implicit-null is advertised, never put on
				// the wire; the kernel refuses it in a stack. It means
				// "no label here", so it is dropped.
				continue
			case l > fib.MaxLabel:
				return nil, fmt.Errorf("next hop %s: label %d beyond 20 bits", nh, uint32(l))
			}
			h.labels = append(h.labels, l)
		}
		hops = append(hops, h)
	}
	return normalizeHops(hops), nil
}
