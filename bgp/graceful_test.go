package bgp

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// The capability reaches GoBGP with one tuple per family (GoBGP keeps a
// helper's stale routes only for families with a tuple), the defaults
// applied, and the Restart State bit only when asked.
func TestGracefulRestartPeer(t *testing.T) {
	n := Neighbor{Address: netip.MustParseAddr("10.0.0.2"), RemoteAS: 65002,
		Families: []string{FamilyIPv4Unicast, FamilyIPv4LabeledUnicast}}
	p := apiPeer(n)
	GracefulRestart{}.apply(p, true)
	if p.GracefulRestart != nil {
		t.Fatalf("disabled: %v, want no capability", p.GracefulRestart)
	}
	for _, restarting := range []bool{false, true} {
		p := apiPeer(n)
		GracefulRestart{Enabled: true, DeferralTime: 30 * time.Second}.apply(p, restarting)
		gr := p.GracefulRestart
		if gr == nil || !gr.Enabled || gr.RestartTime != 90 || gr.DeferralTime != 30 || gr.LocalRestarting != restarting {
			t.Fatalf("restarting=%v: %v, want enabled, restart 90 s, deferral 30 s, restarting %v", restarting, gr, restarting)
		}
		if len(p.AfiSafis) != 2 {
			t.Fatalf("%d families, want 2", len(p.AfiSafis))
		}
		for _, af := range p.AfiSafis {
			if !af.GetMpGracefulRestart().GetConfig().GetEnabled() {
				t.Errorf("family %v has no graceful restart tuple", af.Config.Family)
			}
		}
	}
}

func TestGracefulRestartValidate(t *testing.T) {
	for _, c := range []struct {
		gr   GracefulRestart
		want string
	}{
		{GracefulRestart{Enabled: true, RestartTime: 4096 * time.Second}, "bgp.graceful_restart.restart_time: 1h8m16s is out of range"},
		{GracefulRestart{Enabled: true, RestartTime: 1500 * time.Millisecond}, "bgp.graceful_restart.restart_time: 1.5s is not whole seconds"},
		{GracefulRestart{Enabled: true, DeferralTime: -time.Second}, "bgp.graceful_restart.deferral_time: -1s is out of range"},
	} {
		cfg := Config{AS: 65001, RouterID: netip.MustParseAddr("1.1.1.1"), GracefulRestart: c.gr}
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.gr, err, c.want)
		}
	}
	ok := Config{AS: 65001, RouterID: netip.MustParseAddr("1.1.1.1"), GracefulRestart: GracefulRestart{Enabled: true, RestartTime: 4095 * time.Second}}
	if err := ok.Validate(); err != nil {
		t.Errorf("4095 s: %v", err)
	}
}
