package daemon

import (
	"cmp"
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
