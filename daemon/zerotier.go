package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/config"
	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/ldp"
	"github.com/lsrd/lsrd/lspping"
	"github.com/lsrd/lsrd/zerotier"
)

// ztState is the daemon's view of the ZeroTier underlay. A poller goroutine
// asks ZeroTier One's service and hands snapshots to the daemon's loop,
// which alone decides which device LDP runs on for a network ID.
type ztState struct {
	plan  atomic.Pointer[ztPlan] // what to poll; nil when ZeroTier is not watched
	snaps chan ztSnapshot
	// planMu guards planCh, closed when the plan changes: the poller and
	// the prober wait on it rather than wake every second to look (a
	// router without ZeroTier woke twice a second for nothing).
	planMu sync.Mutex
	planCh chan struct{}

	// Owned by the daemon's goroutine.
	devices  map[string]string // LDP interface as configured (network ID) -> device in use
	addrs    map[string][]string
	joined   map[string]time.Time        // device -> since when it holds 224.0.0.2 in the kernel
	findings map[string]zerotier.Finding // last finding per network and check, for logging changes
	last     ztSnapshot                  // the last poll, graded again after an on-demand probe

	mu     sync.Mutex
	view   api.ZeroTierView
	probes map[string][]zerotier.Probe // by network ID, from probeZeroTier
}

// ztPlan is what the poller asks, taken from the running configuration.
type ztPlan struct {
	client   *zerotier.Client
	ids      []uint64
	interval time.Duration
	probe    time.Duration // between rounds of data-plane probes
}

// ztSnapshot is one poll's answers.
type ztSnapshot struct {
	at     time.Time
	status *zerotier.Status
	err    error // the service could not be asked at all
	all    []zerotier.Network
	byID   map[uint64]*zerotier.Network
	idErrs map[uint64]error
}

func (d *Daemon) initZeroTier() {
	d.zt.snaps = make(chan ztSnapshot, 1)
	d.zt.devices = map[string]string{}
	d.zt.addrs = map[string][]string{}
	d.zt.joined = map[string]time.Time{}
	d.zt.findings = map[string]zerotier.Finding{}
	d.zt.view = api.ZeroTierView{Networks: []api.ZeroTierNetworkView{}}
	d.setZeroTierPlan(d.cfg)
}

// planChanged returns a channel closed at the next change of the plan.
func (z *ztState) planChanged() <-chan struct{} {
	z.planMu.Lock()
	defer z.planMu.Unlock()
	if z.planCh == nil {
		z.planCh = make(chan struct{})
	}
	return z.planCh
}

func (z *ztState) setPlan(p *ztPlan) {
	z.plan.Store(p)
	z.planMu.Lock()
	defer z.planMu.Unlock()
	if z.planCh != nil {
		close(z.planCh)
		z.planCh = nil
	}
}

func (d *Daemon) setZeroTierPlan(cfg *config.Config) {
	z := cfg.ZeroTier
	if z == nil {
		d.zt.setPlan(nil)
		return
	}
	p := &ztPlan{client: zerotier.NewClient(z.API, z.AuthToken), interval: z.PollInterval.Std(), probe: z.DataplaneInterval.Std()}
	for _, i := range cfg.LDP.Interfaces {
		if id, ok := i.NetworkID(); ok {
			p.ids = append(p.ids, id)
		}
	}
	d.zt.setPlan(p)
}

// ldpDevice returns the device LDP runs on for a configured interface: the
// name itself, or for a network ID the device ZeroTier One reported while
// the network was OK ("" before that).
func ldpDevice(i config.Interface, devices map[string]string) string {
	if _, ok := i.NetworkID(); ok {
		return devices[i.Name]
	}
	return i.Name
}

// ldpDevices returns the devices LDP runs on now.
func (d *Daemon) ldpDevices() []string {
	var out []string
	for _, i := range d.cfg.LDP.Interfaces {
		if dev := ldpDevice(i, d.zt.devices); dev != "" {
			out = append(out, dev)
		}
	}
	return out
}

// watchZeroTier polls the service until ctx ends and offers each snapshot
// to the daemon's loop (only the latest waits). A new plan (a
// configuration reload) is polled at once.
func (d *Daemon) watchZeroTier(ctx context.Context) {
	for {
		changed := d.zt.planChanged()
		var wait <-chan time.Time // none: wait for a plan
		if p := d.zt.plan.Load(); p != nil {
			s := poll(ctx, p)
			select {
			case <-d.zt.snaps: // drop the one not yet taken
			default:
			}
			d.zt.snaps <- s
			wait = time.After(p.interval)
		}
		select {
		case <-ctx.Done():
			return
		case <-wait:
		case <-changed:
		}
	}
}

func poll(ctx context.Context, p *ztPlan) ztSnapshot {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s := ztSnapshot{at: time.Now(), byID: map[uint64]*zerotier.Network{}, idErrs: map[uint64]error{}}
	if s.status, s.err = p.client.Status(ctx); s.err != nil {
		return s
	}
	if s.all, s.err = p.client.Networks(ctx); s.err != nil {
		return s
	}
	for _, id := range p.ids {
		n, err := p.client.Network(ctx, id)
		if errors.Is(err, zerotier.ErrNetworkUnknown) {
			s.idErrs[id] = err
			continue
		}
		if err != nil {
			// The service itself failed (restarting?): not a verdict on
			// the network, so nothing may change on its account.
			s.err = err
			return s
		}
		s.byID[id] = n
	}
	return s
}

// applyZeroTier runs on the daemon's goroutine: it resolves network IDs to
// devices, tells LDP when that changes, and refreshes the health view.
func (d *Daemon) applyZeroTier(ctx context.Context, s ztSnapshot) {
	if d.cfg.ZeroTier == nil {
		return
	}
	d.zt.last = s
	d.zt.mu.Lock()
	probes := d.zt.probes
	d.zt.mu.Unlock()
	view, devices, findings := ztResolve(d.cfg, s, d.ztLocal(s), probes)
	for _, f := range findings {
		d.ztFinding(f.network, f.Finding)
	}
	if s.err != nil {
		// The devices in use stay as they were: a restart of ZeroTier One
		// or a rotated token must not take LDP down.
		d.zt.mu.Lock()
		view.Networks = d.zt.view.Networks
		d.zt.view = view
		d.zt.mu.Unlock()
		return
	}
	for _, n := range view.Networks {
		// Only while OK: a network that is down has no addresses for a
		// while, which is its status's news, not a readdressing.
		if n.Status == zerotier.StatusOK {
			d.ztAddresses(ctx, n.ID, n.Addresses)
		}
	}
	d.ztDevicesChanged(ctx, devices)
	d.zt.mu.Lock()
	d.zt.view = view
	d.zt.mu.Unlock()
}

// ztLocal says, per ZeroTier device, what the kernel holds: whether LDP
// runs there yet and how long 224.0.0.2's group has been joined.
func (d *Daemon) ztLocal(s ztSnapshot) map[string]zerotier.Local {
	if s.err != nil {
		return nil
	}
	groups, err := zerotier.KernelMulticastAll()
	if err != nil {
		d.log.Warn("zerotier: reading the kernel's multicast groups", "err", err)
	}
	running := d.ldpDevices()
	local := map[string]zerotier.Local{}
	seen := map[string]bool{}
	for _, n := range s.all {
		dev := n.PortDeviceName
		if dev == "" {
			continue
		}
		seen[dev] = true
		var l zerotier.Local
		if slices.Contains(groups[dev], zerotier.LDPMulticastMAC) {
			since, ok := d.zt.joined[dev]
			if !ok {
				since = s.at
				d.zt.joined[dev] = since
			}
			l.JoinedFor = max(s.at.Sub(since), time.Nanosecond)
		} else {
			delete(d.zt.joined, dev)
		}
		l.Starting = !slices.Contains(running, dev)
		local[dev] = l
	}
	for dev := range d.zt.joined {
		if !seen[dev] {
			delete(d.zt.joined, dev)
		}
	}
	return local
}

// networkFinding is a finding and the network it is about ("" for the node).
type networkFinding struct {
	network string
	zerotier.Finding
}

// ztResolve turns one poll into the view of the underlay, the devices LDP
// should run on for the interfaces given as network IDs (only networks that
// are OK and have a device), and every finding. It has no side effects.
func ztResolve(cfg *config.Config, s ztSnapshot, local map[string]zerotier.Local, probes map[string][]zerotier.Probe) (api.ZeroTierView, map[string]string, []networkFinding) {
	z := cfg.ZeroTier
	expect := z.Expect()
	view := api.ZeroTierView{Enabled: true, API: z.API, AuthToken: z.AuthToken, Updated: s.at, Networks: []api.ZeroTierNetworkView{}}
	var fs []networkFinding
	if s.err != nil {
		view.Error = s.err.Error()
		fs = append(fs, networkFinding{"", zerotier.Finding{Check: zerotier.CheckService, Severity: zerotier.SeverityError, Message: s.err.Error()}})
		return view, nil, fs
	}
	fs = append(fs, networkFinding{"", zerotier.Finding{Check: zerotier.CheckService, Severity: zerotier.SeverityOK, Message: "ZeroTier One answers at " + z.API}})
	view.Reachable = true
	pf := zerotier.CheckPlanetStatus(s.status, expect)
	fs = append(fs, networkFinding{"", pf})
	view.Planet = &pf
	view.Node = &api.ZeroTierNode{Address: s.status.Address, Version: s.status.Version, Online: s.status.Online,
		PlanetWorldID: s.status.PlanetWorldID, PlanetWorldTimestamp: s.status.PlanetWorldTimestamp,
		PlanetExpected: pf.Severity == zerotier.SeverityOK}

	devices := map[string]string{}
	for _, i := range cfg.LDP.Interfaces {
		var n *zerotier.Network
		nv := api.ZeroTierNetworkView{ConfiguredAs: i.Name, Findings: []zerotier.Finding{}}
		id, byID := i.NetworkID()
		if byID {
			nv.ID = fmt.Sprintf("%016x", id)
			n = s.byID[id]
			if err := s.idErrs[id]; err != nil {
				nv.Error = err.Error()
				nv.Findings = append(nv.Findings, zerotier.Finding{Check: zerotier.CheckStatus, Severity: zerotier.SeverityError, Message: err.Error()})
			}
		} else {
			for k := range s.all {
				if s.all[k].PortDeviceName == i.Name {
					n = &s.all[k]
				}
			}
			if n == nil {
				continue // not a ZeroTier device
			}
			nv.ID = n.ID
		}
		if n != nil {
			nv.Name, nv.Status, nv.Device, nv.MTU = n.Name, n.Status, n.PortDeviceName, n.MTU
			nv.Addresses = slices.Sorted(slices.Values(n.AssignedAddresses))
			nv.MulticastLDPSubscribed = zerotier.MulticastSubscribed(n, zerotier.LDPMulticastMAC)
			nv.MulticastLDPJoined = local[n.PortDeviceName].JoinedFor > 0
			for _, f := range zerotier.CheckNetwork(n, expect, local[n.PortDeviceName]) {
				nv.Findings = append(nv.Findings, f)
				if f.Check == zerotier.CheckMTU {
					nv.MTUHeadroomOK = f.Severity == zerotier.SeverityOK
				}
			}
			if byID && n.Status == zerotier.StatusOK && n.PortDeviceName != "" {
				devices[i.Name] = n.PortDeviceName
			}
			if n.Status == zerotier.StatusOK {
				nv.Probes = probes[n.ID]
				if f, ok := zerotier.CheckProbes(n.ID, nv.Probes); ok {
					nv.Findings = append(nv.Findings, f)
				}
			}
		}
		nv.LDPInterface = i.Name
		if byID {
			nv.LDPInterface = devices[i.Name]
		}
		for _, f := range nv.Findings {
			fs = append(fs, networkFinding{nv.ID, f})
		}
		view.Networks = append(view.Networks, nv)
	}
	return view, devices, fs
}

// ztDevicesChanged tells LDP which devices it runs on for network IDs when
// that changed: a network reaching OK, going down, or renamed.
func (d *Daemon) ztDevicesChanged(ctx context.Context, devices map[string]string) {
	changed := false
	for name, dev := range devices {
		switch old := d.zt.devices[name]; {
		case old == "":
			d.log.Info("zerotier: network is OK: LDP runs on its device", "network", name, "device", dev)
			changed = true
		case old != dev:
			d.log.Warn("zerotier: network's device renamed: LDP moves to the new name", "network", name, "old", old, "device", dev)
			changed = true
		}
	}
	for name, old := range d.zt.devices {
		if _, ok := devices[name]; !ok {
			d.log.Warn("zerotier: network is down or gone: LDP stops on its device", "network", name, "device", old)
			changed = true
		}
	}
	if !changed {
		return
	}
	d.zt.devices = devices
	d.post(ctx, ldp.ConfigChanged{Config: engineConfig(d.cfg, d.log, d.zt.devices)})
	if err := d.syncKernel(ctx); err != nil {
		d.log.Warn("reading the kernel's state", "err", err)
	}
}

// ztAddresses logs a network's readdressing and has the kernel re-read: LDP
// learns addresses from the kernel, which ZeroTier One updates.
func (d *Daemon) ztAddresses(ctx context.Context, id string, addrs []string) {
	old, seen := d.zt.addrs[id]
	d.zt.addrs[id] = addrs
	if !seen || slices.Equal(old, addrs) {
		return
	}
	if len(old) == 0 {
		d.log.Info("zerotier: network's addresses assigned", "network", id, "addresses", strings.Join(addrs, ","))
	} else {
		d.log.Warn("zerotier: network's assigned addresses changed", "network", id, "old", strings.Join(old, ","), "new", strings.Join(addrs, ","))
	}
	if err := d.syncKernel(ctx); err != nil {
		d.log.Warn("reading the kernel's state", "err", err)
	}
}

// ztFinding logs a health finding when it changes: a warning or error when
// it appears, an info when it is fine again.
func (d *Daemon) ztFinding(network string, f zerotier.Finding) {
	key := network + "/" + f.Check
	old, seen := d.zt.findings[key]
	d.zt.findings[key] = f
	if seen && old.Severity == f.Severity && old.Message == f.Message {
		return
	}
	switch {
	case f.Severity == zerotier.SeverityError:
		d.log.Error("zerotier: "+f.Message, "check", f.Check, "network", network)
	case f.Severity == zerotier.SeverityWarning:
		d.log.Warn("zerotier: "+f.Message, "check", f.Check, "network", network)
	case seen && old.Severity != zerotier.SeverityOK:
		d.log.Info("zerotier: "+f.Message, "check", f.Check, "network", network)
	}
}

// ZeroTierView returns the latest view of the underlay; safe from any
// goroutine (the control API and the metrics collector read it).
func (d *Daemon) ZeroTierView() api.ZeroTierView {
	d.zt.mu.Lock()
	defer d.zt.mu.Unlock()
	v := d.zt.view
	v.Networks = slices.Clone(v.Networks)
	if !v.Enabled && d.zt.plan.Load() != nil {
		v.Enabled = true // not polled yet
	}
	return v
}

// direct runs f at once: for state that guards itself.
func direct(_ context.Context, f func()) error {
	f()
	return nil
}

// probeZeroTier LSP-pings, every data-plane interval, each LDP neighbour
// over each ZeroTier network LDP runs on: once as plain IP, once under the
// IPv4 Explicit NULL label with TTL 1. The daemon's loop grades the results
// with its next poll (zerotier.CheckProbes).
func (d *Daemon) probeZeroTier(ctx context.Context) {
	for {
		changed := d.zt.planChanged()
		p := d.zt.plan.Load()
		var wait <-chan time.Time // none: wait for a plan
		if p != nil {
			wait = time.After(p.probe)
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
			continue // a round one interval after the new plan
		case <-wait:
		}
		d.ztProbeRound(ctx, min(p.probe/2, 2*time.Second))
	}
}

// ztProbeRound probes every target at once (at most 16 at a time), each
// probe waiting up to timeout, and keeps the results for the next grading.
func (d *Daemon) ztProbeRound(ctx context.Context, timeout time.Duration) {
	if d.oam == nil {
		return
	}
	targets := d.ztProbeTargets()
	results := make([]zerotier.Probe, len(targets))
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i, tg := range targets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			path := api.LSPPath{NextHop: tg.addr, Interface: tg.device}
			fecOf := netip.PrefixFrom(tg.nbr, 32)
			plain := d.lspProbe(ctx, fecOf, path, 1, false, timeout)
			path.Labels = []uint32{uint32(fib.LabelIPv4ExplicitNull)}
			labelled := d.lspProbe(ctx, fecOf, path, 1, false, timeout)
			results[i] = zerotier.Probe{Neighbor: tg.nbr.String(), Address: tg.addr.String(),
				IP: plain.Replied && plain.ReturnCode == lspping.RCEgress, Labelled: labelled.Replied && labelled.ReturnCode == lspping.RCEgress}
		}()
	}
	wg.Wait()
	probes := map[string][]zerotier.Probe{}
	for i, tg := range targets {
		probes[tg.network] = append(probes[tg.network], results[i])
	}
	d.zt.mu.Lock()
	d.zt.probes = probes
	d.zt.mu.Unlock()
}

// ztProbeNow runs a probe round and grades it at once, with the last poll's
// answers, for "lsrctl show zerotier".
func (d *Daemon) ztProbeNow(ctx context.Context) error {
	d.ztProbeRound(ctx, time.Second)
	return d.call(ctx, func() {
		if !d.zt.last.at.IsZero() {
			d.applyZeroTier(ctx, d.zt.last)
		}
	})
}

// ztProbeTarget is an LDP neighbour on a ZeroTier network.
type ztProbeTarget struct {
	network, device string
	nbr, addr       netip.Addr
}

// ztProbeTargets lists the operational LDP neighbours with a link
// adjacency on a ZeroTier device LDP runs on, with their address there.
func (d *Daemon) ztProbeTargets() []ztProbeTarget {
	nets := map[string]string{} // device -> network ID
	for _, n := range d.ZeroTierView().Networks {
		if n.LDPInterface != "" && n.Status == zerotier.StatusOK {
			nets[n.LDPInterface] = n.ID
		}
	}
	var out []ztProbeTarget
	for _, n := range d.freshLDP().Neighbors {
		if n.State != "OPERATIONAL" || !n.LSRID.Is4() {
			continue
		}
		for _, a := range n.Adjacencies {
			if id, ok := nets[a.Interface]; ok && !a.Targeted && a.Source.Is4() {
				out = append(out, ztProbeTarget{network: id, device: a.Interface, nbr: n.LSRID, addr: a.Source})
			}
		}
	}
	return out
}
