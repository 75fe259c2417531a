package bgp

import (
	"fmt"
	"net/netip"

	api "github.com/osrg/gobgp/v3/api"

	"github.com/lsrd/lsrd/rib"
)

// Update is one change to BGP's contribution to the RIB: a best path for
// Route.Prefix, or (Withdrawn) no BGP route for it any more.
//
// An Update with EndOfRIB set carries no route. It marks that a
// neighbour's End-of-RIB (RFC 4724 section 2) has come through: every
// best path GoBGP computed from that neighbour's updates before it is in
// the same batch (earlier) or an earlier one. Once the parent has applied
// it, it knows it holds everything the neighbour re-sent after a restart.
type Update struct {
	Route     rib.Route
	Withdrawn bool
	EndOfRIB  *EndOfRIB
}

// EndOfRIB names a neighbour's End-of-RIB marker for one family.
type EndOfRIB struct {
	Neighbor netip.Addr
	Family   string // FamilyIPv4Unicast, ...
}

// pathToEndOfRIB recognises GoBGP's End-of-RIB event (a path with no NLRI
// from a neighbour) in a family lsrd knows.
func pathToEndOfRIB(p *api.Path) (*EndOfRIB, bool) {
	if p.GetNlri() != nil || p.GetNeighborIp() == "" {
		return nil, false
	}
	a, err := netip.ParseAddr(p.GetNeighborIp())
	if err != nil {
		return nil, false
	}
	f := familyName(p.GetFamily())
	if f == "" {
		return nil, false
	}
	return &EndOfRIB{Neighbor: a.Unmap(), Family: f}, true
}

// familyName is apiFamily's inverse, "" for families lsrd does not carry.
func familyName(f *api.Family) string {
	switch {
	case f.GetAfi() == api.Family_AFI_IP && f.GetSafi() == api.Family_SAFI_UNICAST:
		return FamilyIPv4Unicast
	case f.GetAfi() == api.Family_AFI_IP6 && f.GetSafi() == api.Family_SAFI_UNICAST:
		return FamilyIPv6Unicast
	case f.GetAfi() == api.Family_AFI_IP && f.GetSafi() == api.Family_SAFI_MPLS_LABEL:
		return FamilyIPv4LabeledUnicast
	case f.GetAfi() == api.Family_AFI_IP && f.GetSafi() == api.Family_SAFI_MPLS_VPN:
		return FamilyIPv4VPN
	case f.GetAfi() == api.Family_AFI_IP6 && f.GetSafi() == api.Family_SAFI_MPLS_VPN:
		return FamilyIPv6VPN
	case f.GetAfi() == api.Family_AFI_IP && f.GetSafi() == api.Family_SAFI_ROUTE_TARGET_CONSTRAINTS:
		return FamilyRouteTarget
	}
	return ""
}

// pathToUpdate turns one of GoBGP's best paths into an Update for the RIB.
// ok is false for families other than IPv4/IPv6 unicast and IPv4 labelled
// unicast. A labelled path's labels go with the route, except implicit null
// (the next hop wants plain IP, RFC 8277 section 2). A best path we
// originate ourselves becomes a withdrawal: BGP then has nothing to add to the
// RIB for that prefix, and an earlier learned route must not linger there.
func pathToUpdate(p *api.Path, localAS uint32) (u Update, ok bool, err error) {
	fam := p.GetFamily()
	labeled := fam.GetAfi() == api.Family_AFI_IP && fam.GetSafi() == api.Family_SAFI_MPLS_LABEL
	if !labeled && (fam.GetSafi() != api.Family_SAFI_UNICAST ||
		(fam.GetAfi() != api.Family_AFI_IP && fam.GetAfi() != api.Family_AFI_IP6)) {
		return Update{}, false, nil
	}
	if p.GetNlri() == nil {
		// End-of-RIB markers and binary-only paths carry no prefix.
		return Update{}, false, nil
	}
	var nlri api.IPAddressPrefix
	var labels []uint32
	if labeled {
		var lnlri api.LabeledIPAddressPrefix
		if err := p.GetNlri().UnmarshalTo(&lnlri); err != nil {
			return Update{}, false, fmt.Errorf("bgp: labeled path from %s: NLRI: %w", p.GetNeighborIp(), err)
		}
		nlri.Prefix, nlri.PrefixLen = lnlri.Prefix, lnlri.PrefixLen
		for _, l := range lnlri.Labels {
			if l > maxLabel {
				return Update{}, false, fmt.Errorf("bgp: labeled path from %s: %s/%d: label %d is not a 20-bit label",
					p.GetNeighborIp(), lnlri.Prefix, lnlri.PrefixLen, l)
			}
			if l != implicitNull {
				labels = append(labels, l)
			}
		}
	} else if err := p.GetNlri().UnmarshalTo(&nlri); err != nil {
		return Update{}, false, fmt.Errorf("bgp: path from %s: NLRI: %w", p.GetNeighborIp(), err)
	}
	addr, err := netip.ParseAddr(nlri.Prefix)
	if err != nil {
		return Update{}, false, fmt.Errorf("bgp: path from %s: NLRI prefix %q: %w", p.GetNeighborIp(), nlri.Prefix, err)
	}
	prefix, err := addr.Prefix(int(nlri.PrefixLen))
	if err != nil {
		return Update{}, false, fmt.Errorf("bgp: path from %s: NLRI %s/%d: %w", p.GetNeighborIp(), nlri.Prefix, nlri.PrefixLen, err)
	}
	u.Route = rib.Route{Prefix: prefix, Source: rib.SourceBGP}
	// GoBGP reports a local path's source address as "<nil>".
	_, errPeer := netip.ParseAddr(p.GetNeighborIp())
	if p.GetIsWithdraw() || errPeer != nil {
		u.Withdrawn = true
		return u, true, nil
	}
	nh, err := nextHop(p)
	if err != nil {
		return Update{}, false, fmt.Errorf("bgp: %s from %s: %w", prefix, p.GetNeighborIp(), err)
	}
	u.Route.Distance = rib.DistanceEBGP
	if p.GetSourceAsn() == localAS {
		u.Route.Distance = rib.DistanceIBGP
	}
	u.Route.NextHops = []rib.NextHop{{Addr: nh}}
	u.Route.Labels = labels
	return u, true, nil
}

// Label values of RFC 3032 that matter here.
const (
	implicitNull = 3
	maxLabel     = 1<<20 - 1
)

// nextHop finds the path's next hop: the NEXT_HOP attribute for IPv4, the
// first (global) next hop of MP_REACH_NLRI otherwise (RFC 4760; a second one,
// when present, is link-local, RFC 2545 section 3).
//
// Only the next-hop attributes are decoded: the others (AS path,
// communities, ...) are recognised by their type URL and skipped, so a
// full table does not decode every attribute of every path to drop it.
func nextHop(p *api.Path) (netip.Addr, error) {
	for _, a := range p.GetPattrs() {
		var s string
		switch {
		case a.MessageIs((*api.NextHopAttribute)(nil)):
			var attr api.NextHopAttribute
			if err := a.UnmarshalTo(&attr); err != nil {
				continue
			}
			s = attr.NextHop
		case a.MessageIs((*api.MpReachNLRIAttribute)(nil)):
			var attr api.MpReachNLRIAttribute
			if err := a.UnmarshalTo(&attr); err != nil || len(attr.NextHops) == 0 {
				continue
			}
			s = attr.NextHops[0]
		default:
			continue
		}
		nh, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("next hop %q: %w", s, err)
		}
		return nh.Unmap(), nil
	}
	return netip.Addr{}, fmt.Errorf("no next hop attribute")
}
