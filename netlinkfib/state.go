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

	// users counts, per object, the routes that go through it and the
	// groups that hold it: what is garbage, and what a scoped pass may
	// relabel, without a walk of every route. Kept by setRoute,
	// deleteRoute, setGroup and deleteObject, the only writers of routes
	// and groups.
	users map[uint32]int
}

// setRoute records that pfx goes through object id.
func (s *kernelState) setRoute(pfx netip.Prefix, id uint32) {
	if old, ok := s.routes[pfx]; ok {
		s.unuse(old)
	}
	s.routes[pfx] = id
	s.users[id]++
}

// deleteRoute records that pfx has no route of lsrd's any more.
func (s *kernelState) deleteRoute(pfx netip.Prefix) {
	if old, ok := s.routes[pfx]; ok {
		s.unuse(old)
		delete(s.routes, pfx)
	}
}

// setGroup records group id with its members.
func (s *kernelState) setGroup(id uint32, members []uint32) {
	for _, m := range s.groups[id] {
		s.unuse(m)
	}
	s.groups[id] = members
	for _, m := range members {
		s.users[m]++
	}
}

// deleteObject records that the nexthop object or group id is gone.
func (s *kernelState) deleteObject(id uint32) {
	for _, m := range s.groups[id] {
		s.unuse(m)
	}
	delete(s.nexthops, id)
	delete(s.groups, id)
	delete(s.usedIDs, id)
	delete(s.legacyObjects, id)
}

func (s *kernelState) unuse(id uint32) {
	if s.users[id]--; s.users[id] <= 0 {
		delete(s.users, id)
	}
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
		users:          map[uint32]int{},
	}
}

// referenced reports whether a route or a group still uses object id.
func (s *kernelState) referenced(id uint32) bool { return s.users[id] > 0 }

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
	r := newResolver(ifindex, ingress)
	for in, e := range t.LFIB {
		errs = r.label(&d, in, e, true, errs)
	}
	for p, e := range t.FTN {
		errs = r.ftn(&d, p, e, true, errs)
	}
	for p := range t.Throws {
		errs = r.throw(&d, p, true, errs)
	}
	errs.sort()
	return d, errs
}

// resolveScoped brings d, resolved from an earlier table, and errs, its
// resolve errors, up to t where sc names what changed; the rest of d is
// as t has it already.
func resolveScoped(d *desiredState, errs Errors, t *fib.Table, sc *scope, ifindex func(string) (int, bool), ingress bool) Errors {
	errs = slices.DeleteFunc(errs, func(e *ItemError) bool {
		_, l := sc.labels[e.label]
		_, p := sc.prefixes[e.prefix]
		_, th := sc.prefixes[e.throw]
		return e.isLabel && l || e.prefix.IsValid() && p || e.throw.IsValid() && th
	})
	r := newResolver(ifindex, ingress)
	for in := range sc.labels {
		e, ok := t.LFIB[in]
		errs = r.label(d, in, e, ok, errs)
	}
	for p := range sc.prefixes {
		e, ok := t.FTN[p]
		errs = r.ftn(d, p, e, ok, errs)
		_, ok = t.Throws[p]
		errs = r.throw(d, p, ok, errs)
	}
	errs.sort()
	return errs
}

// resolver turns table entries into kernel terms, one at a time.
type resolver struct {
	ifindex func(string) (int, bool)
	ingress bool
	// Prefixes behind one LSP share one next-hop slice (the producer's
	// tables are never changed in place): resolved once, and the result
	// shared too.
	memo map[sharedHops]resolvedHops
}

type sharedHops struct {
	first *fib.NextHop
	n     int
	v6    bool // for an IPv6 prefix (6PE keeps IPv4 gateways mapped)
}

type resolvedHops struct {
	hops []hop
	err  error
}

func newResolver(ifindex func(string) (int, bool), ingress bool) *resolver {
	return &resolver{ifindex: ifindex, ingress: ingress, memo: map[sharedHops]resolvedHops{}}
}

// label sets d's entry for in from e (none when !ok), or leaves it out and
// adds the reason to errs.
func (r *resolver) label(d *desiredState, in fib.Label, e fib.LFIBEntry, ok bool, errs Errors) Errors {
	delete(d.labels, in)
	if !ok {
		return errs
	}
	if in < fib.FirstUnreserved || in > fib.MaxLabel {
		return append(errs, labelError(in, "resolve", fmt.Errorf("incoming label %d is reserved or beyond 20 bits", uint32(in))))
	}
	hops, err := resolveHops(e.NextHops, r.ifindex)
	if err != nil {
		return append(errs, labelError(in, "resolve", err))
	}
	d.labels[in] = labelRoute{in: in, hops: hops}
	return errs
}

// ftn sets d's IP route for p from e (none when !ok), as label does.
func (r *resolver) ftn(d *desiredState, p netip.Prefix, e fib.FTNEntry, ok bool, errs Errors) Errors {
	delete(d.ftn, p)
	delete(d.ingress, p)
	if !ok {
		return errs
	}
	if !p.IsValid() || p != p.Masked() {
		return append(errs, prefixError(p, "", "resolve", fmt.Errorf("prefix has host bits set or is invalid")))
	}
	if e.Foreign && !r.ingress {
		return append(errs, prefixError(p, "", "resolve", errNoIngressTable))
	}
	var hops []hop
	var err error
	if len(e.NextHops) > 0 {
		v6 := p.Addr().Is6()
		k := sharedHops{&e.NextHops[0], len(e.NextHops), v6}
		res, ok := r.memo[k]
		if !ok {
			res.hops, res.err = resolveHopsFor(v6, e.NextHops, r.ifindex)
			r.memo[k] = res
		}
		hops, err = res.hops, res.err
	} else {
		hops, err = resolveHopsFor(p.Addr().Is6(), e.NextHops, r.ifindex)
	}
	if err != nil {
		return append(errs, prefixError(p, "", "resolve", err))
	}
	d.ftn[p] = hops
	if e.Foreign {
		d.ingress[p] = true
	}
	return errs
}

// throw sets d's throw route for p (none when !ok), as label does.
func (r *resolver) throw(d *desiredState, p netip.Prefix, ok bool, errs Errors) Errors {
	delete(d.throws, p)
	if !ok {
		return errs
	}
	switch {
	case !p.IsValid() || p != p.Masked():
		return append(errs, &ItemError{Item: "throw " + p.String(), Op: "resolve", Err: fmt.Errorf("prefix has host bits set or is invalid"), throw: p})
	case !r.ingress:
		return append(errs, &ItemError{Item: "throw " + p.String(), Op: "resolve", Err: errNoIngressTable, throw: p})
	}
	d.throws[p] = true
	return errs
}

var errNoIngressTable = fmt.Errorf("a labelled copy of another daemon's route needs the ingress table, and none is configured")

func resolveHops(nhs []fib.NextHop, ifindex func(string) (int, bool)) ([]hop, error) {
	return resolveHopsFor(false, nhs, ifindex)
}

// resolveHopsFor is resolveHops for an IPv6 prefix when v6: an IPv4
// gateway (given mapped or not) is then kept mapped, for 6PE (RFC 4798):
// the kernel takes no IPv4 nexthop for an IPv6 route, but an IPv6 one
// whose gateway is a mapped IPv4 address, on-link, with a label stack.
// Without labels such a route would leave as IPv6 for an IPv4 core, and
// is refused.
func resolveHopsFor(v6 bool, nhs []fib.NextHop, ifindex func(string) (int, bool)) ([]hop, error) {
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
		if v6 && h.gw.Is4() {
			if len(nh.Labels) == 0 {
				return nil, fmt.Errorf("next hop %s: an IPv6 route through an IPv4 next hop needs a label stack (6PE)", nh)
			}
			h.gw = netip.AddrFrom16(h.gw.As16())
		}
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
