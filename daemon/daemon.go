package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsrd/lsrd/bgp"
	"github.com/lsrd/lsrd/config"
	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/internal/gctune"
	"github.com/lsrd/lsrd/internal/sdnotify"
	"github.com/lsrd/lsrd/ldp"
	"github.com/lsrd/lsrd/ldp/fec"
	"github.com/lsrd/lsrd/ldp/lib"
	"github.com/lsrd/lsrd/ldp/speaker"
	"github.com/lsrd/lsrd/ldp/transport"
	"github.com/lsrd/lsrd/netlinkfib"
	"github.com/lsrd/lsrd/oam"
	"github.com/lsrd/lsrd/rib"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Options are what the caller provides besides the configuration.
type Options struct {
	ConfigPath string
	Log        *slog.Logger
	// LogLevel is Log's level, which a reload or the control API changes;
	// nil when the logger's level is fixed.
	LogLevel *slog.LevelVar
	// Notify, when set, hears the daemon's state for the service manager:
	// sdnotify.Ready once the control socket answers and the kernel was
	// read, Reloading and Ready around a reload, Stopping at the end.
	Notify  func(state string)
	Version string // lsrd's version, for lsrd_build_info and /v1/version
	// Begun is when main began, the start of the start-up phases logged
	// with "lsrd started"; zero means when New was called.
	Begun time.Time
}

// Daemon is a running lsrd.
type Daemon struct {
	opt Options
	cfg *config.Config
	log *slog.Logger
	nl  *netlink.Handle
	rib *rib.RIB
	lib *lib.LIB
	eng *ldp.Engine
	sp  *speaker.Speaker
	// ldpView is LDP as last published by the speaker (ldpview.go).
	ldpView atomic.Pointer[ldpView]
	ifcs    map[string]rib.Interface
	// present are the kernel's interfaces, up or not, by name; absent the
	// configured LDP interfaces found missing, logged once each.
	present map[string]bool
	absent  map[string]bool
	kfib    *netlinkfib.FIB
	oam     *oam.Service // LSP ping; nil when its sockets could not be opened
	// mem sets the Go collector's headroom by whether lsrd is busy.
	mem     *gctune.Tuner
	started time.Time
	clock   *startClock // start-up phases, until "lsrd started"
	// controlUp is closed once the control socket listens.
	controlUp chan struct{}
	// mplsInput holds the interfaces (by index) MPLS input was enabled on.
	mplsInput map[int]bool

	calls  chan func()
	reload chan chan error

	metrics *metricSet // the registry, and the instruments fed as things happen

	bgp     *bgp.Speaker // nil without a bgp section
	bgpUpds chan []bgp.Update
	vpn     *vpnPart // the provider edge (vpn.go); nil without VRFs

	fibMu sync.Mutex
	// What the speaker published and the parent has not taken yet: LDP's
	// changes, merged (or a whole table, which the changes then amend).
	fibPending      *fib.Delta
	fibPendingTable *fib.Table
	fibReady        chan struct{}
	fwd             *forwarding    // what lsrd wants in the kernel, kept change by change
	own             *rib.Protocols // lsrd's route protocols: never learned back
	fibDirty        bool           // fwd changed since the kernel layer was told
	kernelReads     uint64         // readings of the kernel applied (syncKernel, the watcher's)
	// The last publication's time and cost: publications are spaced so
	// that handing on takes at most a fifth of the parent's time.
	published, publishCost time.Duration

	// alloc is the LIB's label allocation filter (nil: every route); the
	// routes it refuses are kept from the LDP engine, which would only
	// drop them (a full BGP table never gets labels).
	alloc     func(rib.Route) bool
	ldpRoutes map[netip.Prefix]struct{} // prefixes whose best route the engine holds

	zt ztState // the ZeroTier underlay (zerotier.go)

	gr *grState // LDP graceful restart at the edge (gracefulrestart.go)
	// After a start that adopted a previous run's kernel routes: what the
	// parent waits for before the kernel layer may sweep them (restart.go);
	// nil when nothing was adopted or once swept.
	restart                   *restart
	ldpRecovery               ldpRecoveryRule
	kernelRead, staticApplied bool // inputs of the restart that are done once
	// What the parent applied from BGP (End-of-RIB markers, the last
	// route): the restart's BGP input judges by it, not by GoBGP's view,
	// which runs ahead of the pipeline.
	bgpApplied bgpApplied

	counts atomic.Pointer[parentCounts] // for metrics (publishCounts)
}

// New prepares a daemon from a validated configuration.
func New(cfg *config.Config, opt Options) (*Daemon, error) {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Begun.IsZero() {
		opt.Begun = time.Now()
	}
	clock := newStartClock(opt.Begun)
	clock.mark("config")
	alloc, err := allocatePolicy(cfg.LDP.Labels)
	if err != nil {
		return nil, err
	}
	lcfg := lib.Config{
		LabelMin: fib.Label(cfg.LDP.Labels.Min), LabelMax: fib.Label(cfg.LDP.Labels.Max),
		ExplicitNull: cfg.LDP.Labels.ExplicitNull, Allocate: alloc,
		MaxUnroutedPerPeer: *cfg.LDP.Limits.UnroutedLabelsPerPeer,
	}
	if cfg.LDP.Labels.Control == "independent" {
		lcfg.Control = lib.Independent
	}
	gr, seed := loadGR(cfg, opt.Log)
	lcfg.Seed = seed
	l, err := lib.New(lcfg)
	if err != nil {
		return nil, err
	}
	eng, err := ldp.New(engineConfig(cfg, opt.Log, nil), l)
	if err != nil {
		return nil, err
	}
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	started := time.Now()
	m := newMetricSet(opt.Version, started)
	fibOpts := []netlinkfib.Option{netlinkfib.WithLogger(opt.Log), netlinkfib.WithObserver(m.kernel),
		netlinkfib.WithProtocol(cfg.Kernel.RouteProtocol)}
	if in := cfg.Kernel.Ingress; !in.Disabled {
		fibOpts = append(fibOpts, netlinkfib.WithIngressTable(in.Table, in.RulePriority))
	}
	kfib, err := netlinkfib.New(fibOpts...)
	if err != nil {
		h.Close()
		return nil, err
	}
	d := &Daemon{
		opt: opt, cfg: cfg, started: started, controlUp: make(chan struct{}), log: opt.Log, nl: h, kfib: kfib, mplsInput: map[int]bool{}, absent: map[string]bool{},
		rib: rib.New(), lib: l, eng: eng, ifcs: map[string]rib.Interface{}, metrics: m,
		calls: make(chan func()), reload: make(chan chan error),
		fibReady: make(chan struct{}, 1),
		bgpUpds:  make(chan []bgp.Update, 16),
		own:      rib.ProtocolSet(cfg.Kernel.RouteProtocol, netlinkfib.LegacyProtocol),
		alloc:    alloc, ldpRoutes: map[netip.Prefix]struct{}{},
		bgpApplied:  bgpApplied{endOfRIB: map[netip.Addr]map[string]bool{}},
		gr:          gr,
		ldpRecovery: endOfLIBRecovery(cfg),
		mem:         gctune.New(memoryConfig(cfg), opt.Log),
		clock:       clock,
	}
	d.fwd = newForwarding(!cfg.Kernel.Ingress.Disabled, d.rib.Best)
	if d.vpn, err = d.newVPN(cfg); err != nil {
		h.Close()
		kfib.Close()
		return nil, err
	}
	d.initZeroTier()
	if cfg.BGP != nil {
		// The speaker hands best paths over on its own goroutine; the RIB is
		// the parent's, so they travel through a channel. Blocking here is
		// fine: the speaker's queue merges what waits meanwhile.
		d.bgp, err = bgp.New(cfg.BGP.Speaker(), opt.Log, func(us []bgp.Update) { d.bgpUpds <- us })
		if err != nil {
			h.Close()
			kfib.Close()
			return nil, err
		}
		if p := d.vpn; p != nil {
			d.bgp.OnVPN(func(rs []bgp.VPNRoute) { p.upds <- rs })
		}
	}
	return d, nil
}

// memoryConfig is the collector's tuning (config.Memory).
func memoryConfig(cfg *config.Config) gctune.Config {
	m := cfg.Memory
	return gctune.Config{BusyPercent: m.GCPercent, IdlePercent: m.IdleGCPercent, Limit: int64(m.LimitMiB) << 20}
}

// engineConfig is LDP's configuration; devices resolves the interfaces
// given as ZeroTier network IDs (those not resolved yet are left out).
func engineConfig(cfg *config.Config, log *slog.Logger, devices map[string]string) ldp.Config {
	c := ldp.Config{
		LSRID:                 cfg.RouterID,
		TransportAddr:         cfg.LDP.TransportAddress,
		LabelMin:              fib.Label(cfg.LDP.Labels.Min),
		LabelMax:              fib.Label(cfg.LDP.Labels.Max),
		AcceptTargeted:        cfg.LDP.AcceptTargeted,
		LinkHelloHold:         cfg.LDP.Timers.HelloHold.Std(),
		LinkHelloInterval:     cfg.LDP.Timers.HelloInterval.Std(),
		TargetedHelloHold:     cfg.LDP.Timers.TargetedHelloHold.Std(),
		TargetedHelloInterval: cfg.LDP.Timers.TargetedHelloInterval.Std(),
		KeepAlive:             cfg.LDP.Timers.KeepAlive.Std(),
		Logger:                log,

		MaxAdjacenciesPerInterface: cfg.LDP.Limits.AdjacenciesPerInterface,
		MaxNeighbors:               cfg.LDP.Limits.Neighbors,
		MaxPendingConnections:      cfg.LDP.Limits.PendingConnections,
		PendingConnTimeout:         cfg.LDP.Limits.PendingConnectionTimeout.Std(),
		InitTimeout:                cfg.LDP.Limits.InitTimeout.Std(),

		GracefulRestart: ldp.GracefulRestart{
			Enabled:       cfg.LDP.GracefulRestart.Enabled,
			ReconnectTime: cfg.LDP.GracefulRestart.ReconnectTime.Std(),
			RecoveryTime:  cfg.LDP.GracefulRestart.RecoveryTime.Std(),
		},
	}
	for _, i := range cfg.LDP.Interfaces {
		if dev := ldpDevice(i, devices); dev != "" {
			c.Interfaces = append(c.Interfaces, dev)
			for _, f := range i.AddressFamilies {
				if c.InterfaceFamilies == nil {
					c.InterfaceFamilies = map[string][]fec.Family{}
				}
				af := fec.IPv4
				if f == "ipv6" {
					af = fec.IPv6
				}
				c.InterfaceFamilies[dev] = append(c.InterfaceFamilies[dev], af)
			}
		}
	}
	for _, t := range cfg.LDP.Targeted {
		c.Targets = append(c.Targets, t.Address)
	}
	c.GTSM = ldp.GTSM{Disabled: cfg.LDP.GTSM.Disabled, CheckHellos: cfg.LDP.GTSM.CheckHellos}
	c.IPv4Disabled = !cfg.LDP.Runs("ipv4")
	if cfg.LDP.Runs("ipv6") {
		c.TransportAddr6 = cfg.LDP.TransportAddressIPv6
	}
	if cfg.LDP.TransportPreference == "ipv4" {
		c.TransportPreference = fec.IPv4
	}
	for _, n := range cfg.LDP.Neighbors {
		if n.Key != "" {
			c.Auth = append(c.Auth, ldp.AuthKey{Peers: n.Peers(), Key: n.Key})
		}
		if n.GTSM != nil && !*n.GTSM {
			c.GTSM.Off = append(c.GTSM.Off, n.Peers())
		}
	}
	return c
}

// kernelSettle is how long the daemon lets a burst of kernel notifications
// gather before it re-reads the kernel: at most this long after the first.
const kernelSettle = 100 * time.Millisecond

// Run runs lsrd until ctx ends, then shuts down cleanly: sessions closed,
// and the kernel routes lsrd installed removed unless the configuration
// says to keep them for a restart.
func (d *Daemon) Run(ctx context.Context) error {
	defer d.nl.Close()
	defer d.kfib.Close()
	// Without MPLS forwarding every kernel write would fail one by one: say
	// what is missing once, and do not start.
	d.clock.mark("new")
	if err := d.kfib.CheckMPLS(); err != nil {
		return err
	}
	if err := d.kfib.EnsurePlatformLabels(platformLabels(d.cfg)); err != nil {
		return fmt.Errorf("sizing the kernel's label table for ldp.labels.max %d: %w", d.cfg.LDP.Labels.Max, err)
	}
	d.clock.mark("mpls-check")
	// What a previous run left (kept on purpose, or after a crash) keeps
	// forwarding until every input has brought its routes back.
	adopted, err := d.kfib.Adopt(ctx)
	if err != nil {
		return fmt.Errorf("reading lsrd's routes from the kernel: %w", err)
	}
	d.clock.mark("adopt")
	var restartTick <-chan time.Time
	if !adopted.Empty() {
		d.log.Info("adopted routes from a previous run; they keep forwarding until every input has converged",
			"routes", adopted.Routes(), "label_routes", adopted.Labels, "prefixes", adopted.Prefixes,
			"nexthop_objects", adopted.Nexthops, "restart_sweep_after", d.cfg.Kernel.RestartSweepAfter.Std())
		d.startRestart(time.Now())
		if d.bgp != nil {
			// Neighbours with graceful restart keep lsrd's routes
			// meanwhile (the Restart State bit).
			d.bgp.SetRestarting()
		}
		t := time.NewTicker(time.Second)
		defer t.Stop()
		restartTick = t.C
	}
	hello, err := transport.ListenHello(ctx)
	if err != nil {
		return err
	}
	// Sessions are accepted on every address: the transport address may be
	// configured on the loopback after lsrd starts.
	lis, err := transport.ListenSessions(ctx, netip.Addr{})
	if err != nil {
		hello.Close()
		return err
	}
	socks := speaker.Sockets{Hello: hello, Listener: lis}
	if d.cfg.LDP.Runs("ipv6") {
		if socks.Hello6, err = transport.ListenHello6(ctx); err != nil {
			hello.Close()
			lis.Close()
			return err
		}
		if socks.Listener6, err = transport.ListenSessions(ctx, netip.IPv6Unspecified()); err != nil {
			hello.Close()
			lis.Close()
			socks.Hello6.Close()
			return err
		}
	}
	d.clock.mark("sockets")
	d.sp = speaker.New(d.eng, socks, speaker.Options{
		Log:         d.log,
		OnFIB:       d.offerFIB,
		Publish:     d.publishLDP,
		OnRecovered: d.ldpRecovered,
	})

	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		stop()
		wg.Wait()
		d.saveLabelsAtExit()
	}()
	d.startLSPPing(runCtx, &wg) // before the control API, which reads d.oam
	wg.Add(7)
	go func() {
		defer wg.Done()
		d.saveLabels(runCtx)
	}()
	go func() {
		defer wg.Done()
		d.mem.Run(runCtx)
	}()
	go func() {
		defer wg.Done()
		if err := d.serveControl(runCtx); err != nil {
			d.log.Error("control API stopped", "err", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := d.serveMetrics(runCtx); err != nil {
			d.log.Error("metrics endpoint stopped", "err", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := d.kfib.Run(runCtx); err != nil && !errors.Is(err, context.Canceled) {
			d.log.Error("kernel layer stopped: forwarding is no longer kept in step", "err", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := d.sp.Run(runCtx); err != nil {
			d.log.Error("ldp speaker stopped", "err", err)
		}
	}()
	wg.Add(2)
	go func() {
		defer wg.Done()
		d.watchZeroTier(runCtx)
	}()
	go func() {
		defer wg.Done()
		d.probeZeroTier(runCtx)
	}()
	kernelChanged := make(chan struct{}, 1)
	go func() {
		defer wg.Done()
		if err := rib.WatchKernel(runCtx, kernelChanged, d.own); err != nil {
			d.log.Error("kernel watch stopped: interface and route changes are no longer seen", "err", err)
		}
	}()

	d.applyVRFs(runCtx, d.cfg)
	defer func() {
		// After shutdown, nothing is left to stop; on an error, the
		// VRFs' routes go as a stop's would.
		ctx, cancel := context.WithTimeout(context.Background(), d.cfg.Kernel.StopTimeout.Std())
		defer cancel()
		d.shutdownVRFs(ctx)
	}()
	d.startGR(runCtx)
	d.clock.mark("vrfs")
	if err := d.syncKernel(runCtx); err != nil {
		return err
	}
	d.clock.mark("kernel-read")
	d.kernelRead = true
	d.applyStatic(runCtx)
	d.staticApplied = true
	if d.bgp != nil {
		if err := d.bgp.Start(runCtx); err != nil {
			return fmt.Errorf("bgp: %w", err)
		}
		// Watchers stop before the server; the updates channel is drained
		// until then so the speaker's delivery never blocks on us.
		defer func() {
			done := make(chan struct{})
			var vpnUpds chan []bgp.VPNRoute // nil without VRFs: never ready
			if d.vpn != nil {
				vpnUpds = d.vpn.upds
			}
			go func() {
				for {
					select {
					case <-d.bgpUpds:
					case <-vpnUpds:
					case <-done:
						return
					}
				}
			}()
			if d.cfg.Kernel.KeepRoutesOnShutdown {
				d.bgp.Leave() // neighbours with graceful restart keep lsrd's routes
			} else {
				d.bgp.Stop()
			}
			close(done)
		}()
	}
	d.clock.mark("bgp")
	d.log.Info("lsrd started", "router-id", d.cfg.RouterID, "interfaces", len(d.cfg.LDP.Interfaces), "targeted", len(d.cfg.LDP.Targeted),
		"took", d.clock.took(), "phases", d.clock.String())
	select {
	case <-d.controlUp:
		d.notify(sdnotify.Ready)
	case <-time.After(10 * time.Second):
		d.log.Warn("control socket not up after 10 s: not telling the service manager lsrd is ready")
	}
	for _, w := range d.cfg.Warnings {
		d.log.Warn("configuration: " + w)
	}

	// Kernel notifications come in bursts (an interface going down removes
	// its addresses and routes one message at a time): the first one of a
	// burst arms a short timer, and the kernel is re-read when it fires,
	// once for the whole burst. Later notifications do not push the timer
	// back: a steady trickle of them (another daemon's routes churning)
	// must not hold a failover back behind it.
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	debounceArmed := false
	start := time.Now()
	publish := time.NewTimer(time.Hour)
	publish.Stop()
	publishArmed := false
	kernelReads := make(chan kernelRead)
	reading, rereadWanted := false, false
	var vpnUpds chan []bgp.VPNRoute
	var ldpChanged chan struct{}
	if d.vpn != nil {
		vpnUpds, ldpChanged = d.vpn.upds, d.vpn.ldpChanged
	}
	for {
		d.publishVPN()
		// The kernel layer gets what changed after each change (the
		// whole table the first time), but no sooner than four times the
		// last publication's cost after it, so that handing on never
		// takes more than a fifth of the parent's time; the kernel
		// layer merges what it has not taken yet.
		if d.fibDirty && !publishArmed {
			if wait := d.published + 4*d.publishCost - time.Since(start); wait > 0 {
				publish.Reset(wait)
				publishArmed = true
			} else {
				d.publishFIB()
				d.published = time.Since(start)
			}
		}
		select {
		case <-publish.C:
			publishArmed = false
		case now := <-restartTick:
			d.checkRestart(now)
			if d.restart == nil {
				restartTick = nil
			}
		case <-ctx.Done():
			d.shutdown()
			return nil
		case <-kernelChanged:
			if !debounceArmed {
				debounce.Reset(kernelSettle)
				debounceArmed = true
			}
		case <-debounce.C:
			debounceArmed = false
			// One reading at a time, in the background; a change seen
			// meanwhile brings another once it is applied.
			if reading {
				rereadWanted = true
				break
			}
			reading = true
			wg.Add(1)
			go func(cfg *config.Config, after uint64) {
				defer wg.Done()
				k, err := readKernel(d.nl, cfg, d.own)
				select {
				case kernelReads <- kernelRead{k, err, after}:
				case <-runCtx.Done():
				}
			}(d.cfg, d.kernelReads)
		case r := <-kernelReads:
			reading = false
			err := r.err
			switch {
			case err == nil && r.after != d.kernelReads:
				// A reading on the loop (ZeroTier's readdressing) came
				// in between: this one may be older. Read again.
				rereadWanted = true
			case err == nil:
				d.kernelReads++
				err = d.applyKernel(runCtx, r.k)
			}
			if err != nil {
				d.log.Warn("reading the kernel's state", "err", err)
			}
			if rereadWanted && !debounceArmed {
				rereadWanted = false
				debounce.Reset(kernelSettle)
				debounceArmed = true
			}
		case <-d.fibReady:
			d.programFIB()
		case us := <-d.bgpUpds:
			d.bgpRoutes(runCtx, us)
		case rs := <-vpnUpds:
			d.vpnRoutes(rs)
		case <-ldpChanged:
			d.vpnAdjacencies()
		case s := <-d.zt.snaps:
			d.applyZeroTier(runCtx, s)
		case f := <-d.calls:
			f()
		case reply := <-d.reload:
			d.notify(sdnotify.Reloading)
			err := d.reloadConfig(runCtx)
			d.notify(sdnotify.Ready)
			d.metrics.reloads.Record(err, time.Now())
			reply <- err
		}
	}
}

// offerFIB runs on the speaker's goroutine: it must not block, so the latest
// table waits in a slot for the parent to take.
func (d *Daemon) offerFIB(c ldp.FIBChanged) {
	d.fibMu.Lock()
	switch {
	case c.Table != nil:
		d.fibPendingTable, d.fibPending = c.Table, nil
	case d.fibPendingTable != nil:
		d.fibPendingTable.Apply(c.Delta)
	case d.fibPending == nil:
		d.fibPending = c.Delta
	default:
		d.fibPending.Merge(c.Delta)
	}
	d.fibMu.Unlock()
	select {
	case d.fibReady <- struct{}{}:
	default:
	}
}

func (d *Daemon) programFIB() {
	d.fibMu.Lock()
	t, delta := d.fibPendingTable, d.fibPending
	d.fibPendingTable, d.fibPending = nil, nil
	d.fibMu.Unlock()
	if t != nil {
		d.fwd.setLDP(t)
		d.fibDirty = true
	}
	if !delta.Empty() {
		d.fwd.applyLDP(delta)
		d.fibDirty = true
	}
}

// publishFIB hands the kernel layer the forwarding lsrd wants now.
func (d *Daemon) publishFIB() {
	start := time.Now()
	// The whole table once; from then on what changed, so that one new
	// label costs the entries it changes, not a copy of the table.
	if delta, full := d.fwd.takeDelta(); full {
		d.kfib.Set(d.fwd.table())
	} else {
		d.kfib.Change(delta)
	}
	d.publishCost = time.Since(start)
	d.fibDirty = false
	lfib, ftn := d.fwd.size()
	d.log.Debug("desired forwarding", "lfib", lfib, "ftn", ftn)
	d.publishCounts()
}

// parentCounts is what metrics read of the parent's state: published as it
// changes, so that a scrape never queues behind the parent's loop.
type parentCounts struct {
	lfib, ftn int
	rib       map[rib.Source]int
}

// publishCounts publishes the RIB's counts and the desired table's size
// with each table publication (a RIB change always leads to one; the
// parent's goroutine only; the RIB keeps its counts, so it costs the same
// at any size).
func (d *Daemon) publishCounts() {
	c := &parentCounts{rib: d.rib.CountBySource()}
	c.lfib, c.ftn = d.fwd.size()
	d.counts.Store(c)
}

func (d *Daemon) shutdown() {
	d.notify(sdnotify.Stopping)
	if d.cfg.Kernel.KeepRoutesOnShutdown {
		d.log.Info("lsrd stopping; its kernel routes stay for the next start to adopt")
		return
	}
	limit := d.cfg.Kernel.StopTimeout.Std()
	d.log.Info("lsrd stopping; removing its kernel routes", "within", limit)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	vrfs := make(chan bool)
	go func() {
		vrfs <- d.shutdownVRFs(ctx) // beside the main table's flush
	}()
	ok := true
	if err := d.kfib.Flush(ctx); err != nil {
		d.log.Error("removing lsrd's kernel routes", "err", err)
		ok = false
	}
	if !<-vrfs {
		ok = false
	}
	if ok {
		d.log.Info("lsrd's kernel routes removed", "took", time.Since(start).Round(time.Millisecond))
		return
	}
	d.log.Error("lsrd's kernel routes not all removed: the next start adopts what is left and sweeps it",
		"took", time.Since(start).Round(time.Millisecond), "stop_timeout", limit)
}

// syncKernel re-reads interfaces and routes and passes the differences on,
// on the parent's goroutine (at start, and when ZeroTier readdresses);
// the watcher's re-reads go through readKernel in the background.
func (d *Daemon) syncKernel(ctx context.Context) error {
	k, err := readKernel(d.nl, d.cfg, d.own)
	if err != nil {
		return err
	}
	d.kernelReads++ // a background reading begun before this is older
	return d.applyKernel(ctx, k)
}

// kernelRead is what a background reading of the kernel brings back, and
// how many readings had been applied when it began.
type kernelRead struct {
	k     kernelState
	err   error
	after uint64
}

// kernelState is one reading of the kernel: interfaces, other daemons'
// routes of the main table, and the VRFs' tables.
type kernelState struct {
	ifaces []rib.Interface
	routes []rib.Route
	vrfs   map[string][]rib.Route // by VRF name
	errs   []error                // VRF tables that could not be read
}

// readKernel reads the kernel's state, with no state of the daemon's: it
// runs on a goroutine of its own when the watcher saw a change, so that
// a re-read beside a full table of lsrd's routes (a dump of a million
// routes) never holds the parent's loop, which hands on LDP's labels.
func readKernel(h *netlink.Handle, cfg *config.Config, own *rib.Protocols) (kernelState, error) {
	var k kernelState
	var err error
	if k.ifaces, err = rib.ReadInterfaces(h); err != nil {
		return k, err
	}
	ifname := namesByIndex(k.ifaces)
	if k.routes, err = rib.ReadKernelRoutes(netns.None(), ifname, own); err != nil {
		return k, err
	}
	k.vrfs, k.errs = readVRFTables(cfg, ifname, own)
	return k, nil
}

// namesByIndex names the interfaces of ifs by index ("" for another).
func namesByIndex(ifs []rib.Interface) func(int) string {
	byIndex := make(map[int]string, len(ifs))
	for _, i := range ifs {
		byIndex[i.Index] = i.Name
	}
	return func(i int) string { return byIndex[i] }
}

// applyKernel passes the differences between k and what the daemon knew on.
func (d *Daemon) applyKernel(ctx context.Context, k kernelState) error {
	now := map[string]rib.Interface{}
	// Interfaces in a VRF are a customer's: neither LDP nor the global
	// RIB sees them (package vpn reads their VRF's table).
	ifaces := make([]rib.Interface, 0, len(k.ifaces))
	for _, i := range k.ifaces {
		if i.InVRF {
			continue
		}
		ifaces = append(ifaces, i)
		if i.Up {
			now[i.Name] = i
		}
	}
	for name := range d.ifcs {
		if _, ok := now[name]; !ok {
			d.post(ctx, ldp.InterfaceDown{Name: name})
		}
	}
	for name, i := range now {
		if old, ok := d.ifcs[name]; !ok || old.Index != i.Index || !slices.Equal(old.Addrs, i.Addrs) {
			d.post(ctx, ldp.InterfaceUp{Name: name, Index: i.Index, Addrs: i.Addrs})
		}
	}
	d.ifcs = now
	d.present = map[string]bool{}
	for _, i := range k.ifaces {
		d.present[i.Name] = true
	}
	d.checkConfiguredInterfaces()
	d.enableMPLSInput(now)
	d.routeChanges(ctx, d.rib.ReplaceSource(rib.SourceConnected, rib.ConnectedRoutes(ifaces)))
	d.routeChanges(ctx, d.rib.ReplaceSource(rib.SourceKernel, k.routes))
	return d.setVRFTables(k.vrfs, k.errs)
}

// applyStatic puts the configuration's static routes into the RIB.
func (d *Daemon) applyStatic(ctx context.Context) {
	var routes []rib.Route
	for _, s := range d.cfg.StaticRoutes {
		dist := uint8(rib.DistanceStatic)
		if s.Distance != nil {
			dist = *s.Distance
		}
		routes = append(routes, rib.Route{Prefix: s.Prefix, Source: rib.SourceStatic, Distance: dist,
			NextHops: []rib.NextHop{{Addr: s.NextHop, Ifname: s.Interface}}})
	}
	d.routeChanges(ctx, d.rib.ReplaceSource(rib.SourceStatic, routes))
}

// routeChanges hands one batch of RIB changes to LDP as one event, so that
// a resync of thousands of routes publishes the forwarding state once, and
// to the desired forwarding. Routes the label allocation policy refuses do
// not go to LDP at all (unless a route LDP holds for the prefix must go):
// the LIB would drop them one by one.
func (d *Daemon) routeChanges(ctx context.Context, cs []rib.Change) {
	if len(cs) == 0 {
		return
	}
	d.fwd.routes(cs)
	d.fibDirty = true
	if ev := ldpRoutes(cs, d.alloc, d.ldpRoutes); len(ev.Updates)+len(ev.Deletes) > 0 {
		d.post(ctx, ev)
	}
}

// ldpRoutes is the part of RIB changes the LDP engine needs: the routes
// alloc accepts, and the removal of those it holds (held, kept up to date)
// that are gone or refused now.
func ldpRoutes(cs []rib.Change, alloc func(rib.Route) bool, held map[netip.Prefix]struct{}) ldp.RoutesChanged {
	var ev ldp.RoutesChanged
	for _, c := range cs {
		_, had := held[c.Prefix]
		switch {
		case !c.Deleted && (alloc == nil || alloc(c.Best)):
			ev.Updates = append(ev.Updates, c.Best)
			held[c.Prefix] = struct{}{}
		case had:
			ev.Deletes = append(ev.Deletes, c.Prefix)
			delete(held, c.Prefix)
		}
	}
	return ev
}

func (d *Daemon) post(ctx context.Context, ev ldp.Event) {
	if err := d.sp.Post(ctx, ev); err != nil && !errors.Is(err, context.Canceled) {
		d.log.Warn("event not delivered to the LDP speaker", "event", fmt.Sprintf("%T", ev), "err", err)
	}
}

// sameLabelPolicy tells whether two label configurations differ at most in
// their range, which a reload can move (the LIB renumbers the FECs outside
// the new one without a session reset).
func sameLabelPolicy(a, b config.Labels) bool {
	a.Min, a.Max = b.Min, b.Max
	return reflect.DeepEqual(a, b)
}

// Reload re-reads the configuration file and applies the difference. A bad
// file changes nothing and its error is returned.
func (d *Daemon) Reload(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case d.reload <- reply:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *Daemon) reloadConfig(ctx context.Context) error {
	refuse := func(err error) error {
		d.log.Error("configuration reload rejected; running configuration unchanged", "err", err)
		return err
	}
	cfg, err := config.Load(d.opt.ConfigPath)
	switch {
	case err != nil:
		return refuse(err)
	case cfg.RouterID != d.cfg.RouterID || !sameLabelPolicy(cfg.LDP.Labels, d.cfg.LDP.Labels):
		return refuse(errors.New("router-id and ldp.labels cannot change without a restart (ldp.labels.min and max can)"))
	case *cfg.LDP.Limits.UnroutedLabelsPerPeer != *d.cfg.LDP.Limits.UnroutedLabelsPerPeer:
		return refuse(errors.New("ldp.limits.unrouted-labels-per-peer cannot change without a restart (the other limits can)"))
	case !slices.Equal(cfg.LDP.AddressFamilies, d.cfg.LDP.AddressFamilies):
		return refuse(errors.New("ldp.address-families cannot change without a restart (the IPv6 sockets are opened at start)"))
	case cfg.Kernel.RouteProtocol != d.cfg.Kernel.RouteProtocol || cfg.Kernel.Ingress != d.cfg.Kernel.Ingress:
		return refuse(errors.New("kernel.route-protocol and kernel.ingress cannot change without a restart"))
	case cfg.Metrics != d.cfg.Metrics || cfg.Control != d.cfg.Control:
		return refuse(errors.New("metrics and control cannot change without a restart (their servers are set up at start)"))
	case cfg.LogFormat != d.cfg.LogFormat:
		return refuse(errors.New("log-format cannot change without a restart"))
	case (cfg.BGP == nil) != (d.cfg.BGP == nil):
		return refuse(errors.New("adding or removing the bgp section needs a restart"))
	case (len(cfg.VRFs) == 0) != (len(d.cfg.VRFs) == 0):
		return refuse(errors.New("adding the first VRF or removing the last needs a restart (it moves LDP's default label range)"))
	case cfg.VRFLabels != d.cfg.VRFLabels:
		return refuse(errors.New("vrf-labels cannot change without a restart"))
	}
	if err := engineConfig(cfg, d.log, d.zt.devices).Validate(); err != nil {
		return err
	}
	if cfg.LDP.Labels.Max > d.cfg.LDP.Labels.Max {
		if err := d.kfib.EnsurePlatformLabels(int(cfg.LDP.Labels.Max) + 1); err != nil {
			return refuse(fmt.Errorf("sizing the kernel's label table for ldp.labels.max %d: %w", cfg.LDP.Labels.Max, err))
		}
	}
	if d.bgp != nil {
		if err := d.bgp.Apply(ctx, cfg.BGP.Speaker()); err != nil {
			d.log.Error("configuration reload: bgp", "err", err)
			return err
		}
	}
	if cfg.LogLevel != d.cfg.LogLevel {
		d.setLogLevel(cfg.LogLevel, "reload")
	}
	d.cfg = cfg
	d.mem.Set(memoryConfig(cfg))
	d.applyVRFs(ctx, cfg)
	d.setZeroTierPlan(cfg)
	d.post(ctx, ldp.ConfigChanged{Config: engineConfig(cfg, d.log, d.zt.devices)})
	d.applyStatic(ctx)
	d.log.Info("configuration reloaded", "path", d.opt.ConfigPath)
	for _, w := range cfg.Warnings {
		d.log.Warn("configuration: " + w)
	}
	return nil
}

// call runs f on the daemon's goroutine, for the control API's large
// tables (the RIB, the desired forwarding), which are not published.
func (d *Daemon) call(ctx context.Context, f func()) error {
	done := make(chan struct{})
	select {
	case d.calls <- func() { f(); close(done) }:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// enableMPLSInput switches on MPLS input on the LDP interfaces present and on
// the loopback: the kernel drops labelled packets arriving elsewhere. An
// interface that appears later (a ZeroTier network joined after lsrd
// started) is enabled when it appears.
func (d *Daemon) enableMPLSInput(up map[string]rib.Interface) {
	want := append([]string{"lo"}, d.ldpDevices()...)
	for _, name := range want {
		i, ok := up[name]
		if !ok || d.mplsInput[i.Index] {
			continue
		}
		if err := d.kfib.EnableMPLSInput(name); err != nil {
			d.log.Warn("cannot enable MPLS input", "interface", name, "err", err)
			continue
		}
		d.mplsInput[i.Index] = true
	}
}

// bgpRoutes puts BGP's best paths into the RIB.
func (d *Daemon) bgpRoutes(ctx context.Context, us []bgp.Update) {
	var adds []rib.Route
	var dels []netip.Prefix
	for _, u := range us {
		if eor := u.EndOfRIB; eor != nil {
			d.bgpApplied.mark(eor)
			continue
		}
		if u.Withdrawn {
			dels = append(dels, u.Route.Prefix)
		} else {
			adds = append(adds, u.Route)
		}
	}
	if len(adds)+len(dels) > 0 {
		d.bgpApplied.last = time.Now()
	}
	d.routeChanges(ctx, d.rib.Apply(rib.SourceBGP, adds, dels))
}

// setLogLevel changes the log's level (the configuration checked name).
func (d *Daemon) setLogLevel(name, why string) {
	if d.opt.LogLevel == nil {
		d.log.Warn("log level fixed at start: not changed", "level", name)
		return
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(name)); err != nil {
		return
	}
	old := d.opt.LogLevel.Level()
	say := func() { d.log.Info("log level changed", "from", old.String(), "to", l.String(), "by", why) }
	if l > old {
		say() // while info still shows
	}
	d.opt.LogLevel.Set(l)
	if l <= old {
		say()
	}
}

// notify tells the service manager the daemon's state, when it listens.
func (d *Daemon) notify(state string) {
	if d.opt.Notify != nil {
		d.opt.Notify(state)
	}
}

// platformLabels is the size of the kernel's label table lsrd needs: room
// for LDP's labels and the VPN labels.
func platformLabels(cfg *config.Config) int {
	return int(max(cfg.LDP.Labels.Max, cfg.VRFLabels.Max)) + 1
}
