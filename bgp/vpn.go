package bgp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"slices"
	"sync"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/apiutil"
	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/osrg/gobgp/v3/pkg/server"
)

// The VPN families (BGP/MPLS IP VPNs: RFC 4364 for IPv4, RFC 4659 for IPv6).
const (
	FamilyIPv4VPN = "ipv4-vpn"
	FamilyIPv6VPN = "ipv6-vpn"
)

// VPNRoute is a route of a VPN family: a customer prefix made unique by its
// route distinguisher, the label the egress provider edge pops it with, that
// edge's address, and the route targets that say which VRFs import it.
//
// GoBGP carries the routes and picks the best path per RD and prefix; which
// VRF takes a route (by its route targets) and how it is forwarded (over the
// LSP to NextHop) is lsrd's, in package vpn: GoBGP's own VRFs take their
// label from zebra only, and lsrd allocates its labels itself.
type VPNRoute struct {
	RD     string // as GoBGP writes it: "65000:1", "192.0.2.1:7"
	Prefix netip.Prefix
	Label  uint32 // the VPN label (bottom of the stack)
	// NextHop is the egress provider edge (an IPv4 address; for VPNv6 the
	// IPv4-mapped form on the wire, RFC 4659 section 3.2.1.2).
	NextHop netip.Addr
	RTs     []string // route targets, as GoBGP writes them
	// Neighbor is the BGP neighbour the best path came from.
	Neighbor netip.Addr
	// What picks among the routes a VRF imports for one prefix under
	// several RDs, as RFC 4271's decision process (section 9.1.2.2):
	// LOCAL_PREF (100 when the path has none), the AS_PATH's length (a
	// set counts one), its first AS (MEDs compare only between paths from
	// the same neighbouring AS; 0 for an empty path), ORIGIN and MED (0
	// when the path has none).
	LocalPref uint32
	FirstAS   uint32
	MED       uint32
	ASPathLen uint16
	Origin    uint8
	Withdrawn bool
	// EndOfRIB, when set, is a neighbour's End-of-RIB marker for a VPN
	// family instead of a route: it travels with the VPN paths, after
	// those the neighbour sent before it.
	EndOfRIB *EndOfRIB
}

// VPNKey names a VPN route: RD and prefix (RFC 4364 section 4.1).
type VPNKey struct {
	RD     string
	Prefix netip.Prefix
}

// Key is r's RD and prefix.
func (r VPNRoute) Key() VPNKey { return VPNKey{RD: r.RD, Prefix: r.Prefix} }

// rdForms says what route distinguishers and targets may be written as.
const rdForms = "ASN:NN with a 2-byte ASN and a 4-byte number, IPv4:NN or a 4-byte ASN in asdot (N.N:NN) with a 2-byte number"

// CanonicalRD checks rd and returns it as GoBGP writes it, which is how
// VPNRoute names it. GoBGP's parser cuts numbers too large for their field
// down without a word (70000:1 would become 65535:1), so a value it does
// not write back the same is refused.
func CanonicalRD(rd string) (string, error) {
	d, err := bgp.ParseRouteDistinguisher(rd)
	if err != nil || d.String() != rd {
		return "", fmt.Errorf("route distinguisher %q: not %s", rd, rdForms)
	}
	return d.String(), nil
}

// CanonicalRT checks a route target as CanonicalRD checks an RD.
func CanonicalRT(rt string) (string, error) {
	c, err := bgp.ParseRouteTarget(rt)
	if err != nil || c.String() != rt {
		return "", fmt.Errorf("route target %q: not %s", rt, rdForms)
	}
	return c.String(), nil
}

func isVPN(f *api.Family) bool {
	return f.GetSafi() == api.Family_SAFI_MPLS_VPN &&
		(f.GetAfi() == api.Family_AFI_IP || f.GetAfi() == api.Family_AFI_IP6)
}

// errVPNPath is a VPN path lsrd refuses (no label, a label beyond 20 bits,
// a next hop it cannot use): logged and taken as a withdrawal of its RD
// and prefix, so that an earlier good path does not linger.
var errVPNPath = errors.New("VPN path refused")

// pathToVPN turns one of GoBGP's best paths of a VPN family into a
// VPNRoute. A refused path comes back with its key, Withdrawn, and an error
// wrapping errVPNPath; a path that cannot even be named, with ok false.
func pathToVPN(p *api.Path) (r VPNRoute, ok bool, err error) {
	nlri, err := apiutil.GetNativeNlri(p)
	if err != nil {
		return VPNRoute{}, false, fmt.Errorf("bgp: VPN path from %s: NLRI: %w", p.GetNeighborIp(), err)
	}
	var n *bgp.LabeledVPNIPAddrPrefix
	switch v := nlri.(type) {
	case *bgp.LabeledVPNIPAddrPrefix:
		n = v
	case *bgp.LabeledVPNIPv6AddrPrefix:
		n = &v.LabeledVPNIPAddrPrefix
	default:
		return VPNRoute{}, false, fmt.Errorf("bgp: VPN path from %s: NLRI of type %T", p.GetNeighborIp(), nlri)
	}
	addr, ok := netip.AddrFromSlice(n.Prefix)
	if !ok || n.RD == nil {
		return VPNRoute{}, false, fmt.Errorf("bgp: VPN path from %s: NLRI without a prefix or RD", p.GetNeighborIp())
	}
	if _, isV6 := nlri.(*bgp.LabeledVPNIPv6AddrPrefix); !isV6 {
		addr = addr.Unmap()
	}
	bits := int(n.IPPrefixLen()) // n.Length counts the labels and the RD too
	prefix, err := addr.Prefix(bits)
	if err != nil {
		return VPNRoute{}, false, fmt.Errorf("bgp: VPN path from %s: %s/%d: %w", p.GetNeighborIp(), addr, bits, err)
	}
	r = VPNRoute{RD: n.RD.String(), Prefix: prefix}
	nb, errPeer := netip.ParseAddr(p.GetNeighborIp())
	// A path we originate (GoBGP reports its source as "<nil>") is no
	// route to import: it withdraws any earlier one for the key.
	if p.GetIsWithdraw() || errPeer != nil {
		r.Withdrawn = true
		return r, true, nil
	}
	r.Neighbor = nb.Unmap()
	refuse := func(format string, args ...any) (VPNRoute, bool, error) {
		r.Withdrawn = true
		return r, true, fmt.Errorf("bgp: VPN path %s:%s from %s: %s: %w", r.RD, r.Prefix, r.Neighbor, fmt.Sprintf(format, args...), errVPNPath)
	}
	if len(n.Labels.Labels) == 0 {
		return refuse("no label")
	}
	// The bottom label is the VPN label; more than one is not what RFC
	// 4364 routes carry.
	r.Label = n.Labels.Labels[len(n.Labels.Labels)-1]
	switch {
	case r.Label > maxLabel:
		return refuse("label %d is not a 20-bit label", r.Label)
	case r.Label < 16:
		return refuse("label %d is reserved (RFC 3032)", r.Label)
	}
	attrs, err := apiutil.GetNativePathAttributes(p)
	if err != nil {
		return refuse("attributes: %v", err)
	}
	r.LocalPref = defaultLocalPref
	for _, a := range attrs {
		switch a := a.(type) {
		case *bgp.PathAttributeLocalPref:
			r.LocalPref = a.Value
		case *bgp.PathAttributeMultiExitDisc:
			r.MED = a.Value
		case *bgp.PathAttributeOrigin:
			r.Origin = a.Value
		case *bgp.PathAttributeAsPath:
			n := 0
			for _, seg := range a.Value {
				n += seg.ASLen()
				if r.FirstAS == 0 && seg.GetType() == bgp.BGP_ASPATH_ATTR_TYPE_SEQ && len(seg.GetAS()) > 0 {
					r.FirstAS = seg.GetAS()[0]
				}
			}
			r.ASPathLen = uint16(min(n, math.MaxUint16))
		case *bgp.PathAttributeMpReachNLRI:
			if nh, ok := netip.AddrFromSlice(a.Nexthop); ok {
				r.NextHop = nh.Unmap()
			}
		case *bgp.PathAttributeExtendedCommunities:
			for _, c := range a.Value {
				if _, sub := c.GetTypes(); sub == bgp.EC_SUBTYPE_ROUTE_TARGET {
					r.RTs = append(r.RTs, c.String())
				}
			}
		}
	}
	if !r.NextHop.IsValid() || !r.NextHop.Is4() || r.NextHop.IsUnspecified() {
		return refuse("next hop %s is not an IPv4 provider edge (lsrd's VPNs ride IPv4 LSPs)", r.NextHop)
	}
	slices.Sort(r.RTs)
	r.RTs = slices.Compact(r.RTs)
	return r, true, nil
}

// defaultLocalPref is LOCAL_PREF for a path that has none (GoBGP's and
// FRR's default).
const defaultLocalPref = 100

// VPNPath is the path that originates r (its label, next hop r.NextHop) in
// GoBGP's terms.
func VPNPath(r VPNRoute, withdraw bool) (*api.Path, error) {
	rd, err := bgp.ParseRouteDistinguisher(r.RD)
	if err != nil {
		return nil, err
	}
	labels := *bgp.NewMPLSLabelStack(r.Label)
	var nlri bgp.AddrPrefixInterface
	nh := r.NextHop.String()
	if r.Prefix.Addr().Is4() {
		nlri = bgp.NewLabeledVPNIPAddrPrefix(uint8(r.Prefix.Bits()), r.Prefix.Addr().String(), labels, rd)
	} else {
		nlri = bgp.NewLabeledVPNIPv6AddrPrefix(uint8(r.Prefix.Bits()), r.Prefix.Addr().String(), labels, rd)
		// RFC 4659 section 3.2.1.2: an IPv4 provider edge as the IPv6
		// VPN route's next hop is written IPv4-mapped.
		nh = netip.AddrFrom16(r.NextHop.As16()).String()
		if !r.NextHop.Is4() {
			nh = r.NextHop.String()
		}
	}
	var rts []bgp.ExtendedCommunityInterface
	for _, s := range r.RTs {
		rt, err := bgp.ParseRouteTarget(s)
		if err != nil {
			return nil, err
		}
		rts = append(rts, rt)
	}
	attrs := []bgp.PathAttributeInterface{
		bgp.NewPathAttributeOrigin(bgp.BGP_ORIGIN_ATTR_TYPE_INCOMPLETE),
		bgp.NewPathAttributeMpReachNLRI(nh, []bgp.AddrPrefixInterface{nlri}),
	}
	if len(rts) > 0 {
		attrs = append(attrs, bgp.NewPathAttributeExtendedCommunities(rts))
	}
	return apiutil.NewPath(nlri, withdraw, attrs, time.Now())
}

// vpnExporter keeps GoBGP's local VPN paths and Route Target memberships
// (rtc.go) equal to the sets the parent last asked for, on a goroutine of
// its own: the parent never waits on GoBGP's server loop.
type vpnExporter struct {
	mu      sync.Mutex
	want    map[VPNKey]VPNRoute // the latest set asked for; nil: none yet
	wantRTs map[string]bool     // the same for memberships
	kick    chan struct{}
	have    map[VPNKey]VPNRoute // what GoBGP holds (the goroutine's)
	haveRTs map[string]bool
}

func newVPNExporter() *vpnExporter {
	return &vpnExporter{kick: make(chan struct{}, 1), have: map[VPNKey]VPNRoute{}, haveRTs: map[string]bool{}}
}

// poke wakes the exporter's goroutine.
func (e *vpnExporter) poke() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// ExportVPN asks the speaker to originate exactly routes (next hop and
// label as given) and returns at once.
func (s *Speaker) ExportVPN(routes []VPNRoute) {
	want := make(map[VPNKey]VPNRoute, len(routes))
	for _, r := range routes {
		want[r.Key()] = r
	}
	e := s.vpnOut
	e.mu.Lock()
	e.want = want
	e.mu.Unlock()
	e.poke()
}

func (e *vpnExporter) run(ctx context.Context, srv *server.BgpServer, as uint32, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.kick:
		}
		e.mu.Lock()
		want, wantRTs := e.want, e.wantRTs
		e.mu.Unlock()
		failed := false
		if wantRTs != nil {
			// Memberships first: a neighbour filtering by them learns
			// what to send before the routes go.
			failed = e.syncRTs(ctx, srv, as, wantRTs, log)
		}
		if want != nil {
			failed = e.sync(ctx, srv, want, log) || failed
		}
		if failed && ctx.Err() == nil {
			// Try again shortly: GoBGP refuses only while it stops.
			time.AfterFunc(time.Second, e.poke)
		}
	}
}

// sync withdraws what is no longer wanted and adds what is new or changed
// (a path added again for the same RD and prefix replaces ours).
func (e *vpnExporter) sync(ctx context.Context, srv *server.BgpServer, want map[VPNKey]VPNRoute, log *slog.Logger) (failed bool) {
	for k, r := range e.have {
		if _, ok := want[k]; ok || ctx.Err() != nil {
			continue
		}
		p, err := VPNPath(r, true)
		if err == nil {
			err = srv.DeletePath(ctx, &api.DeletePathRequest{TableType: api.TableType_GLOBAL, Family: p.Family, Path: p})
		}
		if err != nil {
			log.Warn("bgp: withdrawing a VPN route", "rd", k.RD, "prefix", k.Prefix, "err", err)
			failed = true
			continue
		}
		delete(e.have, k)
	}
	for k, r := range want {
		if h, ok := e.have[k]; (ok && sameVPNRoute(h, r)) || ctx.Err() != nil {
			continue
		}
		p, err := VPNPath(r, false)
		if err == nil {
			_, err = srv.AddPath(ctx, &api.AddPathRequest{TableType: api.TableType_GLOBAL, Path: p})
		}
		if err != nil {
			log.Warn("bgp: exporting a VPN route", "rd", k.RD, "prefix", k.Prefix, "err", err)
			failed = true
			continue
		}
		e.have[k] = r
	}
	return failed
}

func sameVPNRoute(a, b VPNRoute) bool {
	return a.Key() == b.Key() && a.Label == b.Label && a.NextHop == b.NextHop && slices.Equal(a.RTs, b.RTs)
}

// onVPNPaths converts the VPN paths of a watcher event (End-of-RIB markers
// of the VPN families among them) and queues them.
func (s *Speaker) onVPNPaths(ps []*api.Path) {
	rs := make([]VPNRoute, 0, len(ps))
	for _, p := range ps {
		if eor, ok := pathToEndOfRIB(p); ok {
			rs = append(rs, VPNRoute{EndOfRIB: eor})
			continue
		}
		r, ok, err := pathToVPN(p)
		if err != nil {
			s.log.Warn("bgp: ignoring VPN path", "err", err)
		}
		if ok {
			rs = append(rs, r)
		}
	}
	s.vpnIn.put(rs)
}

func newVPNQueue() *queue[VPNKey, VPNRoute] {
	return newQueue(func(r VPNRoute) (VPNKey, bool) { return r.Key(), r.EndOfRIB == nil })
}
