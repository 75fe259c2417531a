package bgp

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"

	api "github.com/osrg/gobgp/v3/api"
)

// PrefixList is an ordered list of rules, as on other routers: the first rule
// whose prefix and length range match a route decides; a route no rule
// matches is denied.
type PrefixList struct {
	Name  string
	Rules []PrefixRule
}

// PrefixRule matches routes inside Prefix whose length is in [GE, LE]. GE 0
// means the prefix's own length; LE 0 means the prefix's own length, or the
// address's full length when GE is set (the usual "ge"/"le" meaning).
type PrefixRule struct {
	Prefix netip.Prefix
	GE, LE uint8
	Deny   bool
}

// lengths returns the rule's length range with the defaults applied.
func (r PrefixRule) lengths() (lo, hi int) {
	lo, hi = r.Prefix.Bits(), r.Prefix.Bits()
	if r.GE != 0 {
		lo, hi = int(r.GE), r.Prefix.Addr().BitLen()
	}
	if r.LE != 0 {
		hi = int(r.LE)
	}
	return lo, hi
}

// Permits says whether the list lets p through: what GoBGP's policy built by
// policies decides for a route to p. It is the reference for operators
// (lsrctl) and tests.
func (l PrefixList) Permits(p netip.Prefix) bool {
	for _, r := range l.Rules {
		lo, hi := r.lengths()
		if r.Prefix.Addr().Is4() == p.Addr().Is4() && r.Prefix.Contains(p.Addr()) &&
			p.Bits() >= lo && p.Bits() <= hi {
			return !r.Deny
		}
	}
	return false
}

// Check validates l alone, named field in its errors: a prefix list used
// outside BGP (LDP's label policy).
func (l PrefixList) Check(field string) error {
	var errs []error
	l.validate(field, func(f, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", f, fmt.Sprintf(format, args...)))
	})
	return errors.Join(errs...)
}

// validate checks one list; field is where it sits in the configuration.
func (l PrefixList) validate(field string, bad func(field, format string, args ...any)) {
	if l.Name == "" {
		bad(field+".name", "missing")
	}
	for i, r := range l.Rules {
		f := fmt.Sprintf("%s.rules[%d]", field, i)
		if !r.Prefix.IsValid() {
			bad(f+".prefix", "missing or invalid prefix")
			continue
		}
		if r.Prefix != r.Prefix.Masked() {
			bad(f+".prefix", "%s has host bits set (did you mean %s?)", r.Prefix, r.Prefix.Masked())
		}
		max := r.Prefix.Addr().BitLen()
		if r.GE != 0 && (int(r.GE) <= r.Prefix.Bits() || int(r.GE) > max) {
			bad(f+".ge", "%d must be longer than the prefix's /%d and at most %d", r.GE, r.Prefix.Bits(), max)
		}
		if r.LE != 0 && (int(r.LE) < r.Prefix.Bits() || int(r.LE) > max) {
			bad(f+".le", "%d must be at least the prefix's /%d and at most %d", r.LE, r.Prefix.Bits(), max)
		}
		if r.GE != 0 && r.LE != 0 && r.LE < r.GE {
			bad(f+".le", "%d is shorter than ge %d: the rule matches nothing", r.LE, r.GE)
		}
	}
}

// Policy names in GoBGP. lsrd owns the server's whole policy configuration.
const (
	importPolicy = "lsrd-import"
	exportPolicy = "lsrd-export"
)

// policies builds GoBGP's defined sets and the global import and export
// policies that apply each neighbour's prefix lists. GoBGP applies policies
// per neighbour only to route-server clients; for ordinary peers the global
// policy does it, each statement limited to one neighbour by a neighbour set
// (GoBGP matches the sending peer on import and the receiving one on export).
// A list becomes one statement per rule, in order, then a final reject for
// that neighbour: first match wins and no match denies.
//
// Labelled-unicast routes learned from a peer are never passed on: lsrd does
// not allocate labels for them, and another router would push a label that
// was not its to push.
func (c Config) policies() *api.SetPoliciesRequest {
	lists := map[string]PrefixList{}
	for _, l := range c.PrefixLists {
		lists[l.Name] = l
	}
	req := &api.SetPoliciesRequest{}
	imp := &api.Policy{Name: importPolicy}
	exp := &api.Policy{Name: exportPolicy}
	for _, rt := range []api.Conditions_RouteType{api.Conditions_ROUTE_TYPE_INTERNAL, api.Conditions_ROUTE_TYPE_EXTERNAL} {
		exp.Statements = append(exp.Statements, &api.Statement{
			Name:       "no-labeled-transit-" + strconv.Itoa(int(rt)),
			Conditions: &api.Conditions{RouteType: rt, AfiSafiIn: []*api.Family{apiFamily(FamilyIPv4LabeledUnicast)}},
			Actions:    &api.Actions{RouteAction: api.RouteAction_REJECT},
		})
	}
	for _, l := range c.PrefixLists {
		for i, r := range l.Rules {
			lo, hi := r.lengths()
			req.DefinedSets = append(req.DefinedSets, &api.DefinedSet{
				DefinedType: api.DefinedType_PREFIX,
				Name:        ruleSet(l.Name, i),
				Prefixes:    []*api.Prefix{{IpPrefix: r.Prefix.String(), MaskLengthMin: uint32(lo), MaskLengthMax: uint32(hi)}},
			})
		}
	}
	for _, n := range c.Neighbors {
		if n.Import == "" && n.Export == "" {
			continue
		}
		addr := n.Address.Unmap()
		nset := "neighbor-" + addr.String()
		req.DefinedSets = append(req.DefinedSets, &api.DefinedSet{
			DefinedType: api.DefinedType_NEIGHBOR, Name: nset,
			List: []string{netip.PrefixFrom(addr, addr.BitLen()).String()},
		})
		if l, ok := lists[n.Import]; ok {
			imp.Statements = append(imp.Statements, listStatements(l, nset)...)
		}
		if l, ok := lists[n.Export]; ok {
			exp.Statements = append(exp.Statements, listStatements(l, nset)...)
		}
	}
	req.Policies = []*api.Policy{imp, exp}
	return req
}

func ruleSet(list string, i int) string { return "list-" + list + "-" + strconv.Itoa(i) }

// listStatements applies list l to the neighbour in neighbour set nset.
func listStatements(l PrefixList, nset string) []*api.Statement {
	var out []*api.Statement
	for i, r := range l.Rules {
		action := api.RouteAction_ACCEPT
		if r.Deny {
			action = api.RouteAction_REJECT
		}
		out = append(out, &api.Statement{
			Name: nset + "-" + ruleSet(l.Name, i),
			Conditions: &api.Conditions{
				NeighborSet: &api.MatchSet{Type: api.MatchSet_ANY, Name: nset},
				PrefixSet:   &api.MatchSet{Type: api.MatchSet_ANY, Name: ruleSet(l.Name, i)},
			},
			Actions: &api.Actions{RouteAction: action},
		})
	}
	return append(out, &api.Statement{
		Name:       nset + "-list-" + l.Name + "-end",
		Conditions: &api.Conditions{NeighborSet: &api.MatchSet{Type: api.MatchSet_ANY, Name: nset}},
		Actions:    &api.Actions{RouteAction: api.RouteAction_REJECT},
	})
}

// policyNeighbors returns the neighbours whose import or export filtering
// differs between old and cfg: their routes must be re-evaluated (a soft
// reset), the sessions stay up.
func policyNeighbors(old, cfg Config) []netip.Addr {
	lists := func(c Config) map[string]string {
		m := map[string]string{}
		for _, l := range c.PrefixLists {
			m[l.Name] = fmt.Sprint(l.Rules)
		}
		return m
	}
	ol, nl := lists(old), lists(cfg)
	was := map[netip.Addr]Neighbor{}
	for _, n := range old.Neighbors {
		was[n.Address.Unmap()] = n
	}
	var out []netip.Addr
	for _, n := range cfg.Neighbors {
		o, ok := was[n.Address.Unmap()]
		if !ok {
			continue // a new session starts with the new policy
		}
		if o.Import != n.Import || o.Export != n.Export ||
			ol[n.Import] != nl[n.Import] || ol[n.Export] != nl[n.Export] {
			out = append(out, n.Address.Unmap())
		}
	}
	return out
}
