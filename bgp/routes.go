package bgp

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	ctlapi "github.com/lsrd/lsrd/api"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/server"
)

// RouteInfo is api.BGPRoute, the control API's wire type.
type RouteInfo = ctlapi.BGPRoute

// familyNames are the families lsrd configures, in the order listed.
var familyNames = []string{FamilyIPv4Unicast, FamilyIPv4LabeledUnicast, FamilyIPv6Unicast}

// Routes lists the paths of every family lsrd carries, sorted by prefix,
// family, then best first. A valid prefix limits the answer to that prefix's
// paths (an exact match).
func (s *Speaker) Routes(ctx context.Context, prefix netip.Prefix) ([]RouteInfo, error) {
	srv, _, err := s.running()
	if err != nil {
		return nil, err
	}
	return s.listPaths(ctx, srv, api.TableType_GLOBAL, "", prefix)
}

// AdjRoutes lists the paths a configured neighbour sent (out false: its
// Adj-RIB-In, before the import policy) or that are sent to it (out true:
// its Adj-RIB-Out, after the export policy), in Routes' order.
func (s *Speaker) AdjRoutes(ctx context.Context, neighbor netip.Addr, out bool, prefix netip.Prefix) ([]RouteInfo, error) {
	srv, conf, err := s.running()
	if err != nil {
		return nil, err
	}
	if _, ok := conf[neighbor.Unmap()]; !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownNeighbor, neighbor)
	}
	table := api.TableType_ADJ_IN
	if out {
		table = api.TableType_ADJ_OUT
	}
	return s.listPaths(ctx, srv, table, neighbor.Unmap().String(), prefix)
}

func (s *Speaker) listPaths(ctx context.Context, srv *server.BgpServer, table api.TableType, name string, prefix netip.Prefix) ([]RouteInfo, error) {
	out := []RouteInfo{}
	for _, fam := range familyNames {
		if prefix.IsValid() && prefix.Addr().Is4() != (fam != FamilyIPv6Unicast) {
			continue
		}
		req := &api.ListPathRequest{TableType: table, Name: name, Family: apiFamily(fam)}
		// GoBGP looks prefixes up in the unicast tables only; the labelled
		// table is filtered here.
		if prefix.IsValid() && fam != FamilyIPv4LabeledUnicast {
			req.Prefixes = []*api.TableLookupPrefix{{Prefix: prefix.String(), Type: api.TableLookupPrefix_EXACT}}
		}
		var convErr error
		err := srv.ListPath(ctx, req, func(d *api.Destination) {
			for _, p := range d.GetPaths() {
				ri, err := routeInfo(p, fam)
				if err != nil {
					convErr = cmp.Or(convErr, err)
					continue
				}
				if prefix.IsValid() && ri.Prefix != prefix {
					continue
				}
				out = append(out, ri)
			}
		})
		if err != nil {
			return nil, fmt.Errorf("bgp: listing %s paths: %w", fam, err)
		}
		if convErr != nil {
			s.log.Warn("bgp: a path could not be shown", "err", convErr)
		}
	}
	slices.SortStableFunc(out, func(a, b RouteInfo) int {
		if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits()); c != 0 {
			return c
		}
		if c := cmp.Compare(slices.Index(familyNames, a.Family), slices.Index(familyNames, b.Family)); c != 0 {
			return c
		}
		if a.Best != b.Best {
			if a.Best {
				return -1
			}
			return 1
		}
		return a.Peer.Compare(b.Peer)
	})
	return out, nil
}

// routeInfo describes one of GoBGP's paths of family fam.
func routeInfo(p *api.Path, fam string) (RouteInfo, error) {
	ri := RouteInfo{Family: fam, Best: p.GetBest(), ASPath: []uint32{}}
	var prefix string
	var plen uint32
	if fam == FamilyIPv4LabeledUnicast {
		var n api.LabeledIPAddressPrefix
		if err := p.GetNlri().UnmarshalTo(&n); err != nil {
			return ri, fmt.Errorf("%s NLRI: %w", fam, err)
		}
		prefix, plen, ri.Labels = n.Prefix, n.PrefixLen, n.Labels
	} else {
		var n api.IPAddressPrefix
		if err := p.GetNlri().UnmarshalTo(&n); err != nil {
			return ri, fmt.Errorf("%s NLRI: %w", fam, err)
		}
		prefix, plen = n.Prefix, n.PrefixLen
	}
	a, err := netip.ParseAddr(prefix)
	if err != nil {
		return ri, fmt.Errorf("%s NLRI prefix %q: %w", fam, prefix, err)
	}
	if ri.Prefix, err = a.Prefix(int(plen)); err != nil {
		return ri, fmt.Errorf("%s NLRI %s/%d: %w", fam, prefix, plen, err)
	}
	peer, err := netip.ParseAddr(p.GetNeighborIp())
	ri.Local = err != nil || peer.IsUnspecified() // GoBGP writes "<nil>" for local paths
	if !ri.Local {
		ri.Peer = peer.Unmap()
	}
	if nh, err := nextHop(p); err == nil && !nh.IsUnspecified() {
		ri.NextHop = nh
	}
	if age := p.GetAge(); age != nil && age.GetSeconds() > 0 {
		ri.Age = time.Since(age.AsTime()).Truncate(time.Second)
	}
	for _, attr := range p.GetPattrs() {
		m, err := attr.UnmarshalNew()
		if err != nil {
			continue
		}
		switch a := m.(type) {
		case *api.AsPathAttribute:
			for _, seg := range a.GetSegments() {
				ri.ASPath = append(ri.ASPath, seg.GetNumbers()...)
			}
		case *api.LocalPrefAttribute:
			ri.LocalPref = a.GetLocalPref()
		case *api.MultiExitDiscAttribute:
			ri.MED = a.GetMed()
		}
	}
	return ri, nil
}
