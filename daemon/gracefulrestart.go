package daemon

import (
	"context"
	"errors"
	"github.com/lsrd/lsrd/ldp/fec"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/lsrd/lsrd/config"
	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/ldp"
	"github.com/lsrd/lsrd/ldp/labelstate"
)

// LDP graceful restart (RFC 3478) at the daemon's edge: the file that
// keeps lsrd's local labels for its next start, the decision whether this
// start continues the previous run's forwarding, and the signal that LDP
// has recovered (for the kernel layer's sweep of what the previous run left
// and nothing refreshed). The protocol is the engine's (ldp/gracefulrestart.go),
// the stale labels the LIB's; only the file I/O lives here.

// saveEvery throttles the label state file: at most one write a second
// while labels change, one at a clean shutdown.
const saveEvery = time.Second

type grState struct {
	on        bool // ldp.graceful-restart.enabled at start
	path      string
	bootID    string
	preserved bool         // this start continues the previous run's forwarding
	peers     []netip.Addr // the previous run's GR neighbours
	// converged is closed once LDP has recovered: at LDPRecovered after a
	// start with preserved forwarding, at once otherwise.
	converged chan struct{}
	close     sync.Once

	// What was last saved (the saver's goroutine only).
	savedGen   uint64
	savedPeers []netip.Addr
	saved      bool
}

// loadGR reads the previous run's label state when graceful restart is on,
// and returns the seed of the LIB when the kernel still forwards with those
// labels: same boot (kernel routes do not survive a reboot), same router ID,
// and the previous run left its routes (it crashed, or stopped with
// kernel.keep-routes-on-shutdown). Anything else starts fresh.
func loadGR(cfg *config.Config, log *slog.Logger) (*grState, map[fec.FEC]fib.Label) {
	g := &grState{on: cfg.LDP.GracefulRestart.Enabled, path: cfg.LDP.GracefulRestart.StateFile, converged: make(chan struct{})}
	fresh := func(why string, attrs ...any) (*grState, map[fec.FEC]fib.Label) {
		if why != "" {
			log.Info("ldp graceful restart: starting with fresh labels", append([]any{"why", why, "state-file", g.path}, attrs...)...)
		}
		g.close.Do(func() { close(g.converged) })
		return g, nil
	}
	if !g.on {
		return fresh("")
	}
	id, err := labelstate.BootID()
	if err != nil {
		log.Warn("ldp graceful restart: no boot id, labels are not saved", "err", err)
		g.on = false
		return fresh("")
	}
	g.bootID = id
	st, err := labelstate.Load(g.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fresh("no state file")
	case err != nil:
		return fresh("state file unreadable", "err", err)
	case st.BootID != id:
		return fresh("the kernel rebooted since it was saved")
	case st.RouterID != cfg.RouterID:
		return fresh("saved for another router ID", "saved", st.RouterID)
	case !st.RoutesKept:
		return fresh("the previous run removed its kernel routes (kernel.keep-routes-on-shutdown is off)")
	}
	g.preserved, g.peers = true, st.Peers
	log.Info("ldp graceful restart: forwarding preserved, reusing the previous run's labels",
		"labels", len(st.Labels), "neighbours", len(st.Peers), "saved-at", st.SavedAt)
	return g, st.Seed()
}

// LDPConverged is closed once LDP has recovered from lsrd's own restart
// (ldp.LDPRecovered: every graceful restart neighbour of the previous run
// re-advertised its labels, or ldp.graceful-restart.recovery-time passed),
// and at once when this start did not continue a previous run's
// forwarding. It is the hook for the kernel layer's sweep of routes the
// previous run left: until then they may still carry traffic.
func (d *Daemon) LDPConverged() <-chan struct{} { return d.gr.converged }

// startGR runs when the speaker is up: a start with preserved forwarding
// tells the engine, before any interface or route reaches it.
func (d *Daemon) startGR(ctx context.Context) {
	if d.gr.preserved {
		d.post(ctx, ldp.ForwardingPreserved{Peers: d.gr.peers})
	}
}

// ldpRecovered runs on the speaker's goroutine (speaker.Options.OnRecovered).
func (d *Daemon) ldpRecovered(r ldp.LDPRecovered) {
	if r.Expired {
		d.log.Warn("ldp graceful restart: recovery time over before every neighbour came back", "missing", r.Missing)
	} else {
		d.log.Info("ldp graceful restart: recovered")
	}
	d.gr.close.Do(func() { close(d.gr.converged) })
}

// saveLabels writes the label state file every saveEvery while labels or
// GR neighbours change, until ctx ends.
func (d *Daemon) saveLabels(ctx context.Context) {
	if !d.gr.on {
		return
	}
	t := time.NewTicker(saveEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var (
			gen    uint64
			labels map[fec.FEC]fib.Label
			peers  []netip.Addr
		)
		err := d.sp.Call(ctx, func() {
			gen, peers = d.lib.LocalGeneration(), d.eng.GRPeers()
			if !d.gr.saved || gen != d.gr.savedGen || !slices.Equal(peers, d.gr.savedPeers) {
				labels = d.lib.LocalLabels()
			}
		})
		if err != nil || labels == nil {
			continue
		}
		// While lsrd runs its routes are in the kernel: a crash leaves them.
		d.writeLabels(labels, peers, gen, true)
	}
}

// saveLabelsAtExit writes the state file once more after the speaker
// stopped (nothing else touches the LIB and the engine any more).
func (d *Daemon) saveLabelsAtExit() {
	if d.gr.on {
		d.writeLabels(d.lib.LocalLabels(), d.eng.GRPeers(), d.lib.LocalGeneration(), d.cfg.Kernel.KeepRoutesOnShutdown)
	}
}

func (d *Daemon) writeLabels(labels map[fec.FEC]fib.Label, peers []netip.Addr, gen uint64, routesKept bool) {
	st := labelstate.New(d.gr.bootID, d.cfg.RouterID, time.Now(), routesKept, labels, peers)
	if err := labelstate.Save(d.gr.path, st); err != nil {
		d.log.Warn("ldp graceful restart: labels not saved", "err", err)
		return
	}
	d.gr.saved, d.gr.savedGen, d.gr.savedPeers = true, gen, peers
}
