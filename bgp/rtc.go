package bgp

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/apiutil"
	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/osrg/gobgp/v3/pkg/server"
)

// FamilyRouteTarget is Route Target membership (RFC 4684, AFI 1, SAFI 132),
// carried beside a VPN family: the speaker advertises the route targets its
// VRFs import, and a neighbour that carries it too sends only the VPN
// routes whose route targets some membership of ours names (GoBGP filters
// what it sends lsrd's neighbours the same way by theirs). A provider edge
// then receives only the VPN routes it imports, not the whole VPN table of
// its route reflector.
const FamilyRouteTarget = "route-target"

// SetRouteTargets asks the speaker to advertise exactly rts (as GoBGP
// writes them, "65000:1") as Route Target memberships, and returns at once.
func (s *Speaker) SetRouteTargets(rts []string) {
	want := make(map[string]bool, len(rts))
	for _, rt := range rts {
		want[rt] = true
	}
	e := s.vpnOut
	e.mu.Lock()
	e.wantRTs = want
	e.mu.Unlock()
	e.poke()
}

// membershipPath is the path that advertises route target rt for AS as
// lsrd's (withdraw: no longer). The next hop is the speaker's own address,
// set as GoBGP sets it for memberships it makes from VRFs of its own.
func membershipPath(as uint32, rt string, withdraw bool) (*api.Path, error) {
	target, err := bgp.ParseRouteTarget(rt)
	if err != nil {
		return nil, err
	}
	nlri := bgp.NewRouteTargetMembershipNLRI(as, target)
	attrs := []bgp.PathAttributeInterface{
		bgp.NewPathAttributeOrigin(bgp.BGP_ORIGIN_ATTR_TYPE_IGP),
		bgp.NewPathAttributeMpReachNLRI("0.0.0.0", []bgp.AddrPrefixInterface{nlri}),
	}
	return apiutil.NewPath(nlri, withdraw, attrs, time.Now())
}

// syncRTs makes the memberships GoBGP holds of ours equal to want.
func (e *vpnExporter) syncRTs(ctx context.Context, srv *server.BgpServer, as uint32, want map[string]bool, log *slog.Logger) (failed bool) {
	for _, rt := range slices.Sorted(maps.Keys(e.haveRTs)) {
		if want[rt] || ctx.Err() != nil {
			continue
		}
		p, err := membershipPath(as, rt, true)
		if err == nil {
			err = srv.DeletePath(ctx, &api.DeletePathRequest{TableType: api.TableType_GLOBAL, Family: p.Family, Path: p})
		}
		if err != nil {
			log.Warn("bgp: withdrawing a route target membership", "rt", rt, "err", err)
			failed = true
			continue
		}
		delete(e.haveRTs, rt)
	}
	for _, rt := range slices.Sorted(maps.Keys(want)) {
		if e.haveRTs[rt] || ctx.Err() != nil {
			continue
		}
		p, err := membershipPath(as, rt, false)
		if err == nil {
			_, err = srv.AddPath(ctx, &api.AddPathRequest{TableType: api.TableType_GLOBAL, Path: p})
		}
		if err != nil {
			log.Warn("bgp: advertising a route target membership", "rt", rt, "err", err)
			failed = true
			continue
		}
		e.haveRTs[rt] = true
	}
	return failed
}
