// Package vpn is lsrd's provider edge for BGP/MPLS IP VPNs (RFC 4364, and
// RFC 4659 for IPv6): which VRF imports which VPN route, the labels lsrd
// gives its own VRFs' routes, and how an imported route is forwarded (over
// the LSP to the egress provider edge, with the VPN label under the LSP's).
//
// It is a deterministic state machine owned by the parent's goroutine: VRF
// configuration, the VRFs' local routes (read from their kernel tables),
// the best VPN paths from BGP and LDP's LSPs go in; the VPN routes to
// export, the label routes that pop into each VRF and each VRF's routes
// come out. It never touches the kernel or GoBGP.
package vpn

import (
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/bgp"
	"github.com/lsrd/lsrd/fib"
)

// VRF is a VRF as this package needs it; RD and route targets as
// bgp.CanonicalRD and bgp.CanonicalRT write them.
type VRF struct {
	Name      string
	Table     uint32
	RD        string
	ImportRTs []string
	ExportRTs []string
	// PerPrefix gives each exported prefix a label of its own; otherwise
	// the VRF has one.
	PerPrefix bool
	// What of the VRF's table is exported.
	ExportConnected, ExportStatic, ExportBGP bool
}

// LocalRoute is a route in a VRF's kernel table that lsrd did not put
// there.
type LocalRoute struct {
	Prefix netip.Prefix
	// Connected: the subnet of an address of an interface in the VRF (the
	// kernel's own route); BGP: learned from a customer's router over BGP
	// (lsrd's VRF speaker put it in the table); otherwise an operator's or
	// another daemon's.
	Connected, BGP bool
	// NextHops are the route's gateways (address and interface, no
	// labels); empty for a connected route or one without a gateway.
	NextHops []fib.NextHop
}

func (r LocalRoute) equal(o LocalRoute) bool {
	return r.Prefix == o.Prefix && r.Connected == o.Connected && r.BGP == o.BGP && slices.EqualFunc(r.NextHops, o.NextHops, fib.NextHop.Equal)
}

// gateways tells whether a label for r alone can forward to r's next
// hops (every one an address on an interface) instead of looking the
// packet up in the VRF.
func (r LocalRoute) gateways() bool {
	return len(r.NextHops) > 0 && !slices.ContainsFunc(r.NextHops, func(nh fib.NextHop) bool {
		return !nh.Addr.IsValid() || nh.Ifname == "" || len(nh.Labels) > 0
	})
}

// LSPs gives the next hops of the LSP to a provider edge's address (LDP's
// FTN entry for its host prefix), or false when there is none.
type LSPs func(netip.Addr) ([]fib.NextHop, bool)

// Config is what the state needs besides the VRFs.
type Config struct {
	// LocalAddress is this provider edge's address: the next hop of every
	// route exported (the LDP transport address, which the other provider
	// edges have an LSP to).
	LocalAddress       netip.Addr
	LabelMin, LabelMax fib.Label
	Log                *slog.Logger
}

// State is the provider edge.
type State struct {
	cfg    Config
	log    *slog.Logger
	vrfs   map[string]*vrf
	byRD   map[string]*vrf
	labels allocator
	// remote holds the best VPN paths from BGP that name a usable provider
	// edge, whether a VRF imports them or not.
	remote map[bgp.VPNKey]bgp.VPNRoute
	// byPE indexes the imported routes by provider edge: an LSP change
	// touches the VRF prefixes behind that edge only.
	byPE map[netip.Addr]map[vrfPrefix]struct{}
	// loggedRTs are the route-target sets already logged as imported by
	// no VRF (bounded).
	loggedRTs map[string]bool
	// rds and rtSets share the RDs and route-target sets of the remote
	// routes (bounded).
	rds    map[string]string
	rtSets map[string][]string
	lsp    LSPs
	// shared hands out one next-hop slice per (LSP slice, VPN label).
	shared map[sharedKey][]fib.NextHop
	// exportsDirty says the export set changed since Exports; lfibDirty
	// the label routes since LFIB.
	exportsDirty, lfibDirty bool
}

type vrfPrefix struct {
	vrf    string
	prefix netip.Prefix
}

type sharedKey struct {
	first *fib.NextHop
	n     int
	label fib.Label
	six   bool
}

type vrf struct {
	VRF
	label        fib.Label                  // the VRF's label (per-vrf mode), 0 before one is had
	prefixLabels map[netip.Prefix]fib.Label // per-prefix mode
	local        map[netip.Prefix]LocalRoute
	// imports holds, per prefix, the RDs of the remote routes this VRF
	// imports for it (several RDs may carry the same prefix; one, nearly
	// always: a slice, not a set).
	imports map[netip.Prefix][]string
	// dirty are the prefixes whose route in the VRF's table may have
	// changed since TakeChanges; all says the whole table.
	dirty map[netip.Prefix]struct{}
	all   bool
}

// New returns an empty provider edge.
func New(cfg Config, lsp LSPs) (*State, error) {
	if cfg.LabelMin < fib.FirstUnreserved || cfg.LabelMax < cfg.LabelMin || cfg.LabelMax > fib.MaxLabel {
		return nil, fmt.Errorf("vpn: label range %d-%d is not a range of unreserved labels", cfg.LabelMin, cfg.LabelMax)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &State{cfg: cfg, log: cfg.Log, vrfs: map[string]*vrf{}, byRD: map[string]*vrf{},
		labels: newAllocator(cfg.LabelMin, cfg.LabelMax), remote: map[bgp.VPNKey]bgp.VPNRoute{},
		byPE: map[netip.Addr]map[vrfPrefix]struct{}{}, loggedRTs: map[string]bool{}, lsp: lsp,
		rds: map[string]string{}, rtSets: map[string][]string{},
		shared: map[sharedKey][]fib.NextHop{}}, nil
}

// SetLocalAddress changes the next hop of the exported routes.
func (s *State) SetLocalAddress(a netip.Addr) {
	if a != s.cfg.LocalAddress {
		s.cfg.LocalAddress = a
		s.exportsDirty = true
	}
}

// SetVRFs makes vs the VRFs. A VRF whose name stays keeps its labels and
// routes; one that goes takes its labels and routes with it.
func (s *State) SetVRFs(vs []VRF) error {
	names := map[string]bool{}
	for _, v := range vs {
		names[v.Name] = true
	}
	for name, v := range s.vrfs {
		if !names[name] {
			s.dropVRF(v)
		}
	}
	for _, c := range vs {
		v, ok := s.vrfs[c.Name]
		if !ok {
			v = &vrf{local: map[netip.Prefix]LocalRoute{}, imports: map[netip.Prefix][]string{},
				prefixLabels: map[netip.Prefix]fib.Label{}, all: true}
			s.vrfs[c.Name] = v
		}
		old := v.VRF
		if ok && old.RD != c.RD && s.byRD[old.RD] == v {
			delete(s.byRD, old.RD)
		}
		v.VRF = c
		s.byRD[c.RD] = v
		if !ok || old.Table != c.Table || old.PerPrefix != c.PerPrefix {
			s.freeLabels(v)
		}
		if err := s.labelVRF(v); err != nil {
			return err
		}
		s.exportsDirty = true
		if !ok || !slices.Equal(old.ImportRTs, c.ImportRTs) || old.Table != c.Table {
			s.reimport(v)
		}
	}
	return nil
}

func (s *State) dropVRF(v *vrf) {
	s.freeLabels(v)
	delete(s.vrfs, v.Name) // first: unindexPE looks for the VRF's other routes
	for p, rds := range v.imports {
		for _, rd := range rds {
			s.unindexPE(s.remote[bgp.VPNKey{RD: rd, Prefix: p}].NextHop, v.Name, p)
		}
	}
	if s.byRD[v.RD] == v {
		delete(s.byRD, v.RD)
	}
	s.exportsDirty = true
}

func (s *State) freeLabels(v *vrf) {
	if v.label != 0 {
		s.labels.free(v.label)
		v.label = 0
	}
	for p, l := range v.prefixLabels {
		s.labels.free(l)
		delete(v.prefixLabels, p)
	}
	s.lfibDirty = true
}

// labelVRF gives v the labels its mode needs.
func (s *State) labelVRF(v *vrf) error {
	if !v.PerPrefix {
		if v.label == 0 {
			l, err := s.labels.alloc()
			if err != nil {
				return fmt.Errorf("vpn: VRF %s: %w", v.Name, err)
			}
			v.label = l
			s.lfibDirty = true
		}
		return nil
	}
	// In prefix order: the same configuration and tables give the same
	// labels after a restart (the VRFs' own labels go in the
	// configuration's order).
	for _, p := range slices.SortedFunc(maps.Keys(v.local), netip.Prefix.Compare) {
		if !s.exported(v, v.local[p]) {
			continue
		}
		if _, ok := v.prefixLabels[p]; ok {
			continue
		}
		l, err := s.labels.alloc()
		if err != nil {
			return fmt.Errorf("vpn: VRF %s, %s: %w", v.Name, p, err)
		}
		v.prefixLabels[p] = l
		s.lfibDirty = true
	}
	for p, l := range v.prefixLabels {
		if r, ok := v.local[p]; !ok || !s.exported(v, r) {
			s.labels.free(l)
			delete(v.prefixLabels, p)
			s.lfibDirty = true
		}
	}
	return nil
}

func (s *State) exported(v *vrf, r LocalRoute) bool {
	switch {
	case r.Connected:
		return v.ExportConnected
	case r.BGP:
		return v.ExportBGP
	}
	return v.ExportStatic
}

// Advertised lists what name's customer routers are told over BGP: the
// VRF's connected and static routes and the VPN routes it installs (with
// an LSP to their provider edge), sorted; not the routes learned from the
// customers themselves.
func (s *State) Advertised(name string) []netip.Prefix {
	v, ok := s.vrfs[name]
	if !ok {
		return nil
	}
	var out []netip.Prefix
	for p, r := range v.local {
		if !r.BGP {
			out = append(out, p)
		}
	}
	for p := range v.imports {
		if _, ok := s.route(v, p); ok {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, netip.Prefix.Compare)
	return out
}

// SetLocal makes routes the VRF's local routes (what its kernel table holds
// that lsrd did not put there). An unknown VRF is ignored.
func (s *State) SetLocal(name string, routes []LocalRoute) error {
	v, ok := s.vrfs[name]
	if !ok {
		return nil
	}
	now := make(map[netip.Prefix]LocalRoute, len(routes))
	for _, r := range routes {
		now[r.Prefix] = r
	}
	if maps.EqualFunc(now, v.local, LocalRoute.equal) {
		return nil
	}
	if v.PerPrefix {
		s.lfibDirty = true // a prefix's label forwards to its gateways
	}
	// A prefix that becomes local or stops being one changes what is
	// imported for it (a local route wins).
	for p := range now {
		if _, had := v.local[p]; !had {
			v.markDirty(p)
		}
	}
	for p := range v.local {
		if _, has := now[p]; !has {
			v.markDirty(p)
		}
	}
	v.local = now
	s.exportsDirty = true
	return s.labelVRF(v)
}

// Update applies best VPN paths from BGP (withdrawals included).
func (s *State) Update(rs []bgp.VPNRoute) {
	for _, r := range rs {
		k := r.Key()
		if old, ok := s.remote[k]; ok {
			s.unimport(old)
			delete(s.remote, k)
		}
		if r.Withdrawn {
			continue
		}
		// Every path brings strings of its own; 100,000 routes of a few
		// VPNs share a few.
		r.RD, r.RTs = s.internRD(r.RD), s.internRTs(r.RTs)
		if v, clash := s.byRD[r.RD]; clash {
			s.log.Warn("vpn: ignoring a VPN route with the route distinguisher of a local VRF", "rd", r.RD,
				"prefix", r.Prefix, "vrf", v.Name, "next_hop", r.NextHop, "neighbor", r.Neighbor)
			continue
		}
		if r.NextHop == s.cfg.LocalAddress {
			continue // our own, reflected back
		}
		s.remote[k] = r
		if !s.importRoute(r) {
			if key := strings.Join(r.RTs, " "); !s.loggedRTs[key] && len(s.loggedRTs) < maxLoggedRTs {
				s.loggedRTs[key] = true
				s.log.Info("vpn: a VPN route no VRF imports (its route targets match no import-rt); ignored, and so are others with the same targets",
					"rd", r.RD, "prefix", r.Prefix, "route_targets", key, "neighbor", r.Neighbor)
			}
		}
	}
}

// maxLoggedRTs bounds the route-target sets remembered as logged.
const maxLoggedRTs = 1024

// maxInterned bounds the RDs and route-target sets shared (cleared beyond:
// sharing starts over, nothing is wrong).
const maxInterned = 1 << 16

func (s *State) internRD(rd string) string { return intern(s.rds, rd, rd) }

func (s *State) internRTs(rts []string) []string {
	return intern(s.rtSets, strings.Join(rts, " "), rts)
}

// intern returns m's value for k, or makes v that value.
func intern[V any](m map[string]V, k string, v V) V {
	if c, ok := m[k]; ok {
		return c
	}
	if len(m) >= maxInterned {
		clear(m)
	}
	m[k] = v
	return v
}

// importRoute adds r to every VRF whose import targets it carries, and says
// whether any did.
func (s *State) importRoute(r bgp.VPNRoute) bool {
	any := false
	for _, v := range s.vrfs {
		if !intersects(v.ImportRTs, r.RTs) {
			continue
		}
		any = true
		if rds := v.imports[r.Prefix]; !slices.Contains(rds, r.RD) {
			v.imports[r.Prefix] = append(rds, r.RD)
		}
		s.indexPE(r.NextHop, v.Name, r.Prefix)
		v.markDirty(r.Prefix)
	}
	return any
}

func (s *State) unimport(r bgp.VPNRoute) {
	for _, v := range s.vrfs {
		rds := v.imports[r.Prefix]
		i := slices.Index(rds, r.RD)
		if i < 0 {
			continue
		}
		if rds = slices.Delete(rds, i, i+1); len(rds) == 0 {
			delete(v.imports, r.Prefix)
		} else {
			v.imports[r.Prefix] = rds
		}
		s.unindexPE(r.NextHop, v.Name, r.Prefix)
		v.markDirty(r.Prefix)
	}
}

// reimport rebuilds v's imports from the remote routes (new VRF, new
// import targets).
func (s *State) reimport(v *vrf) {
	old := v.imports
	v.imports = map[netip.Prefix][]string{}
	for p, rds := range old {
		for _, rd := range rds {
			s.unindexPE(s.remote[bgp.VPNKey{RD: rd, Prefix: p}].NextHop, v.Name, p)
		}
	}
	v.all = true
	for _, r := range s.remote {
		if !intersects(v.ImportRTs, r.RTs) {
			continue
		}
		v.imports[r.Prefix] = append(v.imports[r.Prefix], r.RD)
		s.indexPE(r.NextHop, v.Name, r.Prefix)
	}
}

func (s *State) indexPE(pe netip.Addr, name string, p netip.Prefix) {
	m := s.byPE[pe]
	if m == nil {
		m = map[vrfPrefix]struct{}{}
		s.byPE[pe] = m
	}
	m[vrfPrefix{name, p}] = struct{}{}
}

// unindexPE drops the index entry unless another route of the VRF for p
// still names pe.
func (s *State) unindexPE(pe netip.Addr, name string, p netip.Prefix) {
	if v, ok := s.vrfs[name]; ok {
		for _, rd := range v.imports[p] {
			if s.remote[bgp.VPNKey{RD: rd, Prefix: p}].NextHop == pe {
				return
			}
		}
	}
	if m := s.byPE[pe]; m != nil {
		delete(m, vrfPrefix{name, p})
		if len(m) == 0 {
			delete(s.byPE, pe)
		}
	}
}

// LSPChanged notes that the LSP to pe may have changed: the VRF routes
// through it are recomputed.
func (s *State) LSPChanged(pe netip.Addr) {
	for vp := range s.byPE[pe] {
		if v, ok := s.vrfs[vp.vrf]; ok {
			v.markDirty(vp.prefix)
		}
	}
}

func (v *vrf) markDirty(p netip.Prefix) {
	if v.all {
		return
	}
	if v.dirty == nil {
		v.dirty = map[netip.Prefix]struct{}{}
	}
	v.dirty[p] = struct{}{}
}

func intersects(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// Route is the route wanted in name's table for p: over the LSP to the
// chosen provider edge, the LSP's labels with the VPN label under them. A
// prefix the VRF has locally, or whose every provider edge lacks an LSP,
// has none.
func (s *State) Route(name string, p netip.Prefix) (fib.FTNEntry, bool) {
	v, ok := s.vrfs[name]
	if !ok {
		return fib.FTNEntry{}, false
	}
	return s.route(v, p)
}

func (s *State) route(v *vrf, p netip.Prefix) (fib.FTNEntry, bool) {
	if _, local := v.local[p]; local {
		return fib.FTNEntry{}, false
	}
	best, ok := s.choose(p, v.imports[p])
	if !ok {
		return fib.FTNEntry{}, false
	}
	hops, ok := s.lsp(best.NextHop)
	if !ok || len(hops) == 0 {
		return fib.FTNEntry{}, false
	}
	return fib.FTNEntry{Prefix: p, NextHops: s.push(hops, fib.Label(best.Label), p.Addr().Is6())}, true
}

// choose picks among the routes a VRF imports for one prefix under
// several RDs (BGP has chosen the best path per RD already; a multihomed
// site reaches us through two provider edges, each with its RD): one whose
// provider edge has an LSP, then RFC 4271's decision process as far as it
// applies here (section 9.1.2.2): the highest LOCAL_PREF, the shortest
// AS_PATH, the lowest ORIGIN, the lowest MED between paths from the same
// neighbouring AS; then the lowest provider edge address and the lowest
// RD. Not compared: the IGP cost to the provider edge (every LSP counts
// alike) and eBGP over iBGP (VPN routes come from provider edges). MEDs
// are compared within each neighbouring AS first and the winners then
// without them, so the choice does not depend on the order the routes
// came in.
func (s *State) choose(p netip.Prefix, rds []string) (bgp.VPNRoute, bool) {
	if len(rds) == 1 {
		return s.remote[bgp.VPNKey{RD: rds[0], Prefix: p}], true
	}
	var groups []candidate // the best per neighbouring AS
	for _, rd := range rds {
		r := s.remote[bgp.VPNKey{RD: rd, Prefix: p}]
		_, hasLSP := s.lsp(r.NextHop)
		c := candidate{r, hasLSP}
		i := slices.IndexFunc(groups, func(g candidate) bool { return g.FirstAS == r.FirstAS })
		switch {
		case i < 0:
			groups = append(groups, c)
		case c.better(groups[i], true):
			groups[i] = c
		}
	}
	if len(groups) == 0 {
		return bgp.VPNRoute{}, false
	}
	best := groups[0]
	for _, c := range groups[1:] {
		if c.better(best, false) {
			best = c
		}
	}
	return best.VPNRoute, true
}

// candidate is a route to choose from, and whether its provider edge has
// an LSP.
type candidate struct {
	bgp.VPNRoute
	lsp bool
}

// better tells whether c is preferred to o (choose), comparing MEDs when
// med is set.
func (c candidate) better(o candidate, med bool) bool {
	switch {
	case c.lsp != o.lsp:
		return c.lsp
	case c.LocalPref != o.LocalPref:
		return c.LocalPref > o.LocalPref
	case c.ASPathLen != o.ASPathLen:
		return c.ASPathLen < o.ASPathLen
	case c.Origin != o.Origin:
		return c.Origin < o.Origin
	case med && c.MED != o.MED:
		return c.MED < o.MED
	case c.NextHop != o.NextHop:
		return c.NextHop.Less(o.NextHop)
	}
	return c.RD < o.RD
}

// push is the next hops of the LSP with label under the LSP's labels
// (implicit null dropped: the provider edge next door pops nothing), shared
// by every prefix with the same LSP and label. An IPv6 prefix keeps an
// IPv4 hop's gateway IPv4-mapped (the kernel's form of it).
func (s *State) push(hops []fib.NextHop, label fib.Label, six bool) []fib.NextHop {
	k := sharedKey{first: &hops[0], n: len(hops), label: label, six: six}
	if out, ok := s.shared[k]; ok {
		return out
	}
	out := make([]fib.NextHop, len(hops))
	for i, h := range hops {
		ls := make([]fib.Label, 0, len(h.Labels)+1)
		for _, l := range h.Labels {
			if l != fib.LabelImplicitNull {
				ls = append(ls, l)
			}
		}
		h.Labels = append(ls, label)
		if six && h.Addr.Unmap().Is4() {
			h.Addr = netip.AddrFrom16(h.Addr.Unmap().As16())
		}
		out[i] = h
	}
	if len(s.shared) >= maxShared {
		s.shared = map[sharedKey][]fib.NextHop{}
	}
	s.shared[k] = out
	return out
}

const maxShared = 4096

// Table is name's whole table of imported routes (the first hand-over to
// the kernel layer, and the control API).
func (s *State) Table(name string) map[netip.Prefix]fib.FTNEntry {
	v, ok := s.vrfs[name]
	if !ok {
		return nil
	}
	out := make(map[netip.Prefix]fib.FTNEntry, len(v.imports))
	for p := range v.imports {
		if e, ok := s.route(v, p); ok {
			out[p] = e
		}
	}
	return out
}

// Changes is what changed in one VRF's table since the last TakeChanges:
// the whole table (Full), or the prefixes whose route may have changed
// with the route now (nil: none).
type Changes struct {
	Full  bool
	Table map[netip.Prefix]fib.FTNEntry
	Delta map[netip.Prefix]*fib.FTNEntry
}

// TakeChanges returns each VRF's changes since the last call, by name
// (VRFs without any left out).
func (s *State) TakeChanges() map[string]Changes {
	out := map[string]Changes{}
	for name, v := range s.vrfs {
		switch {
		case v.all:
			out[name] = Changes{Full: true, Table: s.Table(name)}
		case len(v.dirty) > 0:
			d := make(map[netip.Prefix]*fib.FTNEntry, len(v.dirty))
			for p := range v.dirty {
				d[p] = nil
				if e, ok := s.route(v, p); ok {
					d[p] = &e
				}
			}
			out[name] = Changes{Delta: d}
		}
		v.all, v.dirty = false, nil
	}
	return out
}

// Resend makes the next TakeChanges give name's whole table (its kernel
// layer starts afresh).
func (s *State) Resend(name string) {
	if v, ok := s.vrfs[name]; ok {
		v.all, v.dirty = true, nil
	}
}

// ExportsChanged says whether Exports would differ from its last result.
func (s *State) ExportsChanged() bool { return s.exportsDirty }

// Exports is every VPN route lsrd originates: each VRF's local routes of
// the kinds it exports, with its RD, export targets and label, next hop
// this provider edge.
func (s *State) Exports() []bgp.VPNRoute {
	s.exportsDirty = false
	return s.exports()
}

func (s *State) exports() []bgp.VPNRoute {
	var out []bgp.VPNRoute
	if !s.cfg.LocalAddress.IsValid() {
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(s.vrfs)) {
		v := s.vrfs[name]
		for _, p := range slices.SortedFunc(maps.Keys(v.local), netip.Prefix.Compare) {
			r := v.local[p]
			if !s.exported(v, r) {
				continue
			}
			l := v.label
			if v.PerPrefix {
				l = v.prefixLabels[p]
			}
			if l == 0 {
				continue
			}
			out = append(out, bgp.VPNRoute{RD: v.RD, Prefix: p, Label: uint32(l), NextHop: s.cfg.LocalAddress,
				RTs: slices.Clone(v.ExportRTs)})
		}
	}
	return out
}

// LFIBChanged says whether LFIB would differ from its last result.
func (s *State) LFIBChanged() bool { return s.lfibDirty }

// LFIB is the label routes of the VPN labels: each pops the label and looks
// the packet up in its VRF's table (delivered to the VRF device), except a
// per-prefix label of a route through gateways, which pops the label and
// forwards to them, as the route does (no second lookup).
func (s *State) LFIB() map[fib.Label]fib.LFIBEntry {
	s.lfibDirty = false
	out := map[fib.Label]fib.LFIBEntry{}
	for _, v := range s.vrfs {
		into := []fib.NextHop{{Ifname: v.Name}}
		if v.label != 0 {
			out[v.label] = fib.LFIBEntry{InLabel: v.label, NextHops: into}
		}
		for p, l := range v.prefixLabels {
			hops := into
			if r := v.local[p]; r.gateways() {
				hops = r.NextHops
			}
			out[l] = fib.LFIBEntry{InLabel: l, NextHops: hops}
		}
	}
	return out
}

// VRFView is one VRF as operators see it.
type VRFView = api.VRF

// View describes every VRF, sorted by name. O(the VRFs' routes).
func (s *State) View() []VRFView {
	var out []VRFView
	for _, name := range slices.Sorted(maps.Keys(s.vrfs)) {
		v := s.vrfs[name]
		vv := VRFView{Name: name, Table: v.Table, RD: v.RD, ImportRTs: v.ImportRTs, ExportRTs: v.ExportRTs,
			LabelMode: "per-vrf", Label: v.label, Local: len(v.local), Imported: len(v.imports)}
		if v.PerPrefix {
			vv.LabelMode = "per-prefix"
		}
		for _, r := range v.local {
			if s.exported(v, r) {
				vv.Exported++
			}
		}
		for p := range v.imports {
			if _, ok := s.route(v, p); ok {
				vv.Installed++
			}
		}
		out = append(out, vv)
	}
	return out
}

// Routes is every VPN route: those BGP gave that name a usable provider
// edge, with the VRFs importing them, and those lsrd exports; sorted by RD
// and prefix.
func (s *State) Routes() []api.VPNRoute {
	out := make([]api.VPNRoute, 0, len(s.remote))
	for _, r := range s.remote {
		ar := wireRoute(r)
		for _, name := range slices.Sorted(maps.Keys(s.vrfs)) {
			if slices.Contains(s.vrfs[name].imports[r.Prefix], r.RD) {
				ar.VRFs = append(ar.VRFs, name)
			}
		}
		_, ar.LSP = s.lsp(r.NextHop)
		out = append(out, ar)
	}
	for _, r := range s.exports() {
		ar := wireRoute(r)
		ar.Exported = true
		out = append(out, ar)
	}
	slices.SortFunc(out, func(a, b api.VPNRoute) int {
		if c := strings.Compare(a.RD, b.RD); c != 0 {
			return c
		}
		return a.Prefix.Compare(b.Prefix)
	})
	return out
}

func wireRoute(r bgp.VPNRoute) api.VPNRoute {
	return api.VPNRoute{RD: r.RD, Prefix: r.Prefix, Label: r.Label, NextHop: r.NextHop, RTs: r.RTs, Neighbor: r.Neighbor}
}

// VRFNames returns the VRFs' names, sorted.
func (s *State) VRFNames() []string { return slices.Sorted(maps.Keys(s.vrfs)) }

// allocator hands out VPN labels from a range: the next free one after the
// last handed out, so that a label freed is not given to another route at
// once (a neighbour may still push it).
type allocator struct {
	min, max fib.Label
	next     fib.Label
	used     map[fib.Label]bool
}

func newAllocator(lo, hi fib.Label) allocator {
	return allocator{min: lo, max: hi, next: lo, used: map[fib.Label]bool{}}
}

func (a *allocator) alloc() (fib.Label, error) {
	n := int(a.max - a.min + 1)
	for i := 0; i < n; i++ {
		l := a.next
		a.next++
		if a.next > a.max {
			a.next = a.min
		}
		if !a.used[l] {
			a.used[l] = true
			return l, nil
		}
	}
	return 0, fmt.Errorf("VPN label range %d-%d exhausted", a.min, a.max)
}

func (a *allocator) free(l fib.Label) { delete(a.used, l) }
