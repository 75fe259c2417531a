package topo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"

	api "github.com/osrg/gobgp/v3/api"
	"google.golang.org/protobuf/types/known/anypb"
)

// ipv4Labeled is IPv4 labelled unicast (RFC 8277).
var ipv4Labeled = &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_MPLS_LABEL}

// AddLabeledRoute originates an IPv4 labelled-unicast route: prefix with
// label, next hop nextHop.
func (g *GoBGP) AddLabeledRoute(ctx context.Context, prefix netip.Prefix, nextHop netip.Addr, label uint32) error {
	nlri, err := anypb.New(&api.LabeledIPAddressPrefix{Labels: []uint32{label}, Prefix: prefix.Addr().String(), PrefixLen: uint32(prefix.Bits())})
	if err != nil {
		return err
	}
	origin, err := anypb.New(&api.OriginAttribute{Origin: 0})
	if err != nil {
		return err
	}
	mp, err := anypb.New(&api.MpReachNLRIAttribute{Family: ipv4Labeled, NextHops: []string{nextHop.String()}, Nlris: []*anypb.Any{nlri}})
	if err != nil {
		return err
	}
	_, err = g.Client.AddPath(ctx, &api.AddPathRequest{Path: &api.Path{Family: ipv4Labeled, Nlri: nlri, Pattrs: []*anypb.Any{origin, mp}}})
	if err != nil {
		return fmt.Errorf("gobgpd in %s: adding labelled %s: %w", g.r.Name, prefix, err)
	}
	return nil
}

// LabeledPrefixes returns gobgpd's IPv4 labelled-unicast table: each
// prefix's labels, of its best path.
func (g *GoBGP) LabeledPrefixes(ctx context.Context) (map[string][]uint32, error) {
	stream, err := g.Client.ListPath(ctx, &api.ListPathRequest{TableType: api.TableType_GLOBAL, Family: ipv4Labeled})
	if err != nil {
		return nil, fmt.Errorf("gobgpd in %s: listing labelled routes: %w", g.r.Name, err)
	}
	out := map[string][]uint32{}
	for {
		d, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("gobgpd in %s: listing labelled routes: %w", g.r.Name, err)
		}
		for _, p := range d.Destination.GetPaths() {
			var n api.LabeledIPAddressPrefix
			if p.GetBest() && p.GetNlri().UnmarshalTo(&n) == nil {
				out[d.Destination.Prefix] = n.Labels
			}
		}
	}
}

// ipv6Unicast is IPv6 unicast.
var ipv6Unicast = &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}

// AddRoute6 originates an IPv6 unicast route with the given next hop.
func (g *GoBGP) AddRoute6(ctx context.Context, prefix netip.Prefix, nextHop netip.Addr) error {
	nlri, err := anypb.New(&api.IPAddressPrefix{Prefix: prefix.Addr().String(), PrefixLen: uint32(prefix.Bits())})
	if err != nil {
		return err
	}
	origin, err := anypb.New(&api.OriginAttribute{Origin: 0})
	if err != nil {
		return err
	}
	mp, err := anypb.New(&api.MpReachNLRIAttribute{Family: ipv6Unicast, NextHops: []string{nextHop.String()}, Nlris: []*anypb.Any{nlri}})
	if err != nil {
		return err
	}
	_, err = g.Client.AddPath(ctx, &api.AddPathRequest{Path: &api.Path{Family: ipv6Unicast, Nlri: nlri, Pattrs: []*anypb.Any{origin, mp}}})
	if err != nil {
		return fmt.Errorf("gobgpd in %s: adding %s: %w", g.r.Name, prefix, err)
	}
	return nil
}
