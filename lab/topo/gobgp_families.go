package topo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/apiutil"
	gobgp "github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

var (
	// ipv4Labeled is IPv4 labelled unicast (RFC 8277).
	ipv4Labeled = &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_MPLS_LABEL}
	// ipv6Unicast is IPv6 unicast.
	ipv6Unicast = &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}
)

// addMPPath originates a path of a multiprotocol family (RFC 4760): nlri
// with nextHop in MP_REACH_NLRI.
func (g *GoBGP) addMPPath(ctx context.Context, fam *api.Family, nlri proto.Message, nextHop netip.Addr) error {
	n, err := anypb.New(nlri)
	if err != nil {
		return err
	}
	origin, err := anypb.New(&api.OriginAttribute{Origin: 0})
	if err != nil {
		return err
	}
	mp, err := anypb.New(&api.MpReachNLRIAttribute{Family: fam, NextHops: []string{nextHop.String()}, Nlris: []*anypb.Any{n}})
	if err != nil {
		return err
	}
	_, err = g.Client.AddPath(ctx, &api.AddPathRequest{Path: &api.Path{Family: fam, Nlri: n, Pattrs: []*anypb.Any{origin, mp}}})
	return err
}

// AddLabeledRoute originates an IPv4 labelled-unicast route: prefix with
// label, next hop nextHop.
func (g *GoBGP) AddLabeledRoute(ctx context.Context, prefix netip.Prefix, nextHop netip.Addr, label uint32) error {
	nlri := &api.LabeledIPAddressPrefix{Labels: []uint32{label}, Prefix: prefix.Addr().String(), PrefixLen: uint32(prefix.Bits())}
	if err := g.addMPPath(ctx, ipv4Labeled, nlri, nextHop); err != nil {
		return fmt.Errorf("gobgpd in %s: adding labelled %s: %w", g.r.Name, prefix, err)
	}
	return nil
}

// AddRoute6 originates an IPv6 unicast route with the given next hop.
func (g *GoBGP) AddRoute6(ctx context.Context, prefix netip.Prefix, nextHop netip.Addr) error {
	nlri := &api.IPAddressPrefix{Prefix: prefix.Addr().String(), PrefixLen: uint32(prefix.Bits())}
	if err := g.addMPPath(ctx, ipv6Unicast, nlri, nextHop); err != nil {
		return fmt.Errorf("gobgpd in %s: adding %s: %w", g.r.Name, prefix, err)
	}
	return nil
}

// listPaths calls fn with each destination of gobgpd's global table of fam.
func (g *GoBGP) listPaths(ctx context.Context, fam *api.Family, fn func(*api.Destination)) error {
	stream, err := g.Client.ListPath(ctx, &api.ListPathRequest{TableType: api.TableType_GLOBAL, Family: fam})
	if err != nil {
		return fmt.Errorf("gobgpd in %s: listing routes: %w", g.r.Name, err)
	}
	for {
		d, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("gobgpd in %s: listing routes: %w", g.r.Name, err)
		}
		fn(d.Destination)
	}
}

// LabeledPrefixes returns gobgpd's IPv4 labelled-unicast table: each
// prefix's labels, of its best path.
func (g *GoBGP) LabeledPrefixes(ctx context.Context) (map[string][]uint32, error) {
	out := map[string][]uint32{}
	err := g.listPaths(ctx, ipv4Labeled, func(d *api.Destination) {
		for _, p := range d.GetPaths() {
			var n api.LabeledIPAddressPrefix
			if p.GetBest() && p.GetNlri().UnmarshalTo(&n) == nil {
				out[d.Prefix] = n.Labels
			}
		}
	})
	return out, err
}

// VPNRoute is a VPNv4 route (RFC 4364) gobgpd originates: prefix under rd
// with the VPN label, the provider edge nextHop and route targets rts
// ("ASN:NN").
type VPNRoute struct {
	RD      string
	Prefix  netip.Prefix
	Label   uint32
	NextHop netip.Addr
	RTs     []string
}

// VPNPath is r as GoBGP's API writes a path, for SendPaths. (Written here
// with GoBGP's codec, not lsrd's bgp.VPNPath: package bgp imports rib, whose
// lab tests import this package.)
func VPNPath(r VPNRoute) (*api.Path, error) {
	rd, err := gobgp.ParseRouteDistinguisher(r.RD)
	if err != nil {
		return nil, err
	}
	nlri := gobgp.NewLabeledVPNIPAddrPrefix(uint8(r.Prefix.Bits()), r.Prefix.Addr().String(), *gobgp.NewMPLSLabelStack(r.Label), rd)
	attrs := []gobgp.PathAttributeInterface{
		gobgp.NewPathAttributeOrigin(gobgp.BGP_ORIGIN_ATTR_TYPE_INCOMPLETE),
		gobgp.NewPathAttributeMpReachNLRI(r.NextHop.String(), []gobgp.AddrPrefixInterface{nlri}),
	}
	var rts []gobgp.ExtendedCommunityInterface
	for _, s := range r.RTs {
		rt, err := gobgp.ParseRouteTarget(s)
		if err != nil {
			return nil, err
		}
		rts = append(rts, rt)
	}
	if len(rts) > 0 {
		attrs = append(attrs, gobgp.NewPathAttributeExtendedCommunities(rts))
	}
	return apiutil.NewPath(nlri, false, attrs, time.Now())
}

// AddVPNRoutes originates rs.
func (g *GoBGP) AddVPNRoutes(ctx context.Context, rs []VPNRoute) error {
	return g.SendPaths(ctx, len(rs), func(i int) (*api.Path, error) { return VPNPath(rs[i]) })
}

var (
	// RTCFamily is Route Target membership (RFC 4684).
	RTCFamily = &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_ROUTE_TARGET_CONSTRAINTS}
	// VPNv4Family is BGP/MPLS IP VPN for IPv4 (RFC 4364).
	VPNv4Family = &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_MPLS_VPN}
)

// AddRouteTargetMembership originates a Route Target membership for rt
// ("ASN:NN") as AS as: neighbours that carry the family then send gobgpd
// the VPN routes with that route target.
func (g *GoBGP) AddRouteTargetMembership(ctx context.Context, as uint32, rt string) error {
	target, err := gobgp.ParseRouteTarget(rt)
	if err != nil {
		return err
	}
	nlri := gobgp.NewRouteTargetMembershipNLRI(as, target)
	p, err := apiutil.NewPath(nlri, false, []gobgp.PathAttributeInterface{
		gobgp.NewPathAttributeOrigin(gobgp.BGP_ORIGIN_ATTR_TYPE_IGP),
		gobgp.NewPathAttributeMpReachNLRI("0.0.0.0", []gobgp.AddrPrefixInterface{nlri}),
	}, time.Now())
	if err != nil {
		return err
	}
	if _, err := g.Client.AddPath(ctx, &api.AddPathRequest{TableType: api.TableType_GLOBAL, Path: p}); err != nil {
		return fmt.Errorf("gobgpd in %s: adding a route target membership: %w", g.r.Name, err)
	}
	return nil
}

// Learned lists the paths of fam in gobgpd's table that neighbour from
// sent it, each as its NLRI in GoBGP's text ("65000:11:10.10.1.0/24" for a
// VPN route, "65000:65000:100" for a membership), sorted.
func (g *GoBGP) Learned(ctx context.Context, fam *api.Family, from netip.Addr) ([]string, error) {
	var out []string
	var bad error
	err := g.listPaths(ctx, fam, func(d *api.Destination) {
		for _, p := range d.GetPaths() {
			if p.GetNeighborIp() != from.String() {
				continue
			}
			n, err := apiutil.GetNativeNlri(p)
			if err != nil {
				bad = err
				continue
			}
			out = append(out, n.String())
		}
	})
	if err == nil {
		err = bad
	}
	slices.Sort(out)
	return out, err
}

// SentTo lists the paths of fam gobgpd sends neighbour to (its Adj-RIB-Out),
// as Learned writes them.
func (g *GoBGP) SentTo(ctx context.Context, fam *api.Family, to netip.Addr) ([]string, error) {
	stream, err := g.Client.ListPath(ctx, &api.ListPathRequest{TableType: api.TableType_ADJ_OUT, Name: to.String(), Family: fam})
	if err != nil {
		return nil, fmt.Errorf("gobgpd in %s: listing what it sends %s: %w", g.r.Name, to, err)
	}
	var out []string
	for {
		d, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("gobgpd in %s: listing what it sends %s: %w", g.r.Name, to, err)
		}
		for _, p := range d.Destination.GetPaths() {
			n, err := apiutil.GetNativeNlri(p)
			if err != nil {
				return nil, err
			}
			out = append(out, n.String())
		}
	}
	slices.Sort(out)
	return out, nil
}

// AddNeighbor adds n to a running gobgpd through its API (Address, AS,
// LocalAddress and Families are used): a neighbour that comes after the
// routes gobgpd already holds.
func (g *GoBGP) AddNeighbor(t T, n BGPNeighbor) {
	t.Helper()
	p := &api.Peer{Conf: &api.PeerConf{NeighborAddress: n.Address, PeerAsn: n.AS},
		Transport: &api.Transport{LocalAddress: n.LocalAddress}}
	for _, name := range n.Families {
		rf, err := gobgp.GetRouteFamily(name)
		if err != nil {
			t.Fatalf("topo: gobgpd in %s: family %q: %v", g.r.Name, name, err)
		}
		afi, safi := gobgp.RouteFamilyToAfiSafi(rf)
		p.AfiSafis = append(p.AfiSafis, &api.AfiSafi{Config: &api.AfiSafiConfig{
			Family: &api.Family{Afi: api.Family_Afi(afi), Safi: api.Family_Safi(safi)}, Enabled: true}})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := g.Client.AddPeer(ctx, &api.AddPeerRequest{Peer: p}); err != nil {
		t.Fatalf("topo: gobgpd in %s: adding neighbour %s: %v", g.r.Name, n.Address, err)
	}
}
