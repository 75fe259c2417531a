package daemon

import (
	"cmp"
	"slices"

	"github.com/lsrd/lsrd/api"
)

func (d *Daemon) interfaceViews() []api.InterfaceView {
	ldpIf := map[string]bool{}
	for _, name := range d.ldpDevices() {
		ldpIf[name] = true
	}
	out := []api.InterfaceView{}
	for _, i := range d.ifcs {
		out = append(out, api.InterfaceView{Name: i.Name, Index: i.Index, MTU: i.MTU, Addresses: i.Addrs,
			LDP: ldpIf[i.Name], MPLSInput: d.mplsInput[i.Index]})
	}
	slices.SortFunc(out, func(a, b api.InterfaceView) int { return cmp.Compare(a.Name, b.Name) })
	return out
}
