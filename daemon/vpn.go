package daemon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsrd/lsrd/bgp"
	"github.com/lsrd/lsrd/config"
	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/netlinkfib"
	"github.com/lsrd/lsrd/rib"
	"github.com/lsrd/lsrd/vpn"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// vpnPart is the provider edge (package vpn) as the parent runs it: the
// state on the parent's goroutine, a kernel layer per VRF, and the VPN
// routes BGP hands over.
type vpnPart struct {
	st    *vpn.State
	fibs  map[string]*vrfFIB // by VRF name
	upds  chan []bgp.VPNRoute
	dirty bool // st may have something to hand on (publishVPN)
	// view is what metrics read: published after a change, at most once a
	// second (it counts every VRF route), the last change of a burst by a
	// call a second later (viewPending).
	view        atomic.Pointer[[]vpn.VRFView]
	viewAt      time.Time
	viewPending bool
	// adjacent holds, for each provider edge that is an LDP neighbour over
	// a link, the link's next hops (the neighbour's hello sources): a
	// provider edge next door advertises implicit null for its loopback,
	// so LDP has no FTN entry for it, and the VPN label goes alone.
	adjacent map[netip.Addr][]fib.NextHop
	// ldpChanged is poked when the speaker publishes its view.
	ldpChanged chan struct{}
	// ce are the VRFs' BGP speakers for their customers' routers (ce.go),
	// by VRF name.
	ce map[string]*ceSpeaker
}

// vrfFIB is one VRF's kernel layer: lsrd's routes in the VRF's table.
type vrfFIB struct {
	fib    *netlinkfib.FIB
	table  uint32
	cancel context.CancelFunc
	done   chan struct{} // closed when its Run returned
}

// vpnVRFs is the configuration's VRFs as package vpn takes them (RDs and
// route targets as GoBGP writes them; config checked they parse).
func vpnVRFs(cfg *config.Config) []vpn.VRF {
	var out []vpn.VRF
	canon := func(rts []string) []string {
		var cs []string
		for _, rt := range rts {
			if c, err := bgp.CanonicalRT(rt); err == nil && !slices.Contains(cs, c) {
				cs = append(cs, c)
			}
		}
		slices.Sort(cs)
		return cs
	}
	for _, v := range cfg.VRFs {
		rd, _ := bgp.CanonicalRD(v.RD)
		out = append(out, vpn.VRF{Name: v.Name, Table: v.Table, RD: rd, ImportRTs: canon(v.ImportRTs()),
			ExportRTs: canon(v.ExportRTs()), PerPrefix: v.Label == "per-prefix",
			ExportConnected: v.Exports("connected"), ExportStatic: v.Exports("static"), ExportBGP: v.Exports("bgp")})
	}
	return out
}

// importTargets are the route targets vrfs import, sorted: the Route
// Target memberships the speaker advertises (RFC 4684), to neighbours that
// carry them.
func importTargets(vrfs []vpn.VRF) []string {
	var rts []string
	for _, v := range vrfs {
		rts = append(rts, v.ImportRTs...)
	}
	slices.Sort(rts)
	return slices.Compact(rts)
}

// newVPN sets up the provider edge when VRFs are configured (nil
// otherwise). It reads LDP's LSPs from the parent's forwarding.
func (d *Daemon) newVPN(cfg *config.Config) (*vpnPart, error) {
	if len(cfg.VRFs) == 0 {
		return nil, nil
	}
	st, err := vpn.New(vpn.Config{LocalAddress: cfg.LDP.TransportAddress,
		LabelMin: fib.Label(cfg.VRFLabels.Min), LabelMax: fib.Label(cfg.VRFLabels.Max), Log: d.log},
		func(a netip.Addr) ([]fib.NextHop, bool) { return d.vpnLSP(a) })
	if err != nil {
		return nil, err
	}
	if err := st.SetVRFs(vpnVRFs(cfg)); err != nil {
		return nil, err
	}
	p := &vpnPart{st: st, fibs: map[string]*vrfFIB{}, upds: make(chan []bgp.VPNRoute, 16), dirty: true,
		adjacent: map[netip.Addr][]fib.NextHop{}, ldpChanged: make(chan struct{}, 1), ce: map[string]*ceSpeaker{}}
	d.fwd.onLSP = func(a netip.Addr) {
		st.LSPChanged(a)
		p.dirty = true
	}
	return p, nil
}

// vpnLSP is how a VPN route reaches provider edge a: the LSP to it (LDP's
// FTN entry for its host prefix), or the link to it when it is an LDP
// neighbour next door (implicit null: no LSP label).
func (d *Daemon) vpnLSP(a netip.Addr) ([]fib.NextHop, bool) {
	adj := d.vpn.adjacent[a]
	if d.fwd.ldp != nil {
		if e, ok := d.fwd.ldp.FTN[netip.PrefixFrom(a, a.BitLen())]; ok {
			hops := e.NextHops
			// A next hop without a label (an LSR that has not sent one
			// yet, among labelled ones) leads to the provider edge only
			// when it is the provider edge next door: anywhere else the
			// VPN label alone would be taken for that LSR's own.
			if slices.ContainsFunc(hops, func(h fib.NextHop) bool { return len(h.Labels) == 0 }) {
				hops = slices.DeleteFunc(slices.Clone(hops), func(h fib.NextHop) bool {
					return len(h.Labels) == 0 && !slices.ContainsFunc(adj, func(x fib.NextHop) bool { return x.Addr == h.Addr })
				})
			}
			return hops, len(hops) > 0
		}
	}
	return adj, len(adj) > 0
}

// vpnAdjacencies follows the LDP neighbours next door from the speaker's
// view: a provider edge whose link next hops changed has its VRF routes
// recomputed. Only OPERATIONAL sessions count: the neighbour has then
// sent its labels, implicit null for its loopback among them.
func (d *Daemon) vpnAdjacencies() {
	p := d.vpn
	now := map[netip.Addr][]fib.NextHop{}
	for _, n := range d.viewLDP().Neighbors {
		if n.State != "OPERATIONAL" {
			continue
		}
		var hops []fib.NextHop
		for _, adj := range n.Adjacencies {
			if !adj.Targeted && adj.Interface != "" && adj.Source.Is4() {
				hops = append(hops, fib.NextHop{Addr: adj.Source, Ifname: adj.Interface})
			}
		}
		if len(hops) == 0 {
			continue
		}
		slices.SortFunc(hops, func(a, b fib.NextHop) int { return cmp.Or(a.Addr.Compare(b.Addr), strings.Compare(a.Ifname, b.Ifname)) })
		for _, a := range []netip.Addr{n.LSRID, n.Transport} {
			if a.IsValid() {
				now[a] = hops
			}
		}
	}
	for a, hops := range now {
		if old, ok := p.adjacent[a]; ok && slices.EqualFunc(old, hops, fib.NextHop.Equal) {
			now[a] = old // the same slice: routes through it share it
			continue
		}
		p.st.LSPChanged(a)
		p.dirty = true
	}
	for a := range p.adjacent {
		if _, ok := now[a]; !ok {
			p.st.LSPChanged(a)
			p.dirty = true
		}
	}
	p.adjacent = now
}

// applyVRFs makes the kernel's VRF devices and lsrd's VRF kernel layers
// match cfg: devices created or adopted, interfaces enslaved, a kernel
// layer started for each new VRF and a removed VRF's routes flushed. A
// device that cannot be set up is logged; the others go on.
func (d *Daemon) applyVRFs(ctx context.Context, cfg *config.Config) {
	p := d.vpn
	if p == nil {
		return
	}
	want := map[string]config.VRF{}
	for _, v := range cfg.VRFs {
		want[v.Name] = v
	}
	for name, vf := range p.fibs {
		if v, ok := want[name]; ok && v.Table == vf.table {
			continue
		}
		stopCtx, cancel := context.WithTimeout(context.Background(), d.cfg.Kernel.StopTimeout.Std())
		d.stopVRF(stopCtx, name, vf, true)
		cancel()
		delete(p.fibs, name)
	}
	vrfs := vpnVRFs(cfg)
	if err := p.st.SetVRFs(vrfs); err != nil {
		d.log.Error("vpn: VRF labels", "err", err)
	}
	if d.bgp != nil {
		d.bgp.SetRouteTargets(importTargets(vrfs))
	}
	p.st.SetLocalAddress(cfg.LDP.TransportAddress)
	// Customers' packets cross from their interface to an LSP: IP
	// forwarding is the operator's to switch on, as on any router, but a
	// provider edge without it forwards nothing.
	off := func(f string) bool {
		b, err := os.ReadFile(f)
		return err == nil && strings.TrimSpace(string(b)) == "0"
	}
	if off("/proc/sys/net/ipv4/ip_forward") {
		d.log.Warn("vpn: net.ipv4.ip_forward is 0: the VRFs' IPv4 traffic will not be forwarded")
	}
	if off("/proc/sys/net/ipv6/conf/all/forwarding") {
		d.log.Info("vpn: net.ipv6.conf.all.forwarding is 0: IPv6 customers' traffic, if any, will not be forwarded")
	}
	p.dirty = true
	for _, v := range cfg.VRFs {
		created, err := netlinkfib.EnsureVRF(d.nl, v.Name, v.Table)
		if err != nil {
			d.log.Error("vpn: VRF device", "vrf", v.Name, "err", err)
			continue
		}
		if created {
			d.log.Info("vpn: VRF device created", "vrf", v.Name, "table", v.Table)
		}
		for _, ifc := range v.Interfaces {
			if err := netlinkfib.Enslave(d.nl, ifc, v.Name); err != nil {
				d.log.Warn("vpn: interface not in its VRF", "vrf", v.Name, "interface", ifc, "err", err)
			}
		}
		if _, ok := p.fibs[v.Name]; !ok {
			if err := d.startVRF(ctx, v); err != nil {
				d.log.Error("vpn: VRF kernel layer", "vrf", v.Name, "err", err)
			}
		}
		d.applyCE(ctx, v)
	}
	for name, c := range p.ce {
		if !slices.ContainsFunc(cfg.VRFs, func(v config.VRF) bool { return v.Name == name && v.BGP != nil && len(v.BGP.Neighbors) > 0 }) {
			c.stop(false)
			delete(p.ce, name)
		}
	}
	// A VRF added by a reload exports what its table holds now, not at
	// the next change in the kernel.
	if err := d.setVRFTables(readVRFTables(cfg, d.linkNames(), d.own)); err != nil {
		d.log.Warn("vpn: reading the VRFs' tables", "err", err)
	}
}

// linkNames names the kernel's interfaces by index, those in VRFs
// included; on an error, none (a route's next hops are then read without
// their interface, and its per-prefix label looks the packet up in the VRF
// until the next reading).
func (d *Daemon) linkNames() func(int) string {
	ifs, err := rib.ReadInterfaces(d.nl)
	if err != nil {
		d.log.Warn("vpn: reading the interfaces", "err", err)
	}
	return namesByIndex(ifs)
}

// startVRF opens and runs the kernel layer of a VRF. What a previous run
// left in its table is adopted and swept with the main kernel layer's
// (restart.go), or at once when there is no restart to wait for.
func (d *Daemon) startVRF(ctx context.Context, v config.VRF) error {
	f, err := netlinkfib.New(netlinkfib.WithLogger(d.log.With("vrf", v.Name)), netlinkfib.WithObserver(d.metrics.kernel),
		netlinkfib.WithProtocol(d.cfg.Kernel.RouteProtocol), netlinkfib.WithVRF(v.Table))
	if err != nil {
		return err
	}
	adopted, err := f.Adopt(ctx)
	if err != nil {
		f.Close()
		return err
	}
	if d.restart == nil {
		f.SweepStale("no restart to wait for")
	} else if !adopted.Empty() {
		d.log.Info("vpn: adopted the VRF's routes from a previous run", "vrf", v.Name, "routes", adopted.Routes())
	}
	runCtx, cancel := context.WithCancel(ctx)
	vf := &vrfFIB{fib: f, table: v.Table, cancel: cancel, done: make(chan struct{})}
	d.vpn.fibs[v.Name] = vf
	// Whatever the VRF's changes were while it had no kernel layer, this
	// one starts from the whole table.
	d.vpn.st.Resend(v.Name)
	d.vpn.dirty = true
	go func() {
		defer close(vf.done)
		if err := f.Run(runCtx); err != nil && !errors.Is(err, context.Canceled) {
			d.log.Error("vpn: VRF kernel layer stopped", "vrf", v.Name, "err", err)
		}
	}()
	return nil
}

// stopVRF ends a VRF's kernel layer; with flush its routes are removed
// first, within ctx. It reports whether they all went.
func (d *Daemon) stopVRF(ctx context.Context, name string, vf *vrfFIB, flush bool) bool {
	vf.cancel()
	<-vf.done
	defer vf.fib.Close()
	if !flush {
		return true
	}
	if err := vf.fib.Flush(ctx); err != nil {
		d.log.Error("vpn: removing the VRF's routes", "vrf", name, "err", err)
		return false
	}
	return true
}

// sweepVRFs sweeps the VRF kernel layers' adopted routes (the restart's
// end).
func (d *Daemon) sweepVRFs(reason string) {
	if d.vpn == nil {
		return
	}
	for _, vf := range d.vpn.fibs {
		vf.fib.SweepStale(reason)
	}
}

// shutdownVRFs stops every VRF kernel layer, removing their routes within
// ctx unless they are kept for a restart. It reports whether they all went.
func (d *Daemon) shutdownVRFs(ctx context.Context) bool {
	if d.vpn == nil {
		return true
	}
	for name, c := range d.vpn.ce {
		c.stop(d.cfg.Kernel.KeepRoutesOnShutdown)
		delete(d.vpn.ce, name)
	}
	// Side by side: each VRF's routes go in requests of their own, and a
	// stop must not take the sum of them.
	var wg sync.WaitGroup
	var failed atomic.Bool
	for name, vf := range d.vpn.fibs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !d.stopVRF(ctx, name, vf, !d.cfg.Kernel.KeepRoutesOnShutdown) {
				failed.Store(true)
			}
		}()
	}
	wg.Wait()
	d.vpn.fibs = map[string]*vrfFIB{}
	return !failed.Load()
}

// readVRFTables reads the table of each of cfg's VRFs for the routes lsrd
// did not install, by VRF name, and the errors of those it could not read.
func readVRFTables(cfg *config.Config, ifname func(int) string, own *rib.Protocols) (map[string][]rib.Route, []error) {
	if len(cfg.VRFs) == 0 {
		return nil, nil
	}
	out := make(map[string][]rib.Route, len(cfg.VRFs))
	var errs []error
	for _, v := range cfg.VRFs {
		routes, err := rib.ReadTableRoutes(netns.None(), v.Table, ifname, own)
		if err != nil {
			errs = append(errs, fmt.Errorf("VRF %s: %w", v.Name, err))
			continue
		}
		out[v.Name] = routes
	}
	return out, errs
}

// setVRFTables gives the provider edge the VRF tables read (readVRFTables)
// as their local routes; a VRF no longer configured (a reload since the
// reading) is passed over.
func (d *Daemon) setVRFTables(tables map[string][]rib.Route, errs []error) error {
	if d.vpn == nil {
		return nil
	}
	for _, v := range d.cfg.VRFs {
		routes, ok := tables[v.Name]
		if !ok {
			continue
		}
		local := make([]vpn.LocalRoute, 0, len(routes))
		for _, r := range routes {
			lr := vpn.LocalRoute{Prefix: r.Prefix, Connected: r.Protocol == unix.RTPROT_KERNEL, BGP: r.Protocol == ceProtocol}
			for _, nh := range r.NextHops {
				lr.NextHops = append(lr.NextHops, fib.NextHop{Addr: nh.Addr, Ifname: nh.Ifname})
			}
			local = append(local, lr)
		}
		if err := d.vpn.st.SetLocal(v.Name, local); err != nil {
			errs = append(errs, err)
		}
		d.vpn.dirty = true
	}
	return errors.Join(errs...)
}

// vpnRoutes applies BGP's best VPN paths, and the VPN families' End-of-RIB
// markers that came after them for the restart (restart.go).
func (d *Daemon) vpnRoutes(rs []bgp.VPNRoute) {
	routes := rs[:0:0]
	for _, r := range rs {
		if r.EndOfRIB != nil {
			d.bgpApplied.mark(r.EndOfRIB)
			continue
		}
		routes = append(routes, r)
	}
	if len(routes) > 0 {
		d.vpn.st.Update(routes)
		d.vpn.dirty = true
		d.bgpApplied.last = time.Now()
	}
}

// publishVPN hands on what the provider edge changed: the VPN labels to the
// main forwarding, each VRF's routes to its kernel layer, the exported
// routes to BGP.
func (d *Daemon) publishVPN() {
	p := d.vpn
	if p == nil || !p.dirty {
		return
	}
	p.dirty = false
	if p.st.LFIBChanged() {
		d.fwd.setVPNLFIB(p.st.LFIB())
		d.fibDirty = true
	}
	for name, c := range p.st.TakeChanges() {
		vf, ok := p.fibs[name]
		if !ok {
			continue
		}
		// A kernel layer's first changes are whole (startVRF: Resend).
		if c.Full {
			t := fib.NewTable()
			t.FTN = c.Table
			vf.fib.Set(t)
		} else {
			vf.fib.Change(&fib.Delta{FTN: c.Delta})
		}
	}
	if p.st.ExportsChanged() && d.bgp != nil {
		d.bgp.ExportVPN(p.st.Exports())
	}
	for name, c := range p.ce {
		c.setAdvertised(p.st.Advertised(name))
	}
	d.publishVPNView()
}

// publishVPNView publishes the VRFs' view for metrics, at most once a
// second; a change within the second gets a publication at its end.
func (d *Daemon) publishVPNView() {
	p := d.vpn
	if wait := time.Second - time.Since(p.viewAt); wait > 0 {
		if !p.viewPending {
			p.viewPending = true
			time.AfterFunc(wait, func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = d.call(ctx, func() {
					p.viewPending = false
					d.publishVPNView()
				})
			})
		}
		return
	}
	v := p.st.View()
	p.view.Store(&v)
	// A pending call that never got through (the parent busy past its
	// timeout) is superseded by this publication.
	p.viewAt, p.viewPending = time.Now(), false
}
