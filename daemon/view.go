package daemon

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/lsrd/lsrd/fib"
)

// TableView is the desired forwarding state as the control API shows it:
// sorted lists rather than maps, so the JSON is stable.
type TableView struct {
	LFIB []fib.LFIBEntry `json:"lfib"`
	FTN  []fib.FTNEntry  `json:"ftn"`
}

func tableView(t *fib.Table) TableView {
	v := TableView{LFIB: []fib.LFIBEntry{}, FTN: []fib.FTNEntry{}}
	if t == nil {
		return v
	}
	for _, e := range t.LFIB {
		v.LFIB = append(v.LFIB, e)
	}
	for _, e := range t.FTN {
		v.FTN = append(v.FTN, e)
	}
	slices.SortFunc(v.LFIB, func(a, b fib.LFIBEntry) int { return cmp.Compare(a.InLabel, b.InLabel) })
	slices.SortFunc(v.FTN, func(a, b fib.FTNEntry) int {
		if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
			return c
		}
		return cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits())
	})
	return v
}

// InterfaceView is one interface as "show ldp interfaces" lists it.
type InterfaceView struct {
	Name      string         `json:"name"`
	Index     int            `json:"index"`
	MTU       int            `json:"mtu"`
	Addresses []netip.Prefix `json:"addresses"`
	LDP       bool           `json:"ldp"`        // configured for basic discovery
	MPLSInput bool           `json:"mpls_input"` // lsrd enabled net.mpls.conf.<if>.input
}

func (d *Daemon) interfaceViews() []InterfaceView {
	ldpIf := map[string]bool{}
	for _, i := range d.cfg.LDP.Interfaces {
		ldpIf[i.Name] = true
	}
	out := []InterfaceView{}
	for _, i := range d.ifcs {
		out = append(out, InterfaceView{Name: i.Name, Index: i.Index, MTU: i.MTU, Addresses: i.Addrs,
			LDP: ldpIf[i.Name], MPLSInput: d.mplsInput[i.Index]})
	}
	slices.SortFunc(out, func(a, b InterfaceView) int { return cmp.Compare(a.Name, b.Name) })
	return out
}
