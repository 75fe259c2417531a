package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Ingress configures lsrd's labelled copies of other daemons' routes (an
// IGP's routes that LDP labels): they go into a table of lsrd's own, which
// a policy rule looks up before the main table, so that the other daemon's
// route is never touched and no daemon that watches the main table (FRR's
// zebra) takes lsrd's route for a better one of its own.
type Ingress struct {
	// Disabled leaves other daemons' routes unlabelled at this router
	// (transit labels are installed as ever).
	Disabled bool `yaml:"disabled"`
	// Table is the routing table (default 234).
	Table uint32 `yaml:"table"`
	// RulePriority is the priority of the rule that looks the table up
	// (default 32000: after the operator's own rules in the usual ranges,
	// before main at 32766).
	RulePriority int `yaml:"rule-priority"`
}

// Defaults of the kernel section.
const (
	DefaultRouteProtocol       = 234
	DefaultIngressTable        = 234
	DefaultIngressRulePriority = 32000
)

func (k *Kernel) setDefaults() {
	if k.RouteProtocol == 0 {
		k.RouteProtocol = DefaultRouteProtocol
	}
	if k.Ingress.Table == 0 {
		k.Ingress.Table = DefaultIngressTable
	}
	if k.Ingress.RulePriority == 0 {
		k.Ingress.RulePriority = DefaultIngressRulePriority
	}
}

func (k *Kernel) validate() error {
	if k.RouteProtocol <= 4 {
		return fieldError("kernel.route-protocol", k.RouteProtocol, "0-4 are the kernel's own (unspec, redirect, kernel, boot, static); pick a number no other daemon uses")
	}
	switch k.Ingress.Table {
	case 253, 254, 255:
		return fieldError("kernel.ingress.table", k.Ingress.Table, "is one of the kernel's own tables (default, main, local)")
	}
	if p := k.Ingress.RulePriority; p <= 0 || p >= 32766 {
		return fieldError("kernel.ingress.rule-priority", p, "must be between 1 and 32765: the rule must come before the main table's (32766)")
	}
	return nil
}

// routeProtocols are iproute2's names for route protocol numbers
// (/etc/iproute2/rt_protos and FRR's additions), for ldp.labels.protocols.
var routeProtocols = map[string]uint8{
	"boot": 3, "static": 4, "gated": 8, "ra": 9, "mrt": 10, "zebra": 11, "bird": 12,
	"dnrouted": 13, "xorp": 14, "ntk": 15, "dhcp": 16, "keepalived": 18, "babel": 42,
	"openr": 99, "bgp": 186, "isis": 187, "ospf": 188, "rip": 189, "ripng": 190,
	"nhrp": 191, "eigrp": 192, "ldp": 193, "sharp": 194, "pbr": 195, "zstatic": 196,
	"openfabric": 197, "srte": 198,
}

// RouteProtocol is a route protocol number, written in the configuration as
// iproute2 names it ("ospf", "bird") or as a number.
type RouteProtocol uint8

// UnmarshalText reads a protocol name or number.
func (p *RouteProtocol) UnmarshalText(b []byte) error {
	s := strings.ToLower(strings.TrimSpace(string(b)))
	if n, ok := routeProtocols[s]; ok {
		*p = RouteProtocol(n)
		return nil
	}
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil || n == 0 {
		return fmt.Errorf("%q is not a route protocol: give a name from iproute2's rt_protos (ospf, isis, bird, zebra, static, boot, ...) or a number 1-255", s)
	}
	*p = RouteProtocol(n)
	return nil
}
