package daemon

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/lsrd/lsrd/bgp"
	"github.com/lsrd/lsrd/config"
	"github.com/lsrd/lsrd/ldp/wire"
)

// restart is the parent's side of the kernel layer's restart contract
// (docs/DESIGN.md, "Restart"). When a start adopted a previous run's kernel
// routes, the kernel layer keeps them, stale, until the parent declares that
// every input which can bring routes back has done so; then it sweeps what
// nobody wants. restart decides when: every input converged, or the
// recovery timer (kernel.restart-sweep-after) ran out first.
//
// It is judged on the parent's goroutine, once a second while it lasts.
type restart struct {
	start    time.Time
	deadline time.Time
	inputs   []restartInput
	waiting  string // what the last check waited for, to log changes only
}

// restartInput is one input that can bring routes back after a restart.
// converged reports whether it has re-published everything it will, and
// if not, what it still waits for (for the log).
type restartInput struct {
	name      string
	converged func(now time.Time) (done bool, waiting string)
}

// check returns the reason to sweep now, or "" to wait.
func (r *restart) check(now time.Time) string {
	var waiting []string
	for _, in := range r.inputs {
		if done, why := in.converged(now); !done {
			waiting = append(waiting, in.name+": "+why)
		}
	}
	if len(waiting) == 0 {
		names := make([]string, len(r.inputs))
		for i, in := range r.inputs {
			names[i] = in.name
		}
		return "converged: " + strings.Join(names, ", ")
	}
	r.waiting = strings.Join(waiting, "; ")
	if !now.Before(r.deadline) {
		return fmt.Sprintf("recovery timer (%s) expired, still waiting for %s", r.deadline.Sub(r.start), r.waiting)
	}
	return ""
}

// ldpRecoveryRule judges, from what the LDP speaker publishes (ldpView, taken
// on the speaker's goroutine right after it handed its forwarding changes
// to the parent), whether LDP has re-advertised what it will after a
// restart. start is when this lsrd started.
//
// LDP graceful restart (RFC 3478) is judged before it (startRestart): its
// LDPRecovered says every neighbour of the previous run that negotiated it
// sent End-of-LIB on its new session; this rule then covers every
// neighbour, with graceful restart or not. Whatever the rule, it must only
// say done once the labels it covers were handed to the parent (the view
// is published after the forwarding changes, so anything the view shows
// is there).
type ldpRecoveryRule func(v *ldpView, start, now time.Time) (done bool, waiting string)

// ldpSettle is how long a session must have been OPERATIONAL for a peer
// that sent no End-of-LIB (RFC 5919) to count as having sent its labels: a
// session's initial advertisement is a burst right after it comes up.
const ldpSettle = 5 * time.Second

// endOfLIBRecovery is LDP's first recovery rule: no neighbour is
// expected before a hello hold time has passed since the start (every live
// neighbour has said hello by then); after it, every neighbour known must
// have its session OPERATIONAL and have sent End-of-LIB, or have been
// OPERATIONAL for ldpSettle; configured targeted neighbours must be known.
func endOfLIBRecovery(cfg *config.Config) ldpRecoveryRule {
	return func(v *ldpView, start, now time.Time) (bool, string) {
		if len(cfg.LDP.Interfaces)+len(cfg.LDP.Targeted) == 0 {
			return true, ""
		}
		if hold := cfg.LDP.Timers.HelloHold.Std(); now.Sub(start) < hold {
			return false, fmt.Sprintf("discovering neighbours for a hello hold time (%s)", hold)
		}
		eol := map[netip.Addr]bool{}
		for _, p := range v.Counters.Peers {
			if p.NotificationsReceived[wire.StatusEndOfLIB] > 0 {
				eol[p.LSRID] = true
			}
		}
		known := map[netip.Addr]bool{}
		var waiting []string
		for _, n := range v.Neighbors {
			known[n.Transport] = true
			switch {
			case n.State != "OPERATIONAL":
				waiting = append(waiting, fmt.Sprintf("session with %s %s", n.LSRID, n.State))
			case !eol[n.LSRID] && now.Sub(n.Since) < ldpSettle:
				waiting = append(waiting, fmt.Sprintf("End-of-LIB from %s", n.LSRID))
			}
		}
		for _, t := range cfg.LDP.Targeted {
			if !known[t.Address] {
				waiting = append(waiting, fmt.Sprintf("targeted neighbour %s", t.Address))
			}
		}
		return len(waiting) == 0, strings.Join(waiting, ", ")
	}
}

// bgpSessionWait is how long BGP waits for a configured neighbour to come
// up after a restart before it stops waiting for it: two of lsrd's connect
// retries (30 s), so a neighbour that refused the first dial is retried.
const bgpSessionWait = 60 * time.Second

// bgpSettle is how long an established neighbour that sent no End-of-RIB
// (GoBGP sends none without graceful restart) must have been up, with its
// accepted count not moving between two checks, to count as done.
const bgpSettle = 10 * time.Second

// bgpQuiet is how long the parent must have applied no BGP route for a
// settled neighbour (one without End-of-RIB) to count as done: GoBGP's
// counts run ahead of the routes still on their way to the RIB.
const bgpQuiet = 2 * time.Second

// bgpRecovery judges whether BGP has brought its routes back: every
// configured neighbour is established and its End-of-RIB (RFC 4724) for
// every family has reached the RIB (or it settled, see bgpSettle), or it is
// not up bgpSessionWait after the start.
//
// The End-of-RIB that counts is the marker the parent applied
// (Daemon.bgpEndOfRIB), not GoBGP's flag: GoBGP sets its flag when it
// reads the marker, while the best paths before it may still be on their
// way through the watcher and the speaker's queue. Sweeping then would
// delete routes that are about to come back.
type bgpRecovery struct {
	accepted map[netip.Addr]uint64 // at the last check, per neighbour
}

// bgpApplied is what the parent has applied from the BGP pipeline: the
// End-of-RIB markers per neighbour and family, and when it last applied a
// route.
type bgpApplied struct {
	endOfRIB map[netip.Addr]map[string]bool
	last     time.Time
}

// mark records an End-of-RIB marker the parent applied.
func (a bgpApplied) mark(eor *bgp.EndOfRIB) {
	if a.endOfRIB[eor.Neighbor] == nil {
		a.endOfRIB[eor.Neighbor] = map[string]bool{}
	}
	a.endOfRIB[eor.Neighbor][eor.Family] = true
}

func (b *bgpRecovery) converged(ns []bgp.NeighborInfo, applied bgpApplied, start, now time.Time) (bool, string) {
	last := b.accepted
	b.accepted = map[netip.Addr]uint64{}
	var waiting []string
	for _, n := range ns {
		b.accepted[n.Address] = n.Accepted
		switch {
		case n.State != "established":
			// A marker from a session that went down says nothing
			// about the next one.
			delete(applied.endOfRIB, n.Address)
			if now.Sub(start) < bgpSessionWait {
				waiting = append(waiting, fmt.Sprintf("session with %s %s", n.Address, n.State))
			}
		case n.EndOfRIB:
			for _, f := range n.Families {
				if !applied.endOfRIB[n.Address][f] {
					waiting = append(waiting, fmt.Sprintf("the routes before %s's End-of-RIB (%s) to reach the RIB", n.Address, f))
				}
			}
		case n.Uptime < bgpSettle:
			waiting = append(waiting, fmt.Sprintf("End-of-RIB from %s", n.Address))
		default:
			if prev, ok := last[n.Address]; !ok || prev != n.Accepted {
				waiting = append(waiting, fmt.Sprintf("routes from %s to settle", n.Address))
			} else if now.Sub(applied.last) < bgpQuiet {
				waiting = append(waiting, fmt.Sprintf("routes from %s to reach the RIB", n.Address))
			}
		}
	}
	return len(waiting) == 0, strings.Join(waiting, ", ")
}

// startRestart begins waiting for convergence after adopting a previous
// run's routes; the kernel read and the static routes are done already
// (Run reads the kernel and applies the configuration before its loop).
func (d *Daemon) startRestart(now time.Time) {
	r := &restart{start: now, deadline: now.Add(d.cfg.Kernel.RestartSweepAfter.Std())}
	r.inputs = append(r.inputs,
		restartInput{name: "kernel", converged: func(time.Time) (bool, string) { return d.kernelRead, "the first read of interfaces and routes" }},
		restartInput{name: "static", converged: func(time.Time) (bool, string) { return d.staticApplied, "the configuration's static routes" }},
		restartInput{name: "ldp", converged: func(now time.Time) (bool, string) {
			// LDP graceful restart first (closed at once when this
			// start reuses no labels): every neighbour of the previous
			// run that negotiated it re-advertised its labels. Then the
			// rule for every neighbour, with graceful restart or not.
			select {
			case <-d.gr.converged:
			default:
				return false, "graceful restart recovery: End-of-LIB from the previous run's neighbours"
			}
			return d.ldpRecovery(d.viewLDP(), r.start, now)
		}},
	)
	if d.bgp != nil {
		var b bgpRecovery
		r.inputs = append(r.inputs, restartInput{name: "bgp", converged: func(now time.Time) (bool, string) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			ns, err := d.bgp.NeighborStates(ctx)
			if err != nil {
				return false, err.Error()
			}
			return b.converged(ns, d.bgpApplied, r.start, now)
		}})
	}
	d.restart = r
}

// checkRestart sweeps the previous run's routes once restart says so. The
// kernel layer gets, before the sweep, the table with everything the inputs
// published up to the state they were judged on.
func (d *Daemon) checkRestart(now time.Time) {
	r := d.restart
	if r == nil {
		return
	}
	before := r.waiting
	reason := r.check(now)
	if reason == "" {
		if r.waiting != before {
			d.log.Info("keeping a previous run's kernel routes until convergence", "waiting_for", r.waiting)
		}
		return
	}
	d.restart = nil
	d.programFIB()
	d.publishFIB()
	d.kfib.SweepStale(reason)
	d.publishVPN() // the VRFs' routes the LDP change above moved, before their sweep
	d.sweepVRFs(reason)
	d.log.Info("restart: asking the kernel layer to sweep the previous run's stale routes", "reason", reason,
		"after", now.Sub(r.start).Round(time.Millisecond))
}
