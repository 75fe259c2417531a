package daemon

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/lsrd/lsrd/bgp"
	"github.com/lsrd/lsrd/config"
	"github.com/lsrd/lsrd/rib"
)

// ceProtocol is the kernel protocol of the routes lsrd learns from
// customers' routers over BGP and puts in their VRF's table: "bgp", as
// other daemons' BGP routes. The VRF tables are read back like any other
// daemon's routes, so these are exported as kind bgp (vpn.LocalRoute.BGP)
// by the same path as an operator's static routes.
const ceProtocol = unix.RTPROT_BGP

// ceSpeaker is one VRF's BGP speaker for its customer edge routers
// (config.VRFBGP): a GoBGP server of its own, dialling out bound to the
// VRF device. What it learns goes into the VRF's table from its own
// goroutine; what it advertises (the VRF's routes but the customers')
// is set by the parent and applied by another goroutine, the latest set
// winning, so the parent never waits on GoBGP.
type ceSpeaker struct {
	table uint32
	sp    *bgp.Speaker
	log   *slog.Logger
	nl    *netlink.Handle

	mu        sync.Mutex
	cfg       bgp.Config     // the sessions, Networks left empty
	advertise []netip.Prefix // the latest set asked for
	kick      chan struct{}
	// routesMu guards the kernel side, apart from mu: the parent, which
	// takes mu to set what is advertised, never waits behind a burst of
	// kernel requests.
	routesMu  sync.Mutex
	installed map[netip.Prefix]bool // onRoutes's
	// stale are routes a previous run left in the table, removed
	// ceStaleAfter after the start unless learned again.
	stale map[netip.Prefix]netlink.Route

	cancel context.CancelFunc
	done   chan struct{}
}

// startCE starts v's customer sessions, or returns nil when it has none.
func (d *Daemon) startCE(ctx context.Context, v config.VRF) *ceSpeaker {
	cfg, ok := v.Speaker(d.cfg.BGP)
	if !ok {
		return nil
	}
	log := d.log.With("vrf", v.Name)
	c := &ceSpeaker{table: v.Table, log: log, nl: d.nl, cfg: cfg, kick: make(chan struct{}, 1),
		installed: map[netip.Prefix]bool{}, stale: map[netip.Prefix]netlink.Route{}, done: make(chan struct{})}
	// What a previous run left (kept for a restart, or after a crash)
	// keeps forwarding until learned again or ceStaleAfter.
	for _, r := range c.list() {
		if p, ok := rib.PrefixOf(r.Dst); ok {
			c.stale[p] = r
		}
	}
	var err error
	if c.sp, err = bgp.New(cfg, log, c.onRoutes); err != nil {
		log.Error("vpn: customer BGP sessions not started", "err", err)
		return nil
	}
	if err := c.sp.Start(ctx); err != nil {
		log.Error("vpn: customer BGP sessions not started", "err", err)
		return nil
	}
	log.Info("vpn: customer BGP sessions started", "neighbors", len(cfg.Neighbors))
	runCtx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go c.run(runCtx)
	if len(c.stale) > 0 {
		log.Info("vpn: customers' routes from a previous run kept until learned again", "routes", len(c.stale), "for", ceStaleAfter)
		time.AfterFunc(ceStaleAfter, c.dropStale)
	}
	return c
}

// ceStaleAfter is how long a customer's route left by a previous run stays
// in the VRF's table without being learned again.
const ceStaleAfter = 2 * time.Minute

// dropStale removes the previous run's routes not learned again.
func (c *ceSpeaker) dropStale() {
	c.routesMu.Lock()
	defer c.routesMu.Unlock()
	for p, r := range c.stale {
		if err := c.nl.RouteDel(&r); err != nil && !errors.Is(err, syscall.ESRCH) {
			c.log.Warn("vpn: removing a customer's stale route from the VRF's table", "prefix", p, "err", err)
		}
		delete(c.stale, p)
	}
}

// applyCE starts, or reconfigures, v's customer sessions.
func (d *Daemon) applyCE(ctx context.Context, v config.VRF) {
	cfg, ok := v.Speaker(d.cfg.BGP)
	c := d.vpn.ce[v.Name]
	switch {
	case !ok:
		return // applyVRFs stops the speaker of a VRF that has none now
	case c == nil:
		if c = d.startCE(ctx, v); c != nil {
			d.vpn.ce[v.Name] = c
			d.vpn.dirty = true // what to advertise (publishVPN)
		}
	default:
		c.reconfigure(cfg)
	}
}

// setAdvertised asks for ps to be advertised to the customers.
func (c *ceSpeaker) setAdvertised(ps []netip.Prefix) {
	c.mu.Lock()
	same := slices.Equal(c.advertise, ps)
	c.advertise = ps
	c.mu.Unlock()
	if !same {
		c.poke()
	}
}

// reconfigure applies a reloaded configuration of the sessions.
func (c *ceSpeaker) reconfigure(cfg bgp.Config) {
	c.mu.Lock()
	c.cfg = cfg
	c.mu.Unlock()
	c.poke()
}

func (c *ceSpeaker) poke() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *ceSpeaker) run(ctx context.Context) {
	defer close(c.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
		}
		c.mu.Lock()
		cfg := c.cfg
		cfg.Networks = slices.Clone(c.advertise)
		c.mu.Unlock()
		if err := c.sp.Apply(ctx, cfg); err != nil && ctx.Err() == nil {
			c.log.Warn("vpn: customer BGP sessions: advertising the VRF's routes", "err", err)
		}
	}
}

// onRoutes runs on the speaker's goroutine: the best paths learned from
// the customers, into the VRF's table.
func (c *ceSpeaker) onRoutes(us []bgp.Update) {
	c.routesMu.Lock()
	defer c.routesMu.Unlock()
	for _, u := range us {
		if u.EndOfRIB != nil {
			continue
		}
		p := u.Route.Prefix
		delete(c.stale, p) // learned again (or withdrawn: removed below)
		var gws []netip.Addr
		for _, nh := range u.Route.NextHops {
			if nh.Addr.IsValid() {
				gws = append(gws, nh.Addr)
			}
		}
		if u.Withdrawn || len(gws) == 0 {
			if c.installed[p] {
				if err := c.nl.RouteDel(c.route(p, nil)); err != nil && !errors.Is(err, syscall.ESRCH) {
					c.log.Warn("vpn: removing a customer's route from the VRF's table", "prefix", p, "err", err)
				}
				delete(c.installed, p)
			}
			continue
		}
		if err := c.nl.RouteReplace(c.route(p, gws)); err != nil {
			c.log.Warn("vpn: a customer's route not put in the VRF's table", "prefix", p, "next-hops", gws, "err", err)
			continue
		}
		c.installed[p] = true
	}
}

// route is the kernel route for prefix p through gateways gws in the
// VRF's table.
func (c *ceSpeaker) route(p netip.Prefix, gws []netip.Addr) *netlink.Route {
	r := &netlink.Route{Dst: prefixNet(p), Table: int(c.table), Protocol: ceProtocol, Family: family(p)}
	switch len(gws) {
	case 0:
	case 1:
		r.Gw = gws[0].AsSlice()
	default:
		for _, gw := range gws {
			r.MultiPath = append(r.MultiPath, &netlink.NexthopInfo{Gw: gw.AsSlice()})
		}
	}
	return r
}

// stop ends the sessions and, unless keep, removes what they put in the
// VRF's table (kept, the next run takes it over: startCE).
func (c *ceSpeaker) stop(keep bool) {
	c.cancel()
	<-c.done
	c.sp.Stop()
	if keep {
		return
	}
	c.routesMu.Lock()
	defer c.routesMu.Unlock()
	for _, r := range c.list() {
		if err := c.nl.RouteDel(&r); err != nil && !errors.Is(err, syscall.ESRCH) {
			c.log.Warn("vpn: removing a customer's route from the VRF's table", "route", r.Dst, "err", err)
		}
	}
	clear(c.installed)
	clear(c.stale)
}

// list returns the customer routes (ceProtocol) in the VRF's table.
func (c *ceSpeaker) list() []netlink.Route {
	filter := &netlink.Route{Table: int(c.table), Protocol: ceProtocol}
	var out []netlink.Route
	for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		rs, err := c.nl.RouteListFiltered(fam, filter, netlink.RT_FILTER_TABLE|netlink.RT_FILTER_PROTOCOL)
		if err != nil {
			c.log.Warn("vpn: listing customers' routes in the VRF's table", "err", err)
			continue
		}
		out = append(out, rs...)
	}
	return out
}

func prefixNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func family(p netip.Prefix) int {
	if p.Addr().Is4() {
		return netlink.FAMILY_V4
	}
	return netlink.FAMILY_V6
}
