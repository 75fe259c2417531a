package bgp

import (
	"net/netip"
	"slices"
	"sync"
)

// familyMerge joins the best paths of IPv4 unicast and IPv4 labelled unicast
// into the one BGP route per prefix the RIB holds. GoBGP keeps the two
// families in separate tables; like other routers' BGP, lsrd forwards by the
// labelled path when there is one (the label is what the egress asked for)
// and by the unicast one otherwise. It keeps both tables' best paths, so it
// is only used when a neighbour carries labelled unicast.
type familyMerge struct {
	mu  sync.Mutex
	uni map[netip.Prefix]Update
	lu  map[netip.Prefix]Update
}

func newFamilyMerge() *familyMerge {
	return &familyMerge{uni: map[netip.Prefix]Update{}, lu: map[netip.Prefix]Update{}}
}

// put records u, a best path (or its withdrawal) of the labelled family or
// not, and returns what the RIB must learn, if anything.
func (m *familyMerge) put(u Update, labeled bool) (Update, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := u.Route.Prefix
	mine, other := m.uni, m.lu
	if labeled {
		mine, other = m.lu, m.uni
	}
	if u.Withdrawn {
		delete(mine, p)
	} else {
		mine[p] = u
	}
	switch {
	case labeled && u.Withdrawn:
		if o, ok := other[p]; ok {
			return o, true // back to the unicast path
		}
		return u, true
	case labeled:
		return u, true
	case m.lu[p].Route.Prefix.IsValid():
		return Update{}, false // the labelled path still wins
	default:
		return u, true
	}
}

// hasLabeled says whether any neighbour of cfg carries labelled unicast.
func (c Config) hasLabeled() bool {
	for _, n := range c.Neighbors {
		if slices.Contains(n.Families, FamilyIPv4LabeledUnicast) {
			return true
		}
	}
	return false
}
