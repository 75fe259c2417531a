package bgp

import (
	"net/netip"
	"slices"
)

// configDiff is what Apply changes to go from one configuration to the next.
// Neighbours in change are deleted and added again (their session resets);
// unchanged neighbours are left alone.
type configDiff struct {
	addNeighbors, removeNeighbors, changeNeighbors []Neighbor
	addNetworks, removeNetworks                    []netip.Prefix
	// gr is the new configuration's graceful restart, for the neighbours
	// added or changed.
	gr GracefulRestart
}

func (d configDiff) empty() bool {
	return len(d.addNeighbors)+len(d.removeNeighbors)+len(d.changeNeighbors)+
		len(d.addNetworks)+len(d.removeNetworks) == 0
}

// diffConfig compares two valid configurations, in the order of their lists.
func diffConfig(old, cfg Config) configDiff {
	d := configDiff{gr: cfg.GracefulRestart}
	oldN := map[netip.Addr]Neighbor{}
	for _, n := range old.Neighbors {
		oldN[n.Address.Unmap()] = n
	}
	newN := map[netip.Addr]bool{}
	for _, n := range cfg.Neighbors {
		newN[n.Address.Unmap()] = true
		o, ok := oldN[n.Address.Unmap()]
		switch {
		case !ok:
			d.addNeighbors = append(d.addNeighbors, n)
		case !sameNeighbor(o, n) || old.GracefulRestart != cfg.GracefulRestart:
			// Graceful restart is a capability of the OPEN: a change
			// needs a new session.
			d.changeNeighbors = append(d.changeNeighbors, n)
		}
	}
	for _, n := range old.Neighbors {
		if !newN[n.Address.Unmap()] {
			d.removeNeighbors = append(d.removeNeighbors, n)
		}
	}
	oldP := map[netip.Prefix]bool{}
	for _, p := range old.Networks {
		oldP[p] = true
	}
	newP := map[netip.Prefix]bool{}
	for _, p := range cfg.Networks {
		newP[p] = true
		if !oldP[p] {
			d.addNetworks = append(d.addNetworks, p)
		}
	}
	for _, p := range old.Networks {
		if !newP[p] {
			d.removeNetworks = append(d.removeNetworks, p)
		}
	}
	return d
}

// sameNeighbor says whether two configurations of one neighbour are the same
// session; the order of families does not matter.
func sameNeighbor(a, b Neighbor) bool {
	fa, fb := slices.Clone(a.families()), slices.Clone(b.families())
	slices.Sort(fa)
	slices.Sort(fb)
	return a.Address.Unmap() == b.Address.Unmap() && a.RemoteAS == b.RemoteAS &&
		a.Password == b.Password && a.Passive == b.Passive &&
		a.MultihopTTL == b.MultihopTTL && a.TTLSecurityHops == b.TTLSecurityHops && slices.Equal(fa, fb) &&
		a.LocalAddress == b.LocalAddress && a.BindInterface == b.BindInterface
}
