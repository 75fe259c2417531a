package daemon

import (
	"fmt"
	"github.com/lsrd/lsrd/ldp/fec"
	"log/slog"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/lsrd/lsrd/config"
	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/ldp/labelstate"
)

// TestLoadGR checks when a start reuses the previous run's labels: only
// with graceful restart on, a state file of this boot and router ID, and
// kernel routes the previous run left. Otherwise it starts fresh and LDP
// counts as converged at once (nothing for the kernel layer to wait for).
func TestLoadGR(t *testing.T) {
	boot, err := labelstate.BootID()
	if err != nil {
		t.Skip(err)
	}
	labels := map[fec.FEC]fib.Label{fec.Prefix(netip.MustParsePrefix("10.9.0.0/24")): 500}
	peers := []netip.Addr{netip.MustParseAddr("2.2.2.2")}
	rid := netip.MustParseAddr("1.1.1.1")
	for _, c := range []struct {
		name      string
		enabled   bool
		file      *labelstate.State // nil: no file
		preserved bool
	}{
		{"reused", true, labelstate.New(boot, rid, time.Now(), true, labels, peers), true},
		{"graceful restart off", false, labelstate.New(boot, rid, time.Now(), true, labels, peers), false},
		{"no file", true, nil, false},
		{"other boot", true, labelstate.New("another-boot", rid, time.Now(), true, labels, peers), false},
		{"other router id", true, labelstate.New(boot, netip.MustParseAddr("9.9.9.9"), time.Now(), true, labels, peers), false},
		{"routes removed at exit", true, labelstate.New(boot, rid, time.Now(), false, labels, peers), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ldp-labels.json")
			if c.file != nil {
				if err := labelstate.Save(path, c.file); err != nil {
					t.Fatal(err)
				}
			}
			cfg, err := config.Parse("t.yaml", []byte(fmt.Sprintf("router-id: 1.1.1.1\nldp:\n  graceful-restart:\n    enabled: %v\n    state-file: %s\n", c.enabled, path)))
			if err != nil {
				t.Fatal(err)
			}
			g, seed := loadGR(cfg, slog.New(slog.DiscardHandler))
			if g.preserved != c.preserved || (seed != nil) != c.preserved {
				t.Fatalf("preserved %v, seed %v; want preserved %v", g.preserved, seed, c.preserved)
			}
			select {
			case <-g.converged:
				if c.preserved {
					t.Error("converged before LDP recovered")
				}
			default:
				if !c.preserved {
					t.Error("a fresh start is not converged at once")
				}
			}
			if c.preserved && (seed[fec.Prefix(netip.MustParsePrefix("10.9.0.0/24"))] != 500 || len(g.peers) != 1 || g.peers[0] != peers[0]) {
				t.Errorf("seed %v peers %v", seed, g.peers)
			}
		})
	}
}
