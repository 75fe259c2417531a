package bgp

import (
	"time"

	api "github.com/osrg/gobgp/v3/api"
)

// GracefulRestart configures BGP graceful restart (RFC 4724) for every
// neighbour, in both roles, through GoBGP's implementation:
//
//   - helper (receiving speaker): when a neighbour that advertised the
//     capability loses its session without a NOTIFICATION (a crash, a
//     restart, a broken link), its routes stay, marked stale, until it is
//     back and has sent End-of-RIB, or its Restart Time passes;
//   - restarting speaker: when lsrd starts with its previous run's
//     forwarding kept in the kernel (Speaker.SetRestarting), it sets the
//     Restart State bit, and neighbours acting as helpers keep the routes
//     they learned from lsrd meanwhile.
//
// The capability is part of the OPEN message, so a change takes effect by
// resetting every session (Apply does).
type GracefulRestart struct {
	Enabled bool
	// RestartTime is what lsrd advertises: how long a helper keeps lsrd's
	// routes while lsrd is away (RFC 4724: 12 bits of seconds, at most
	// 4095 s).
	RestartTime time.Duration
	// DeferralTime bounds how long a restarting lsrd waits for End-of-RIB
	// from its neighbours before it advertises its own routes.
	DeferralTime time.Duration
}

// Defaults of GracefulRestart: the Restart Time is the session's default
// hold time, as RFC 4724 section 4 suggests (longer would keep a dead
// neighbour's routes longer than its hold time would have), and the
// deferral GoBGP's.
const (
	DefaultRestartTime  = 90 * time.Second
	DefaultDeferralTime = 360 * time.Second
	maxRestartTime      = 4095 * time.Second
)

func (g GracefulRestart) restartTime() time.Duration {
	if g.RestartTime == 0 {
		return DefaultRestartTime
	}
	return g.RestartTime
}

func (g GracefulRestart) deferralTime() time.Duration {
	if g.DeferralTime == 0 {
		return DefaultDeferralTime
	}
	return g.DeferralTime
}

func (g GracefulRestart) validate(bad func(field, format string, args ...any)) {
	switch {
	case g.RestartTime < 0 || g.RestartTime > maxRestartTime:
		bad("graceful_restart.restart_time", "%s is out of range (1s-%s: 12 bits of seconds, RFC 4724)", g.RestartTime, maxRestartTime)
	case g.RestartTime%time.Second != 0:
		bad("graceful_restart.restart_time", "%s is not whole seconds", g.RestartTime)
	}
	switch {
	case g.DeferralTime < 0 || g.DeferralTime > 65535*time.Second:
		bad("graceful_restart.deferral_time", "%s is out of range (1s-65535s)", g.DeferralTime)
	case g.DeferralTime%time.Second != 0:
		bad("graceful_restart.deferral_time", "%s is not whole seconds", g.DeferralTime)
	}
}

// apply puts graceful restart into a neighbour's GoBGP configuration: the
// capability, and one tuple per family (without a tuple GoBGP does not keep
// that family's routes as a helper). restarting sets the Restart State bit.
func (g GracefulRestart) apply(p *api.Peer, restarting bool) {
	if !g.Enabled {
		return
	}
	p.GracefulRestart = &api.GracefulRestart{
		Enabled:         true,
		RestartTime:     uint32(g.restartTime() / time.Second),
		DeferralTime:    uint32(g.deferralTime() / time.Second),
		LocalRestarting: restarting,
	}
	for _, af := range p.AfiSafis {
		af.MpGracefulRestart = &api.MpGracefulRestart{Config: &api.MpGracefulRestartConfig{Enabled: true}}
	}
}
