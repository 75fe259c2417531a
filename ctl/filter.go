package ctl

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/fib"
)

// Filter is what lsrctl's --peer, --fec and --label flags select; a zero
// field selects everything.
type Filter struct {
	Peer     netip.Addr   // a neighbour's LSR ID
	FEC      netip.Prefix // the FEC itself, or any more specific prefix or address it contains
	Label    fib.Label
	HasLabel bool
}

// ParsePeer reads an LSR ID.
func ParsePeer(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("--peer %q: not an LSR ID (an IPv4 address)", s)
	}
	return a, nil
}

// ParseFEC reads a prefix or an address (a host prefix).
func ParseFEC(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	return netip.Prefix{}, fmt.Errorf("--fec %q: not a prefix or an address", s)
}

// ParseLabel reads a label: a number up to 1048575, or imp-null / exp-null.
func ParseLabel(s string) (fib.Label, error) {
	switch strings.ToLower(s) {
	case "imp-null", "implicit-null":
		return fib.LabelImplicitNull, nil
	case "exp-null", "explicit-null":
		return fib.LabelIPv4ExplicitNull, nil
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || fib.Label(n) > fib.MaxLabel {
		return 0, fmt.Errorf("--label %q: not a label (0-%d, imp-null or exp-null)", s, fib.MaxLabel)
	}
	return fib.Label(n), nil
}

// matchFEC reports whether fec is the filter's prefix or contains it.
func (f Filter) matchFEC(fec netip.Prefix) bool {
	if !f.FEC.IsValid() {
		return true
	}
	return fec.Masked() == f.FEC || (fec.Bits() <= f.FEC.Bits() && fec.Contains(f.FEC.Addr()))
}

// matchLabel reports whether l is the filter's label; the explicit-null
// labels of both families match each other, as they print the same.
func (f Filter) matchLabel(l fib.Label) bool {
	if !f.HasLabel {
		return true
	}
	return FormatLabel(l) == FormatLabel(f.Label)
}

// BGPNeighbors keeps the BGP neighbour --peer names.
func (f Filter) BGPNeighbors(ns []api.BGPNeighbor) []api.BGPNeighbor {
	return slices.DeleteFunc(slices.Clone(ns), func(n api.BGPNeighbor) bool {
		return f.Peer.IsValid() && n.Address != f.Peer
	})
}

// BGPRoutes keeps the paths --peer (the neighbour they came from), --fec and
// --label (one of a labelled path's labels) select.
func (f Filter) BGPRoutes(rs []api.BGPRoute) []api.BGPRoute {
	return slices.DeleteFunc(slices.Clone(rs), func(r api.BGPRoute) bool {
		if f.Peer.IsValid() && r.Peer != f.Peer {
			return true
		}
		if f.HasLabel && !slices.ContainsFunc(r.Labels, func(l uint32) bool { return f.matchLabel(fib.Label(l)) }) {
			return true
		}
		return !f.matchFEC(r.Prefix)
	})
}

// Neighbors keeps the neighbour --peer names.
func (f Filter) Neighbors(ns []api.LDPNeighbor) []api.LDPNeighbor {
	out := []api.LDPNeighbor{}
	for _, n := range ns {
		if !f.Peer.IsValid() || n.LSRID == f.Peer {
			out = append(out, n)
		}
	}
	return out
}

// Bindings keeps the FECs --fec selects and, with --peer, only that
// neighbour's labels (and only FECs it advertised). With --label, a FEC whose
// local label matches is kept whole; otherwise only the remote labels that
// match are.
func (f Filter) Bindings(bs []api.LDPBinding) []api.LDPBinding {
	out := []api.LDPBinding{}
	for _, b := range bs {
		if !f.matchFEC(b.FEC.Prefix()) {
			continue
		}
		localMatch := f.HasLabel && b.HasLocal && f.matchLabel(b.LocalLabel)
		remote := []api.LDPRemoteBinding{}
		for _, r := range b.Remote {
			if f.Peer.IsValid() && r.Peer != f.Peer {
				continue
			}
			if f.HasLabel && !localMatch && !f.matchLabel(r.Label) {
				continue
			}
			remote = append(remote, r)
		}
		if (f.Peer.IsValid() || (f.HasLabel && !localMatch)) && len(remote) == 0 {
			continue
		}
		b.Remote = remote
		out = append(out, b)
	}
	return out
}

// Table keeps the LFIB entries --label selects and the FTN entries --fec
// selects. A filter on one table leaves the other out (nil) unless both are
// given.
func (f Filter) Table(v api.TableView) api.TableView {
	out := api.TableView{}
	if f.HasLabel || !f.FEC.IsValid() {
		out.LFIB = []api.LFIBRow{}
		for _, e := range v.LFIB {
			if f.matchLabel(e.InLabel) {
				out.LFIB = append(out.LFIB, e)
			}
		}
	}
	if f.FEC.IsValid() || !f.HasLabel {
		out.FTN = []api.FTNRow{}
		for _, e := range v.FTN {
			if f.matchFEC(e.Prefix) {
				out.FTN = append(out.FTN, e)
			}
		}
	}
	return out
}

// Routes keeps the routes --fec selects.
func (f Filter) Routes(rs []api.Route) []api.Route {
	return slices.DeleteFunc(slices.Clone(rs), func(r api.Route) bool { return !f.matchFEC(r.Prefix) })
}

// DecodeRoutes decodes /v1/rib's data. api.RouteSource writes its name in JSON but
// cannot read it back, so the name is read here.
func DecodeRoutes(raw json.RawMessage) ([]api.Route, error) {
	var in []struct {
		api.Route
		Source string `json:"source"` // shadows Route.Source
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, fmt.Errorf("lsrd's answer to GET /v1/rib: %w", err)
	}
	out := make([]api.Route, 0, len(in))
	for _, r := range in {
		src, ok := parseSource(r.Source)
		if !ok {
			return nil, fmt.Errorf("lsrd's answer to GET /v1/rib: route %s: unknown source %q", r.Prefix, r.Source)
		}
		r.Route.Source = src
		out = append(out, r.Route)
	}
	return out, nil
}

func parseSource(name string) (api.RouteSource, bool) {
	for s := api.RouteSource(1); s != 0; s++ {
		if s.String() == name {
			return s, true
		}
	}
	return 0, false
}

// Empty reports whether f selects everything.
func (f Filter) Empty() bool { return !f.Peer.IsValid() && !f.FEC.IsValid() && !f.HasLabel }

// String is f as its flags.
func (f Filter) String() string {
	var parts []string
	if f.Peer.IsValid() {
		parts = append(parts, "--peer "+f.Peer.String())
	}
	if f.FEC.IsValid() {
		parts = append(parts, "--fec "+f.FEC.String())
	}
	if f.HasLabel {
		parts = append(parts, "--label "+strconv.FormatUint(uint64(f.Label), 10))
	}
	return strings.Join(parts, " ")
}

// NoMatch is the error for a filter that selected none of what a view
// lists (what, e.g. "LDP binding"), naming the command that lists them
// all; nil when something matched or nothing was filtered.
func NoMatch(f Filter, found int, what, all string) error {
	if found > 0 || f.Empty() {
		return nil
	}
	return fmt.Errorf("no %s matches %s (lsrctl %s lists them)", what, f, all)
}
