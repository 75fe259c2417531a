package bgp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/server"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/lsrd/lsrd/rib"
)

// connectRetry is how long GoBGP waits between dials to a neighbour. Its
// default (120 s, RFC 4271's suggestion) leaves an LSR without labels for two
// minutes when a neighbour starts just after us.
const connectRetry = 30

// Speaker is the embedded BGP speaker. Create it with New, run it with Start,
// reconfigure it with Apply and end it with Stop.
type Speaker struct {
	log      *slog.Logger
	onRoutes func([]Update)
	// localAS is cfg.AS, which Apply never changes, for the watcher to read.
	localAS uint32

	// mu serialises Start, Apply and Stop.
	mu      sync.Mutex
	cfg     Config
	server  *server.BgpServer
	started bool
	stopped bool
	// paths are the networks we originate.
	paths map[netip.Prefix]bool
	// assigned is set once the global policies are assigned.
	assigned bool
	// restarting is set when lsrd starts with its previous run's
	// forwarding in place (SetRestarting); applied once Start has added
	// the neighbours, after which a neighbour added by Apply is not
	// restarting.
	restarting, applied bool

	queue *queue[netip.Prefix, Update]
	// VPN routes: received ones go to onVPN through vpnIn; vpnOut keeps
	// the ones lsrd exports.
	onVPN        func([]VPNRoute)
	vpnIn        *queue[VPNKey, VPNRoute]
	vpnOut       *vpnExporter
	exportCancel context.CancelFunc
	exportDone   chan struct{}
	// sessions follows the neighbours' session states (flaps, endpoints).
	sessions sessions
	// merge is set once a neighbour carries labelled unicast.
	merge       atomic.Pointer[familyMerge]
	watchCancel context.CancelFunc
	drainCancel context.CancelFunc
	drainDone   chan struct{}
}

// New checks cfg and returns a speaker that is not yet running. onRoutes is
// called with batches of Updates from one goroutine owned by the speaker; it
// may block (updates accumulate meanwhile) but must not call the Speaker.
func New(cfg Config, log *slog.Logger, onRoutes func([]Update)) (*Speaker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if onRoutes == nil {
		onRoutes = func([]Update) {}
	}
	return &Speaker{
		log:      log,
		onRoutes: onRoutes,
		localAS:  cfg.AS,
		cfg:      cfg,
		paths:    map[netip.Prefix]bool{},
		queue:    newUpdateQueue(),
		onVPN:    func([]VPNRoute) {},
		vpnIn:    newVPNQueue(),
		vpnOut:   newVPNExporter(),
	}, nil
}

// Start runs the GoBGP server, adds the neighbours and networks and starts the
// best-path watcher. On error the speaker is stopped.
func (s *Speaker) Start(ctx context.Context) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("bgp: speaker already started")
	}
	s.started = true
	s.server = server.NewBgpServer(server.LoggerOption(slogAdapter{log: s.log.With("component", "gobgp")}))
	// GoBGP v3's Serve loop has no way to return: it stays blocked on the
	// server's idle channels after StopBgp. It is the one goroutine Stop cannot
	// end; everything it started (sessions, listeners) is ended by StopBgp.
	go s.server.Serve()
	defer func() {
		if err != nil {
			s.end(true)
		}
	}()

	if err := s.server.StartBgp(ctx, &api.StartBgpRequest{Global: &api.Global{
		Asn:        s.cfg.AS,
		RouterId:   s.cfg.RouterID.String(),
		ListenPort: s.cfg.listenPort(),
	}}); err != nil {
		return fmt.Errorf("bgp: starting AS %d router-id %s: %w", s.cfg.AS, s.cfg.RouterID, err)
	}

	drainCtx, drainCancel := context.WithCancel(context.Background())
	s.drainCancel = drainCancel
	s.drainDone = make(chan struct{})
	go func() {
		defer close(s.drainDone)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.vpnIn.run(drainCtx, s.onVPN)
		}()
		s.queue.run(drainCtx, s.onRoutes)
		wg.Wait()
	}()
	exportCtx, exportCancel := context.WithCancel(context.Background())
	s.exportCancel = exportCancel
	s.exportDone = make(chan struct{})
	as := s.cfg.AS // read here: Apply replaces s.cfg (the AS never changes)
	go func() {
		defer close(s.exportDone)
		s.vpnOut.run(exportCtx, s.server, as, s.log)
	}()

	if s.cfg.hasLabeled() {
		s.merge.Store(newFamilyMerge())
	}
	// The watcher starts before neighbours and networks so that no best path is
	// missed; Init also replays any that exist.
	if err := s.watch(); err != nil {
		return err
	}
	if err := s.setPolicies(ctx, Config{}, s.cfg); err != nil {
		return err
	}
	d := diffConfig(Config{}, s.cfg)
	err = s.applyDiff(ctx, d)
	s.applied = true
	return err
}

// OnVPN sets, before Start, what receives the best VPN paths (batches, from
// one goroutine of the speaker's; it may block but must not call the
// Speaker).
func (s *Speaker) OnVPN(f func([]VPNRoute)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onVPN = f
}

// SetRestarting tells the speaker, before Start, that lsrd starts with its
// previous run's forwarding in place: with graceful restart enabled, the
// neighbours' first sessions carry the Restart State bit (RFC 4724 section
// 4.1), so that helpers keep lsrd's routes until it has sent End-of-RIB,
// and GoBGP defers its own advertisements until the neighbours' End-of-RIB.
func (s *Speaker) SetRestarting() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.restarting = true
}

// watch (re)starts the best-path watcher. GoBGP replays the current best
// paths to a new watcher first, which the RIB takes as no change.
func (s *Speaker) watch() error {
	if s.watchCancel != nil {
		s.watchCancel()
	}
	watchCtx, watchCancel := context.WithCancel(context.Background())
	s.watchCancel = watchCancel
	if err := s.server.WatchEvent(watchCtx, &api.WatchEventRequest{Peer: &api.WatchEventRequest_Peer{}, Table: &api.WatchEventRequest_Table{
		// End-of-RIB markers come on the same watcher, in order after the
		// best paths the neighbour's updates before them produced.
		Filters: []*api.WatchEventRequest_Table_Filter{
			{Type: api.WatchEventRequest_Table_Filter_BEST, Init: true},
			{Type: api.WatchEventRequest_Table_Filter_EOR, Init: true},
		},
	}}, s.onEvent); err != nil {
		return fmt.Errorf("bgp: watching best paths: %w", err)
	}
	return nil
}

// setPolicies installs cfg's prefix lists as GoBGP's policy (the global
// import and export assignments are made the first time, from old being
// empty) and re-evaluates the routes of neighbours whose filtering changed.
func (s *Speaker) setPolicies(ctx context.Context, old, cfg Config) error {
	if err := s.server.SetPolicies(ctx, cfg.policies()); err != nil {
		return fmt.Errorf("bgp: prefix lists: %w", err)
	}
	if !s.assigned {
		for _, dir := range []api.PolicyDirection{api.PolicyDirection_IMPORT, api.PolicyDirection_EXPORT} {
			name := importPolicy
			if dir == api.PolicyDirection_EXPORT {
				name = exportPolicy
			}
			if err := s.server.AddPolicyAssignment(ctx, &api.AddPolicyAssignmentRequest{Assignment: &api.PolicyAssignment{
				Name: "global", Direction: dir, Policies: []*api.Policy{{Name: name}}, DefaultAction: api.RouteAction_ACCEPT,
			}}); err != nil {
				return fmt.Errorf("bgp: assigning policy %s: %w", name, err)
			}
		}
		s.assigned = true
	}
	var errs []error
	for _, a := range policyNeighbors(old, cfg) {
		s.log.Info("bgp: prefix lists changed, re-evaluating routes", "neighbor", a)
		if err := s.server.ResetPeer(ctx, &api.ResetPeerRequest{Address: a.String(), Soft: true,
			Direction: api.ResetPeerRequest_BOTH}); err != nil {
			errs = append(errs, fmt.Errorf("bgp: soft reset of neighbour %s: %w", a, err))
		}
	}
	return errors.Join(errs...)
}

// onEvent runs on GoBGP's watcher goroutine: it only converts and queues.
func (s *Speaker) onEvent(ev *api.WatchEventResponse) {
	if pe := ev.GetPeer(); pe != nil {
		if pe.GetType() == api.WatchEventResponse_PeerEvent_STATE {
			s.sessions.observe(pe.GetPeer())
		}
		return
	}
	t := ev.GetTable()
	if t == nil {
		return
	}
	merge := s.merge.Load()
	us := make([]Update, 0, len(t.Paths))
	var vpn []*api.Path
	var shared []rib.NextHop // the last next hops, for the routes that follow with the same
	for _, p := range t.Paths {
		if isVPN(p.GetFamily()) {
			vpn = append(vpn, p) // End-of-RIB markers too: in order with the paths
			continue
		}
		if eor, ok := pathToEndOfRIB(p); ok {
			us = append(us, Update{EndOfRIB: eor})
			continue
		}
		u, ok, err := pathToUpdate(p, s.localAS)
		if err != nil {
			s.log.Warn("bgp: ignoring path", "err", err)
			continue
		}
		// Paths come in runs with one next hop (100,000 behind one
		// router): their routes share one slice in the RIB, which never
		// changes a route's slices in place.
		if slices.Equal(u.Route.NextHops, shared) {
			u.Route.NextHops = shared
		} else if len(u.Route.NextHops) > 0 {
			shared = u.Route.NextHops
		}
		if ok && merge != nil && u.Route.Prefix.Addr().Is4() {
			u, ok = merge.put(u, p.GetFamily().GetSafi() == api.Family_SAFI_MPLS_LABEL)
		}
		if ok {
			us = append(us, u)
		}
	}
	s.queue.put(us)
	if len(vpn) > 0 {
		s.onVPNPaths(vpn)
	}
}

// Apply reconfigures a started speaker: neighbours and networks are added,
// removed or (for a changed neighbour) deleted and added again; unchanged
// sessions are not reset. AS, router id and listen port cannot change.
func (s *Speaker) Apply(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started || s.stopped {
		return errors.New("bgp: speaker not running")
	}
	if cfg.AS != s.cfg.AS {
		return fmt.Errorf("bgp.as: changing %d to %d needs a restart", s.cfg.AS, cfg.AS)
	}
	if cfg.RouterID != s.cfg.RouterID {
		return fmt.Errorf("bgp.router_id: changing %s to %s needs a restart", s.cfg.RouterID, cfg.RouterID)
	}
	if cfg.listenPort() != s.cfg.listenPort() {
		return fmt.Errorf("bgp.listen_port: changing %d to %d needs a restart", s.cfg.listenPort(), cfg.listenPort())
	}
	if cfg.hasLabeled() && s.merge.Load() == nil {
		// The unicast best paths learned so far must be known to the merge:
		// a new watcher replays them.
		s.merge.Store(newFamilyMerge())
		if err := s.watch(); err != nil {
			return err
		}
	}
	d := diffConfig(s.cfg, cfg)
	err := errors.Join(s.applyDiff(ctx, d), s.setPolicies(ctx, s.cfg, cfg))
	// What applied stays applied: remember the target so that a later Apply
	// retries only the differences that failed.
	s.cfg = s.actual(cfg, d, err)
	return err
}

// actual is the configuration in force after applyDiff: cfg when it
// succeeded, otherwise cfg with the lists rebuilt from the server.
func (s *Speaker) actual(cfg Config, d configDiff, err error) Config {
	if err == nil {
		return cfg
	}
	out := cfg
	out.Networks = out.Networks[:0:0]
	for p := range s.paths {
		out.Networks = append(out.Networks, p)
	}
	out.Neighbors = nil
	have := map[string]bool{}
	_ = s.server.ListPeer(context.Background(), &api.ListPeerRequest{}, func(p *api.Peer) {
		have[p.GetConf().GetNeighborAddress()] = true
	})
	all := append(append([]Neighbor{}, s.cfg.Neighbors...), cfg.Neighbors...)
	seen := map[netip.Addr]bool{}
	for i := len(all) - 1; i >= 0; i-- { // prefer the new configuration's entry
		n := all[i]
		a := n.Address.Unmap()
		if seen[a] || !have[a.String()] {
			continue
		}
		seen[a] = true
		out.Neighbors = append(out.Neighbors, n)
	}
	return out
}

// applyDiff changes the server; it goes on after an error and returns all.
func (s *Speaker) applyDiff(ctx context.Context, d configDiff) error {
	var errs []error
	for _, n := range append(append([]Neighbor{}, d.removeNeighbors...), d.changeNeighbors...) {
		if err := s.server.DeletePeer(ctx, &api.DeletePeerRequest{Address: n.Address.Unmap().String()}); err != nil {
			errs = append(errs, fmt.Errorf("bgp: removing neighbour %s: %w", n.Address, err))
		}
	}
	for _, n := range d.removeNeighbors {
		s.sessions.forget(n.Address)
	}
	for _, n := range append(append([]Neighbor{}, d.changeNeighbors...), d.addNeighbors...) {
		p := apiPeer(n)
		d.gr.apply(p, s.restarting && !s.applied)
		if err := s.server.AddPeer(ctx, &api.AddPeerRequest{Peer: p}); err != nil {
			errs = append(errs, fmt.Errorf("bgp: adding neighbour %s AS %d: %w", n.Address, n.RemoteAS, err))
		}
	}
	// Originated paths are withdrawn by content, not by the UUID AddPath
	// gave: GoBGP keys UUIDs by prefix alone, so the labelled path's UUID
	// replaces the unicast one's.
	for _, p := range d.removeNetworks {
		paths, err := localPaths(p)
		for _, path := range paths {
			if err != nil {
				break
			}
			err = s.server.DeletePath(ctx, &api.DeletePathRequest{TableType: api.TableType_GLOBAL, Family: path.Family, Path: path})
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("bgp: withdrawing network %s: %w", p, err))
			continue
		}
		delete(s.paths, p)
	}
	for _, p := range d.addNetworks {
		paths, err := localPaths(p)
		for _, path := range paths {
			if err != nil {
				break
			}
			_, err = s.server.AddPath(ctx, &api.AddPathRequest{TableType: api.TableType_GLOBAL, Path: path})
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("bgp: originating network %s: %w", p, err))
			continue
		}
		s.paths[p] = true
	}
	return errors.Join(errs...)
}

// apiPeer is GoBGP's configuration of a neighbour.
func apiPeer(n Neighbor) *api.Peer {
	p := &api.Peer{
		Conf: &api.PeerConf{
			NeighborAddress: n.Address.Unmap().String(),
			PeerAsn:         n.RemoteAS,
			AuthPassword:    n.Password,
		},
		Transport: &api.Transport{PassiveMode: n.Passive},
		Timers:    &api.Timers{Config: &api.TimersConfig{ConnectRetry: connectRetry}},
	}
	if n.LocalAddress.IsValid() {
		p.Transport.LocalAddress = n.LocalAddress.Unmap().String()
	}
	p.Transport.BindInterface = n.BindInterface
	if n.MultihopTTL != 0 {
		p.EbgpMultihop = &api.EbgpMultihop{Enabled: true, MultihopTtl: uint32(n.MultihopTTL)}
	}
	if n.TTLSecurityHops != 0 {
		p.TtlSecurity = &api.TtlSecurity{Enabled: true, TtlMin: 256 - uint32(n.TTLSecurityHops)}
	}
	for _, f := range n.families() {
		p.AfiSafis = append(p.AfiSafis, &api.AfiSafi{Config: &api.AfiSafiConfig{Family: apiFamily(f), Enabled: true}})
	}
	return p
}

func apiFamily(f string) *api.Family {
	switch f {
	case FamilyIPv6Unicast:
		return &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}
	case FamilyIPv4LabeledUnicast:
		return &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_MPLS_LABEL}
	case FamilyIPv4VPN:
		return &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_MPLS_VPN}
	case FamilyIPv6VPN:
		return &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_MPLS_VPN}
	case FamilyRouteTarget:
		return &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_ROUTE_TARGET_CONSTRAINTS}
	}
	return &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}
}

// localPaths are the paths originating network p: IPv4 unicast and IPv4
// labelled unicast with implicit null (we are the egress: RFC 8277 section
// 2), or IPv6 unicast. A family no neighbour carries is never advertised.
func localPaths(p netip.Prefix) ([]*api.Path, error) {
	path, err := localPath(p)
	if err != nil || !p.Addr().Is4() {
		return []*api.Path{path}, err
	}
	nlri, err := anypb.New(&api.LabeledIPAddressPrefix{Labels: []uint32{implicitNull}, Prefix: p.Addr().String(), PrefixLen: uint32(p.Bits())})
	if err != nil {
		return nil, err
	}
	fam := apiFamily(FamilyIPv4LabeledUnicast)
	mp, err := anypb.New(&api.MpReachNLRIAttribute{Family: fam, NextHops: []string{"0.0.0.0"}, Nlris: []*anypb.Any{nlri}})
	if err != nil {
		return nil, err
	}
	return []*api.Path{path, {Family: fam, Nlri: nlri, Pattrs: []*anypb.Any{path.Pattrs[0], mp}}}, nil
}

// localPath is an originated network with next hop self: GoBGP replaces the
// unspecified next hop with the session's local address when it advertises.
func localPath(p netip.Prefix) (*api.Path, error) {
	nlri, err := anypb.New(&api.IPAddressPrefix{Prefix: p.Addr().String(), PrefixLen: uint32(p.Bits())})
	if err != nil {
		return nil, err
	}
	origin, err := anypb.New(&api.OriginAttribute{Origin: 0}) // IGP
	if err != nil {
		return nil, err
	}
	if p.Addr().Is4() {
		nh, err := anypb.New(&api.NextHopAttribute{NextHop: "0.0.0.0"})
		if err != nil {
			return nil, err
		}
		return &api.Path{Family: apiFamily(FamilyIPv4Unicast), Nlri: nlri, Pattrs: []*anypb.Any{origin, nh}}, nil
	}
	fam := apiFamily(FamilyIPv6Unicast)
	mp, err := anypb.New(&api.MpReachNLRIAttribute{Family: fam, NextHops: []string{"::"}, Nlris: []*anypb.Any{nlri}})
	if err != nil {
		return nil, err
	}
	return &api.Path{Family: fam, Nlri: nlri, Pattrs: []*anypb.Any{origin, mp}}, nil
}

// Stop ends the speaker: the watcher first (GoBGP queues events for a watcher
// without bound, so it must not outlive the sessions' last events unread),
// then the server (sessions closed with a Cease), then the delivery
// goroutine, which Stop waits for. onRoutes is not called after Stop returns.
func (s *Speaker) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.end(true)
}

// Leave ends the speaker when lsrd stops for a restart that keeps its
// forwarding (kernel.keep-routes-on-shutdown). With graceful restart the
// neighbours must see the sessions drop without a NOTIFICATION: RFC 4724
// helpers keep a restarting speaker's routes only then, and GoBGP's
// StopBgp sends Cease/Peer De-configured, which GoBGP (and RFC 8538)
// treat as a hard reset. So Leave stops the delivery of routes and leaves
// GoBGP's sessions to be closed by the kernel when the process exits, as a
// crash would; the neighbours then keep lsrd's routes, stale, until it is
// back and has sent End-of-RIB. Without graceful restart it is Stop.
func (s *Speaker) Leave() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.end(!s.cfg.GracefulRestart.Enabled)
}

// end ends a started speaker once, with s.mu held: the watcher, then
// (cease) GoBGP's server with its sessions closed by a Cease, then the
// delivery goroutine.
func (s *Speaker) end(cease bool) {
	if !s.started || s.stopped {
		return
	}
	s.stopped = true
	if s.watchCancel != nil {
		s.watchCancel()
	}
	if s.exportCancel != nil {
		s.exportCancel()
		<-s.exportDone
	}
	if cease {
		if err := s.server.StopBgp(context.Background(), &api.StopBgpRequest{}); err != nil {
			s.log.Warn("bgp: stopping", "err", err)
		}
	} else {
		s.log.Info("bgp: leaving the sessions to close with the process, without a NOTIFICATION, so that graceful restart helpers keep lsrd's routes")
	}
	if s.drainCancel != nil {
		s.drainCancel()
		<-s.drainDone
	}
}
