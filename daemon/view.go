package daemon

import (
	"cmp"
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
			LDP: ldpIf[i.Name], MPLSInput: d.mplsInput[i.Index]}
		if v.LDP {
			v.IGPSync = ldp.InterfaceSync(nbrs, i.Name)
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b api.InterfaceView) int { return cmp.Compare(a.Name, b.Name) })
	return out
}
