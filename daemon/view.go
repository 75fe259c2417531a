package daemon

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/ldp"
)

func (d *Daemon) interfaceViews() []api.InterfaceView {
	ldpIf := map[string]bool{}
	for _, name := range d.ldpDevices() {
		ldpIf[name] = true
	}
	out := []api.InterfaceView{}
	nbrs := d.viewLDP().Neighbors
	for _, i := range d.ifcs {
		v := api.InterfaceView{Name: i.Name, Index: i.Index, MTU: i.MTU, Addresses: i.Addrs,
			State: api.InterfaceUp, LDP: ldpIf[i.Name], MPLSInput: d.mplsInput[i.Index]}
		if v.LDP {
			v.IGPSync = ldp.InterfaceSync(nbrs, i.Name)
		}
		out = append(out, v)
	}
	// Configured LDP interfaces that are down or not there at all.
	for name := range ldpIf {
		if _, up := d.ifcs[name]; up {
			continue
		}
		state := api.InterfaceMissing
		if d.present[name] {
			state = api.InterfaceDown
		}
		out = append(out, api.InterfaceView{Name: name, State: state, LDP: true, Addresses: []netip.Prefix{}})
	}
	slices.SortFunc(out, func(a, b api.InterfaceView) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// checkConfiguredInterfaces logs a configured LDP interface the kernel does
// not have, once until it appears, and its appearance.
func (d *Daemon) checkConfiguredInterfaces() {
	want := map[string]bool{}
	for _, name := range d.ldpDevices() {
		want[name] = true
		switch {
		case !d.present[name] && !d.absent[name]:
			d.absent[name] = true
			d.log.Warn("ldp interface not found; LDP starts on it when it appears", "interface", name)
		case d.present[name] && d.absent[name]:
			delete(d.absent, name)
			d.log.Info("ldp interface appeared", "interface", name)
		}
	}
	for name := range d.absent {
		if !want[name] {
			delete(d.absent, name) // no longer configured
		}
	}
}
