package bgp

import (
	"fmt"
	"net/netip"

	api "github.com/osrg/gobgp/v3/api"

	"github.com/lsrd/lsrd/rib"
)

// Update is one change to BGP's contribution to the RIB: a best path for
// Route.Prefix, or (Withdrawn) no BGP route for it any more.
type Update struct {
	Route     rib.Route
	Withdrawn bool
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
func nextHop(p *api.Path) (netip.Addr, error) {
	for _, a := range p.GetPattrs() {
		m, err := a.UnmarshalNew()
		if err != nil {
			continue
		}
		var s string
		switch attr := m.(type) {
		case *api.NextHopAttribute:
			s = attr.NextHop
		case *api.MpReachNLRIAttribute:
			if len(attr.NextHops) == 0 {
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
