package config

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/lsrd/lsrd/bgp"
)

// VRF is a customer's routing instance on this provider edge (BGP/MPLS IP
// VPNs, RFC 4364): a Linux VRF device with its own table, the interfaces
// that face the customer, and what lsrd exchanges for it over BGP.
type VRF struct {
	// Name is the VRF device's name. lsrd creates the device when it is
	// missing and adopts one that exists with the same table.
	Name string `yaml:"name"`
	// Table is the kernel routing table of the VRF.
	Table uint32 `yaml:"table"`
	// RD is the route distinguisher of the routes exported: "ASN:NN" or
	// "IPv4:NN".
	RD string `yaml:"rd"`
	// ImportRT and ExportRT are route targets ("ASN:NN" or "IPv4:NN"): VPN
	// routes carrying any of ImportRT are installed in the VRF; exported
	// routes carry every ExportRT. RT sets both.
	ImportRT []string `yaml:"import-rt"`
	ExportRT []string `yaml:"export-rt"`
	RT       []string `yaml:"rt"`
	// Interfaces are enslaved to the VRF device.
	Interfaces []string `yaml:"interfaces"`
	// Label is per-vrf (the default: one label for the whole VRF, popped
	// into a lookup in its table) or per-prefix (a label per exported
	// prefix, popped into the same lookup).
	Label string `yaml:"label"`
	// Export lists the kinds of the VRF table's routes exported:
	// connected (the interfaces' subnets), static (routes an operator or
	// another daemon put in the table) and bgp (routes learned from the
	// customer's routers over BGP). Default all three.
	Export []string `yaml:"export"`
	// BGP is BGP with the customer's routers (CE) in the VRF.
	BGP *VRFBGP `yaml:"bgp"`
}

// VRFBGP is the VRF's BGP sessions with customer edge routers: a BGP
// speaker of its own (the top-level bgp section's AS and router ID),
// dialling out from the VRF. Routes learned go into the VRF's table and
// are exported as kind bgp; the VRF's other routes (its connected and
// static routes, and the VPN routes it imports) are advertised to the
// customer with this provider edge as next hop.
type VRFBGP struct {
	Neighbors []VRFNeighbor `yaml:"neighbors"`
}

// VRFNeighbor is a customer edge router.
type VRFNeighbor struct {
	Address  netip.Addr `yaml:"address"`
	RemoteAS uint32     `yaml:"remote-as"`
	// Password enables TCP-MD5 (RFC 2385) on the session.
	Password string `yaml:"password"`
}

// Speaker returns the BGP configuration of v's customer sessions, as of
// the global section b (AS, router ID), or false when v has none. The
// speaker never listens (customers' connections would arrive in the VRF,
// where the global speaker's listener is not): it dials, bound to the VRF
// device.
func (v VRF) Speaker(b *BGP) (bgp.Config, bool) {
	if v.BGP == nil || len(v.BGP.Neighbors) == 0 || b == nil {
		return bgp.Config{}, false
	}
	c := bgp.Config{AS: b.AS, RouterID: b.RouterID, ListenPort: -1}
	for _, n := range v.BGP.Neighbors {
		fam := bgp.FamilyIPv4Unicast
		if n.Address.Unmap().Is6() {
			fam = bgp.FamilyIPv6Unicast
		}
		c.Neighbors = append(c.Neighbors, bgp.Neighbor{Address: n.Address, RemoteAS: n.RemoteAS, Password: n.Password,
			BindInterface: v.Name, Families: []string{fam}})
	}
	return c, true
}

// VRFLabels is the label block VPN labels come from. It must not overlap
// ldp.labels: when VRFs are configured and ldp.labels.max is not given, LDP's
// range ends below it.
type VRFLabels struct {
	Min uint32 `yaml:"min"`
	Max uint32 `yaml:"max"`
}

// Default VPN label block: labels from one million up, which leaves LDP
// 16-999,999 by default.
const (
	DefaultVRFLabelMin = 1_000_000
	DefaultVRFLabelMax = MaxKernelLabel
)

// MaxVRFs is how many VRFs one lsrd carries: each has a block of nexthop
// object IDs of its own (netlinkfib.VRFSlots).
const MaxVRFs = 256

// ImportRTs returns the route targets routes are imported by (import-rt
// and rt).
func (v VRF) ImportRTs() []string { return union(v.ImportRT, v.RT) }

// ExportRTs returns the route targets exported routes carry (export-rt and
// rt).
func (v VRF) ExportRTs() []string { return union(v.ExportRT, v.RT) }

// Exports reports whether routes of kind (connected, static) are exported.
func (v VRF) Exports(kind string) bool { return slices.Contains(v.Export, kind) }

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func (c *Config) setVRFDefaults(ldpMaxGiven bool) {
	if len(c.VRFs) == 0 {
		return
	}
	if c.VRFLabels.Min == 0 {
		c.VRFLabels.Min = DefaultVRFLabelMin
	}
	if c.VRFLabels.Max == 0 {
		c.VRFLabels.Max = DefaultVRFLabelMax
	}
	if !ldpMaxGiven && c.VRFLabels.Min > 16 && c.LDP.Labels.Max >= c.VRFLabels.Min {
		c.LDP.Labels.Max = c.VRFLabels.Min - 1
	}
	for i := range c.VRFs {
		v := &c.VRFs[i]
		if v.Label == "" {
			v.Label = "per-vrf"
		}
		if len(v.Export) == 0 {
			v.Export = []string{"connected", "static", "bgp"}
		}
	}
}

func (c *Config) validateVRFs() error {
	if len(c.VRFs) == 0 {
		return nil
	}
	if c.BGP == nil {
		return fieldError("vrfs", len(c.VRFs), "VRFs need the bgp section: their routes travel as VPN routes over BGP")
	}
	if len(c.VRFs) > MaxVRFs {
		return fieldError("vrfs", len(c.VRFs), fmt.Sprintf("at most %d VRFs", MaxVRFs))
	}
	vl := c.VRFLabels
	if vl.Min < 16 || vl.Min > MaxKernelLabel {
		return fieldError("vrf-labels.min", vl.Min, fmt.Sprintf("must be between 16 (0-15 are reserved) and %d", MaxKernelLabel))
	}
	if vl.Max < vl.Min || vl.Max > MaxKernelLabel {
		return fieldError("vrf-labels.max", vl.Max, fmt.Sprintf("must be between min (%d) and %d", vl.Min, MaxKernelLabel))
	}
	if lb := c.LDP.Labels; vl.Min <= lb.Max && lb.Min <= vl.Max {
		return fieldError("vrf-labels", fmt.Sprintf("%d-%d", vl.Min, vl.Max),
			fmt.Sprintf("overlaps ldp.labels %d-%d: VPN and LDP labels share the kernel's label table", lb.Min, lb.Max))
	}
	names := map[string]int{}
	tables := map[uint32]int{}
	slots := map[uint32]int{}
	rds := map[string]int{}
	ifaces := map[string]int{}
	ldp := map[string]bool{}
	for _, i := range c.LDP.Interfaces {
		ldp[i.Name] = true
	}
	for i, v := range c.VRFs {
		f := fmt.Sprintf("vrfs[%d]", i)
		if err := validInterfaceName(f+".name", v.Name); err != nil {
			return err
		}
		if len(v.Name) == 16 {
			return fieldError(f+".name", v.Name, "a VRF device's name is at most 15 characters")
		}
		if j, dup := names[v.Name]; dup {
			return fieldError(f+".name", v.Name, fmt.Sprintf("also vrfs[%d]", j))
		}
		if ldp[v.Name] {
			return fieldError(f+".name", v.Name, "is an LDP interface: a VRF device cannot run LDP in the global table")
		}
		names[v.Name] = i
		switch v.Table {
		case 0:
			return fieldError(f+".table", "missing", "a routing table number is required")
		case 253, 254, 255:
			return fieldError(f+".table", v.Table, "is one of the kernel's own tables (default, main, local)")
		}
		if !c.Kernel.Ingress.Disabled && v.Table == c.Kernel.Ingress.Table {
			return fieldError(f+".table", v.Table, "is lsrd's ingress table (kernel.ingress.table)")
		}
		if j, dup := tables[v.Table]; dup {
			return fieldError(f+".table", v.Table, fmt.Sprintf("also the table of vrfs[%d]", j))
		}
		tables[v.Table] = i
		if j, dup := slots[v.Table%MaxVRFs]; dup {
			return fieldError(f+".table", v.Table, fmt.Sprintf("equals vrfs[%d]'s table modulo %d: lsrd keys each VRF's kernel nexthop objects by its table modulo %d; pick another number", j, MaxVRFs, MaxVRFs))
		}
		slots[v.Table%MaxVRFs] = i
		if v.RD == "" {
			return fieldError(f+".rd", "missing", "a route distinguisher (ASN:NN or IPv4:NN) is required")
		}
		rd, err := bgp.CanonicalRD(v.RD)
		if err != nil {
			return fieldError(f+".rd", v.RD, err.Error())
		}
		if j, dup := rds[rd]; dup {
			return fieldError(f+".rd", v.RD, fmt.Sprintf("also the RD of vrfs[%d]: each VRF needs its own", j))
		}
		rds[rd] = i
		for _, l := range []struct {
			key string
			rts []string
		}{{"import-rt", v.ImportRT}, {"export-rt", v.ExportRT}, {"rt", v.RT}} {
			for j, rt := range l.rts {
				if _, err := bgp.CanonicalRT(rt); err != nil {
					return fieldError(fmt.Sprintf("%s.%s[%d]", f, l.key, j), rt, err.Error())
				}
			}
		}
		for j, ifc := range v.Interfaces {
			g := fmt.Sprintf("%s.interfaces[%d]", f, j)
			if err := validInterfaceName(g, ifc); err != nil {
				return err
			}
			if ldp[ifc] {
				return fieldError(g, ifc, "is an LDP interface: a customer-facing interface cannot run LDP in the global table")
			}
			if k, dup := ifaces[ifc]; dup {
				return fieldError(g, ifc, fmt.Sprintf("already in vrfs[%d]", k))
			}
			if _, isVRF := names[ifc]; isVRF || ifc == v.Name || ifc == "lo" {
				return fieldError(g, ifc, "cannot be enslaved to a VRF")
			}
			ifaces[ifc] = i
		}
		if v.Label != "per-vrf" && v.Label != "per-prefix" {
			return fieldError(f+".label", v.Label, "must be per-vrf or per-prefix")
		}
		for j, k := range v.Export {
			if k != "connected" && k != "static" && k != "bgp" {
				return fieldError(fmt.Sprintf("%s.export[%d]", f, j), k, "must be connected, static or bgp")
			}
		}
		if v.BGP != nil {
			for j, n := range v.BGP.Neighbors {
				g := fmt.Sprintf("%s.bgp.neighbors[%d]", f, j)
				switch {
				case !n.Address.IsValid():
					return fieldError(g+".address", "missing", "the customer router's address is required")
				case n.Address.IsUnspecified() || n.Address.IsMulticast():
					return fieldError(g+".address", n.Address, "not a router's address")
				case n.RemoteAS == 0:
					return fieldError(g+".remote-as", "missing", "the customer's AS number is required")
				}
			}
			if sc, ok := v.Speaker(c.BGP); ok {
				if err := sc.Validate(); err != nil {
					return fieldError(f+".bgp", "", bgpFieldNames.Replace(err.Error()))
				}
			}
		}
		if len(v.ImportRTs()) == 0 && len(v.ExportRTs()) == 0 {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s (%s): no route targets: nothing is imported or exported", f, v.Name))
		}
	}
	vpn := false
	for _, n := range c.BGP.Neighbors {
		if slices.Contains(n.Families, bgp.FamilyIPv4VPN) || slices.Contains(n.Families, bgp.FamilyIPv6VPN) {
			vpn = true
		}
	}
	if !vpn {
		c.Warnings = append(c.Warnings, "vrfs: no bgp neighbour carries ipv4-vpn or ipv6-vpn: VRF routes are neither sent nor received")
	}
	return nil
}
