package daemon

import (
	"slices"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/rib"
)

// withRouteLabels adds the labels a labelled-unicast route carries (RFC 8277:
// the label its BGP next hop advertised) under what e already pushes. They
// are only right on a packet that reaches the BGP next hop with them on top:
// over the LSP to it (lsp), or when the BGP next hop is itself the
// neighbour. Otherwise, like an unlabelled BGP route without an LSP, the
// route falls back to plain IP.
func withRouteLabels(e fib.FTNEntry, r rib.Route, lsp bool) fib.FTNEntry {
	if len(r.Labels) == 0 {
		return e
	}
	if !lsp {
		for _, nh := range e.NextHops {
			if !slices.Contains(r.Recursive, nh.Addr) {
				return e
			}
		}
	}
	out := fib.FTNEntry{Prefix: e.Prefix, NextHops: make([]fib.NextHop, len(e.NextHops))}
	for i, nh := range e.NextHops {
		nh.Labels = slices.Clone(nh.Labels)
		for _, l := range r.Labels {
			nh.Labels = append(nh.Labels, fib.Label(l))
		}
		out.NextHops[i] = nh
	}
	return out
}
