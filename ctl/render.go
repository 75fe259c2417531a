package ctl

import (
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/fib"
)

// none is what a table shows for an absent value.
const none = "-"

func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// row writes tab-separated cells as one table line.
func row(tw *tabwriter.Writer, cells ...string) {
	fmt.Fprintln(tw, strings.Join(cells, "\t"))
}

// FormatLabel writes a label as FRR does: the reserved null labels by name
// (imp-null, exp-null), the others as numbers.
func FormatLabel(l fib.Label) string {
	switch l {
	case fib.LabelImplicitNull:
		return "imp-null"
	case fib.LabelIPv4ExplicitNull, fib.LabelIPv6ExplicitNull:
		return "exp-null"
	}
	return strconv.FormatUint(uint64(l), 10)
}

// formatStack writes a label stack outermost first, or empty when there is none.
func formatStack(ls []fib.Label, empty string) string {
	if len(ls) == 0 {
		return empty
	}
	s := make([]string, len(ls))
	for i, l := range ls {
		s[i] = FormatLabel(l)
	}
	return strings.Join(s, "/")
}

// FormatUptime writes a duration as FRR's uptimes: hh:mm:ss under a day,
// then 1d02h03m, then 2w3d04h.
func FormatUptime(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	const day, week = 86400, 7 * 86400
	switch {
	case s < day:
		return fmt.Sprintf("%02d:%02d:%02d", s/3600, s%3600/60, s%60)
	case s < week:
		return fmt.Sprintf("%dd%02dh%02dm", s/day, s%day/3600, s%3600/60)
	}
	return fmt.Sprintf("%dw%dd%02dh", s/week, s%week/day, s%day/3600)
}

func addrOr(a netip.Addr, empty string) string {
	if !a.IsValid() {
		return empty
	}
	return a.String()
}

// Neighbors writes "show ldp neighbors": one line per neighbour, with the
// uptime of OPERATIONAL sessions counted from now.
func Neighbors(w io.Writer, ns []api.LDPNeighbor, now time.Time) error {
	tw := newTable(w)
	row(tw, "LSR ID", "STATE", "ROLE", "TRANSPORT", "REMOTE", "UPTIME", "HOLD", "ADJ", "AUTH", "GR")
	for _, n := range ns {
		role, remote, uptime, ka := none, none, none, none
		if n.State != api.LDPNonExistent {
			role = "passive"
			if n.Active {
				role = "active"
			}
		}
		if n.Remote.IsValid() {
			remote = n.Remote.String()
		}
		if n.State == api.LDPOperational && !n.Since.IsZero() {
			uptime = FormatUptime(now.Sub(n.Since))
		}
		if n.KeepAlive > 0 {
			ka = fmt.Sprintf("%ds", int64(n.KeepAlive/time.Second))
		}
		auth := none
		if n.MD5 {
			auth = "md5"
		}
		row(tw, n.LSRID.String(), n.State, role, addrOr(n.Transport, none), remote, uptime, ka, strconv.Itoa(len(n.Adjacencies)), auth, grColumn(n, now))
	}
	return tw.Flush()
}

// grColumn says whether the session negotiated graceful restart (RFC
// 3478) and, while lsrd keeps a restarting neighbour's labels, how many are
// stale and how long they have left.
func grColumn(n api.LDPNeighbor, now time.Time) string {
	switch {
	case n.GRHelper != "":
		left := max(n.StaleUntil.Sub(now), 0).Round(time.Second)
		return fmt.Sprintf("%s %d stale %s", n.GRHelper, n.StaleBindings, left)
	case n.GracefulRestart:
		return "yes"
	}
	return none
}

// Discovery writes "show ldp discovery": one line per Hello adjacency, link
// adjacencies by interface, targeted ones by source address.
func Discovery(w io.Writer, ns []api.LDPNeighbor, now time.Time) error {
	tw := newTable(w)
	row(tw, "NEIGHBOR", "TYPE", "INTERFACE", "SOURCE", "HOLD", "EXPIRES IN")
	for _, n := range ns {
		for _, a := range n.Adjacencies {
			typ, ifname := "link", a.Interface
			if a.Targeted {
				typ, ifname = "targeted", none
			}
			hold, expires := "infinite", "never"
			if !a.Expires.IsZero() {
				hold = fmt.Sprintf("%ds", int64(a.Hold/time.Second))
				left := max(a.Expires.Sub(now), 0)
				expires = fmt.Sprintf("%ds", int64((left+time.Second/2)/time.Second))
			}
			row(tw, n.LSRID.String(), typ, ifname, addrOr(a.Source, none), hold, expires)
		}
	}
	return tw.Flush()
}

// Bindings writes "show ldp bindings" as FRR's "show mpls ldp binding": one
// line per FEC and neighbour label, and a line with no neighbour for a FEC no
// neighbour advertised.
func Bindings(w io.Writer, bs []api.LDPBinding) error {
	tw := newTable(w)
	row(tw, "FEC", "PEER", "LOCAL LABEL", "REMOTE LABEL", "IN USE")
	for _, b := range bs {
		local := none
		if b.HasLocal {
			local = FormatLabel(b.LocalLabel)
		}
		if len(b.Remote) == 0 {
			row(tw, b.FEC.String(), none, local, none, none)
		}
		for _, r := range b.Remote {
			inUse := "no"
			if r.InUse {
				inUse = "yes"
			}
			row(tw, b.FEC.String(), r.Peer.String(), local, FormatLabel(r.Label), inUse)
		}
	}
	return tw.Flush()
}

// BindingDetail writes "show ldp bindings --detail" as FRR's "show mpls ldp
// binding detail": per FEC, the local label and whom it was advertised to,
// then every neighbour's label.
func BindingDetail(w io.Writer, bs []api.LDPBinding) error {
	for _, b := range bs {
		fmt.Fprintln(w, b.FEC.String())
		if b.HasLocal {
			fmt.Fprintf(w, "  Local binding: label %s\n", FormatLabel(b.LocalLabel))
		} else {
			fmt.Fprintln(w, "  Local binding: none")
		}
		to := make([]string, len(b.AdvertisedTo))
		for i, p := range b.AdvertisedTo {
			to[i] = p.String()
		}
		fmt.Fprintf(w, "    Advertised to: %s\n", cmp.Or(strings.Join(to, ", "), none))
		if len(b.Remote) == 0 {
			fmt.Fprintln(w, "  Remote bindings: none")
			continue
		}
		fmt.Fprintln(w, "  Remote bindings:")
		for _, r := range b.Remote {
			inUse := ""
			if r.InUse {
				inUse = " (in use)"
			}
			fmt.Fprintf(w, "    Peer %s: label %s%s\n", r.Peer, FormatLabel(r.Label), inUse)
		}
	}
	return nil
}

// Interfaces writes "show ldp interfaces".
func Interfaces(w io.Writer, is []api.InterfaceView) error {
	tw := newTable(w)
	row(tw, "INTERFACE", "STATE", "INDEX", "MTU", "LDP", "IGP SYNC", "MPLS INPUT", "ADDRESSES")
	for _, i := range is {
		addrs := make([]string, len(i.Addresses))
		for k, a := range i.Addresses {
			addrs[k] = a.String()
		}
		if len(addrs) == 0 {
			addrs = []string{none}
		}
		sync := i.IGPSync
		if sync == "" {
			sync = none
		}
		index, mtu := strconv.Itoa(i.Index), strconv.Itoa(i.MTU)
		if i.State == api.InterfaceMissing {
			index, mtu = none, none
		}
		row(tw, i.Name, cmp.Or(i.State, none), index, mtu, yesNo(i.LDP), sync, yesNo(i.MPLSInput), strings.Join(addrs, ","))
	}
	return tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// LFIB writes "show lfib": the label table (incoming label, then one line per
// next hop with the labels swapped in, or pop) and the FTN (prefix, then one
// line per next hop with the labels pushed, or none). A nil section is left
// out.
func LFIB(w io.Writer, v api.TableView) error {
	if v.LFIB != nil {
		tw := newTable(w)
		row(tw, "IN LABEL", "OUT LABELS", "NEXT HOP", "INTERFACE", "INSTALLED")
		for _, e := range v.LFIB {
			for _, nh := range e.NextHops {
				row(tw, FormatLabel(e.InLabel), formatStack(nh.Labels, "pop"), addrOr(nh.Addr, none), nh.Ifname, yesNo(e.Installed))
			}
			if len(e.NextHops) == 0 {
				row(tw, FormatLabel(e.InLabel), none, none, none, yesNo(e.Installed))
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if v.LFIB != nil && v.FTN != nil {
		fmt.Fprintln(w)
	}
	if v.FTN != nil {
		tw := newTable(w)
		row(tw, "PREFIX", "PUSH", "NEXT HOP", "INTERFACE", "INSTALLED")
		for _, e := range v.FTN {
			for _, nh := range e.NextHops {
				row(tw, e.Prefix.String(), formatStack(nh.Labels, none), addrOr(nh.Addr, none), nh.Ifname, yesNo(e.Installed))
			}
			if len(e.NextHops) == 0 {
				row(tw, e.Prefix.String(), none, none, none, yesNo(e.Installed))
			}
		}
		return tw.Flush()
	}
	return nil
}

// RIB writes "show rib": one line per route and next hop; connected routes
// have no gateway.
func RIB(w io.Writer, rs []api.Route) error {
	tw := newTable(w)
	row(tw, "PREFIX", "SOURCE", "DISTANCE", "NEXT HOP", "INTERFACE")
	for _, r := range rs {
		for _, nh := range r.NextHops {
			row(tw, r.Prefix.String(), r.Source.String(), strconv.Itoa(int(r.Distance)), addrOr(nh.Addr, "directly connected"), nh.Ifname)
		}
		if len(r.NextHops) == 0 {
			row(tw, r.Prefix.String(), r.Source.String(), strconv.Itoa(int(r.Distance)), none, none)
		}
	}
	return tw.Flush()
}

// BGPNeighbors writes "show bgp neighbors": one line per neighbour.
func BGPNeighbors(w io.Writer, ns []api.BGPNeighbor) error {
	tw := newTable(w)
	row(tw, "NEIGHBOR", "AS", "STATE", "UP", "RECEIVED", "ACCEPTED", "FAMILIES", "IMPORT", "EXPORT")
	for _, n := range ns {
		up := none
		if n.State == "established" {
			up = FormatUptime(n.Uptime)
		}
		row(tw, n.Address.String(), strconv.FormatUint(uint64(n.RemoteAS), 10), n.State, up,
			strconv.FormatUint(n.Received, 10), strconv.FormatUint(n.Accepted, 10),
			strings.Join(n.Families, ","), cmp.Or(n.Import, "any"), cmp.Or(n.Export, "any"))
	}
	return tw.Flush()
}

// BGPRoutes writes "show bgp routes": one line per path, the best marked
// with "*"; our own networks come "from" local.
func BGPRoutes(w io.Writer, rs []api.BGPRoute) error {
	tw := newTable(w)
	row(tw, "", "PREFIX", "FAMILY", "NEXT HOP", "FROM", "AS PATH", "LABELS", "AGE")
	for _, r := range rs {
		best, from := "", addrOr(r.Peer, "local")
		if r.Best {
			best = "*"
		}
		path := make([]string, len(r.ASPath))
		for i, as := range r.ASPath {
			path[i] = strconv.FormatUint(uint64(as), 10)
		}
		labels := make([]fib.Label, len(r.Labels))
		for i, l := range r.Labels {
			labels[i] = fib.Label(l)
		}
		row(tw, best, r.Prefix.String(), r.Family, addrOr(r.NextHop, "self"), from,
			cmp.Or(strings.Join(path, " "), "-"), formatStack(labels, none), FormatUptime(r.Age))
	}
	return tw.Flush()
}

// FIBStatus writes "show fib status" as "name: value" lines.
func FIBStatus(w io.Writer, s api.FIBStatus) error {
	tw := newTable(w)
	row(tw, "label routes:", strconv.Itoa(s.Labels))
	row(tw, "ip routes:", strconv.Itoa(s.Prefixes))
	row(tw, "nexthops:", strconv.Itoa(s.Nexthops))
	row(tw, "nexthop groups:", strconv.Itoa(s.Groups))
	row(tw, "stale:", yesNo(s.Stale))
	row(tw, "last pass requests:", strconv.Itoa(s.LastPassRequests))
	row(tw, "last pass kernel time:", s.LastPassKernelTime.String())
	last := "full"
	if s.LastPassScoped {
		last = "scoped"
	}
	row(tw, "last pass:", last)
	row(tw, "passes (scoped/full):", fmt.Sprintf("%d/%d", s.ScopedPasses, s.FullPasses))
	return tw.Flush()
}

// Stats writes "show ldp stats" as "name: value" lines.
func Stats(w io.Writer, s api.LIBStats) error {
	tw := newTable(w)
	row(tw, "operational sessions:", strconv.Itoa(s.Peers))
	row(tw, "FECs:", strconv.Itoa(s.FECs))
	row(tw, "labels in use:", fmt.Sprintf("%d of %d", s.LabelsInUse, s.LabelRange))
	row(tw, "local bindings:", strconv.Itoa(s.LocalBindings))
	row(tw, "remote bindings:", strconv.Itoa(s.RemoteBindings))
	row(tw, "withdrawn, not released:", strconv.Itoa(s.Withdrawn))
	row(tw, "FECs waiting for a label:", strconv.Itoa(s.Starved))
	row(tw, "allocation failures:", strconv.FormatUint(s.AllocFailures, 10))
	return tw.Flush()
}

// NeighborDetail writes "show ldp neighbors --detail": one block per
// neighbour with everything lsrd knows of its session, as vtysh's "show
// mpls ldp neighbor detail" and ldpctl's "show neighbor detail" give it.
func NeighborDetail(w io.Writer, ns []api.LDPNeighbor, now time.Time) error {
	for i, n := range ns {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "Peer LDP identifier: %s:0\n", n.LSRID)
		fmt.Fprintf(w, "  Session state: %s", n.State)
		if !n.Since.IsZero() {
			fmt.Fprintf(w, " for %s", FormatUptime(now.Sub(n.Since)))
		}
		if n.State != api.LDPNonExistent {
			role := "passive (the neighbour opened the connection)"
			if n.Active {
				role = "active (this LSR opened the connection)"
			}
			fmt.Fprintf(w, ", %s", role)
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "  Transport address: %s; TCP connection with %s\n", addrOr(n.Transport, none), addrPortOr(n.Remote))
		auth := "none"
		if n.MD5 {
			auth = "TCP-MD5"
		}
		fmt.Fprintf(w, "  Authentication: %s; GTSM (TTL 255): %s\n", auth, yesNo(n.GTSM))
		if n.KeepAlive > 0 {
			fmt.Fprintf(w, "  KeepAlive time (hold): %s, KeepAlives sent every %s; protocol version %d, max PDU %d\n",
				n.KeepAlive, n.KeepaliveInterval, n.ProtocolVersion, n.MaxPDU)
		}
		if len(n.Capabilities) > 0 {
			fmt.Fprintf(w, "  Capabilities: %s\n", strings.Join(n.Capabilities, ", "))
		}
		fmt.Fprintf(w, "  Messages: %d sent, %d received; IGP sync: %s\n", n.MessagesSent, n.MessagesReceived, yesNo(n.Synced))
		if n.GracefulRestart {
			fmt.Fprintf(w, "  Graceful restart: negotiated; neighbour's reconnect %s, recovery %s\n", n.PeerReconnectTime, n.PeerRecoveryTime)
		}
		if n.GRHelper != "" {
			fmt.Fprintf(w, "  Helping a restart: %s, %d stale labels until %s\n", n.GRHelper, n.StaleBindings, n.StaleUntil.Format(time.RFC3339))
		}
		for _, a := range n.Adjacencies {
			kind := "link " + a.Interface
			if a.Targeted {
				kind = "targeted"
			}
			left := "never expires"
			if !a.Expires.IsZero() {
				left = fmt.Sprintf("hold %s, expires in %s", a.Hold, max(a.Expires.Sub(now), 0).Round(time.Second))
			}
			fmt.Fprintf(w, "  Adjacency: %s from %s, %s\n", kind, addrOr(a.Source, none), left)
		}
	}
	return nil
}

func addrPortOr(a netip.AddrPort) string {
	if !a.IsValid() {
		return none
	}
	return a.String()
}

// BGPNeighborDetail writes "show bgp neighbors --detail": one block per
// neighbour, as vtysh's "show bgp neighbors" gives it.
func BGPNeighborDetail(w io.Writer, ns []api.BGPNeighbor, now time.Time) error {
	for i, n := range ns {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "BGP neighbor %s, remote AS %d, local AS %d", n.Address, n.RemoteAS, n.LocalAS)
		if n.Description != "" {
			fmt.Fprintf(w, " (%s)", n.Description)
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "  State: %s", n.State)
		if n.State == "established" {
			fmt.Fprintf(w, " for %s", FormatUptime(n.Uptime))
		}
		if n.AdminDown {
			fmt.Fprint(w, " (administratively down)")
		}
		fmt.Fprintf(w, "; %d flaps", n.Flaps)
		if !n.LastDown.IsZero() {
			fmt.Fprintf(w, ", last down %s ago", FormatUptime(now.Sub(n.LastDown)))
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "  Router ID: %s; TCP connection %s to %s\n", addrOr(n.RouterID, none), addrPortOr(n.Local), addrPortOr(n.Remote))
		auth := "none"
		if n.MD5 {
			auth = "TCP-MD5"
		}
		fmt.Fprintf(w, "  Authentication: %s; eBGP multihop TTL: %s; TTL security hops: %s\n", auth, zeroNone(int(n.MultihopTTL)), zeroNone(int(n.TTLSecurityHops)))
		if n.HoldTime > 0 {
			fmt.Fprintf(w, "  Hold time %s, keepalive %s (configured hold time %s)\n", n.HoldTime, n.Keepalive, n.ConfiguredHoldTime)
		}
		if len(n.LocalCapabilities)+len(n.RemoteCapabilities) > 0 {
			fmt.Fprintf(w, "  Capabilities sent: %s\n", cmp.Or(strings.Join(n.LocalCapabilities, ", "), none))
			fmt.Fprintf(w, "  Capabilities received: %s\n", cmp.Or(strings.Join(n.RemoteCapabilities, ", "), none))
		}
		fmt.Fprintf(w, "  End-of-RIB received: %s; import %s, export %s; output queue %d\n", yesNo(n.EndOfRIB), cmp.Or(n.Import, "any"), cmp.Or(n.Export, "any"), n.OutQueue)
		tw := newTable(w)
		row(tw, "  MESSAGES", "OPEN", "UPDATE", "NOTIFICATION", "KEEPALIVE", "ROUTE-REFRESH", "TOTAL")
		for _, m := range []struct {
			dir string
			c   api.BGPMessages
		}{{"  sent", n.MessagesSent}, {"  received", n.MessagesReceived}} {
			row(tw, m.dir, u64(m.c.Open), u64(m.c.Update), u64(m.c.Notification), u64(m.c.Keepalive), u64(m.c.RouteRefresh), u64(m.c.Total))
		}
		row(tw, "  FAMILY", "RECEIVED", "ACCEPTED", "ADVERTISED")
		for _, f := range n.PerFamily {
			row(tw, "  "+f.Family, u64(f.Received), u64(f.Accepted), u64(f.Advertised))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func u64(v uint64) string { return strconv.FormatUint(v, 10) }

func zeroNone(v int) string {
	if v == 0 {
		return "off"
	}
	return strconv.Itoa(v)
}

// VRFs writes "show vrf": one line per VRF with its label and route counts.
func VRFs(w io.Writer, vs []api.VRF) error {
	tw := newTable(w)
	row(tw, "VRF", "TABLE", "RD", "IMPORT RT", "EXPORT RT", "LABEL", "LOCAL", "EXPORTED", "IMPORTED", "INSTALLED")
	for _, v := range vs {
		label := v.LabelMode
		if v.Label != 0 {
			label = v.Label.String()
		}
		row(tw, v.Name, strconv.FormatUint(uint64(v.Table), 10), v.RD, cmp.Or(strings.Join(v.ImportRTs, ","), "-"),
			cmp.Or(strings.Join(v.ExportRTs, ","), "-"), label, strconv.Itoa(v.Local), strconv.Itoa(v.Exported),
			strconv.Itoa(v.Imported), strconv.Itoa(v.Installed))
	}
	return tw.Flush()
}

// VPNRoutes writes "show bgp vpn": one line per VPN route, ours marked
// "exported", received ones with the VRFs importing them.
func VPNRoutes(w io.Writer, rs []api.VPNRoute) error {
	tw := newTable(w)
	row(tw, "RD", "PREFIX", "LABEL", "NEXT HOP", "FROM", "ROUTE TARGETS", "VRFS", "LSP")
	for _, r := range rs {
		from, vrfs, lsp := addrOr(r.Neighbor, "-"), cmp.Or(strings.Join(r.VRFs, ","), "none"), yesNo(r.LSP)
		if r.Exported {
			from, vrfs, lsp = "exported", "-", "-"
		}
		row(tw, r.RD, r.Prefix.String(), strconv.FormatUint(uint64(r.Label), 10), r.NextHop.String(), from,
			cmp.Or(strings.Join(r.RTs, ","), "-"), vrfs, lsp)
	}
	return tw.Flush()
}
