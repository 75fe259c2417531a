package topo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
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
