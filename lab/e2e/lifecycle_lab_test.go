//go:build lab

package e2e

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
	"github.com/lsrd/lsrd/ldp"
)

func neighbors(l *topo.LSRD) (map[string]ldp.NeighborInfo, error) {
	var ns []ldp.NeighborInfo
	if err := l.Get("/v1/ldp/neighbors", &ns); err != nil {
		return nil, err
	}
	m := map[string]ldp.NeighborInfo{}
	for _, n := range ns {
		m[n.LSRID.String()] = n
	}
	return m, nil
}

func operational(l *topo.LSRD, id string) error {
	ns, err := neighbors(l)
	if err != nil {
		return err
	}
	if ns[id].State != "OPERATIONAL" {
		return fmt.Errorf("neighbour %s: %+v", id, ns[id])
	}
	return nil
}

// ownRoutes lists the router's kernel routes of lsrd's protocol: label
// routes, IP routes and nexthop objects.
func ownRoutes(r *topo.Router) string {
	var b strings.Builder
	for _, args := range [][]string{
		{"ip", "-f", "mpls", "route", "show", "proto", "234"},
		{"ip", "route", "show", "proto", "234"},
		{"ip", "nexthop", "show", "proto", "234"},
	} {
		out, _ := r.Try(args...)
		b.WriteString(out)
	}
	return strings.TrimSpace(b.String())
}

// SIGHUP applies a changed configuration without touching what did not
// change; a bad file changes nothing; SIGTERM removes lsrd's kernel routes,
// unless the configuration keeps them for a restart, which then adopts them.
func TestLSRDReloadAndShutdown(t *testing.T) {
	c := newChain(t)
	c.r1.StartLSRD(lsrdConfig("1.1.1.1", []string{c.a1}, "2.2.2.2/32 10.1.0.2", "3.3.3.3/32 10.1.0.2"))
	c.r3.StartLSRD(lsrdConfig("3.3.3.3", []string{c.b3}, "2.2.2.2/32 10.2.0.2", "1.1.1.1/32 10.2.0.2"))
	// r2 starts with LDP on the link to r1 only.
	statics := []string{"1.1.1.1/32 10.1.0.1", "3.3.3.3/32 10.2.0.3"}
	l2 := c.r2.StartLSRD(lsrdConfig("2.2.2.2", []string{c.a2}, statics...))
	topo.Eventually(t, 60*time.Second, "r2's session with r1", func() error { return operational(l2, "1.1.1.1") })
	before, err := neighbors(l2)
	if err != nil {
		t.Fatal(err)
	}

	// A broken file is refused and changes nothing.
	if err := os.WriteFile(l2.Config, []byte("router-id: 2.2.2.2\nldp:\n  interfacez: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l2.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := operational(l2, "1.1.1.1"); err != nil {
		t.Fatalf("after a rejected reload: %v", err)
	}

	// Adding the interface towards r3 brings up that session and leaves the
	// one with r1 as it was.
	cfg := lsrdConfig("2.2.2.2", []string{c.a2, c.b2}, statics...)
	if err := os.WriteFile(l2.Config, []byte(cfg+"control:\n  socket: "+l2.Socket+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l2.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	topo.Eventually(t, 60*time.Second, "r2's session with r3 after the reload", func() error { return operational(l2, "3.3.3.3") })
	after, err := neighbors(l2)
	if err != nil {
		t.Fatal(err)
	}
	if !after["1.1.1.1"].Since.Equal(before["1.1.1.1"].Since) {
		t.Errorf("the session with r1 was reset by the reload: since %s, then %s", before["1.1.1.1"].Since, after["1.1.1.1"].Since)
	}
	topo.Eventually(t, 30*time.Second, "r2's label routes", func() error {
		if !strings.Contains(ownRoutes(c.r2), "proto 234") {
			return fmt.Errorf("none yet")
		}
		return nil
	})

	// SIGTERM: a clean exit that takes lsrd's routes with it.
	if err := l2.Stop(); err != nil {
		t.Fatal(err)
	}
	if own := ownRoutes(c.r2); own != "" {
		t.Errorf("after SIGTERM, lsrd's routes are still in the kernel:\n%s", own)
	}

	// keep-routes-on-shutdown: the routes stay, and the next start adopts
	// them without duplicates.
	l2 = c.r2.StartLSRD(cfg + "kernel:\n  keep-routes-on-shutdown: true\n")
	var kept string
	topo.Eventually(t, 60*time.Second, "r2's routes with keep-routes-on-shutdown", func() error {
		if err := operational(l2, "3.3.3.3"); err != nil {
			return err
		}
		if kept = ownRoutes(c.r2); !strings.Contains(kept, "proto 234") {
			return fmt.Errorf("no routes yet")
		}
		return nil
	})
	time.Sleep(2 * time.Second)
	kept = ownRoutes(c.r2)
	if err := l2.Stop(); err != nil {
		t.Fatal(err)
	}
	if got := ownRoutes(c.r2); got != kept {
		t.Errorf("keep-routes-on-shutdown: before stop\n%s\nafter stop\n%s", kept, got)
	}
	l2 = c.r2.StartLSRD(cfg)
	topo.Eventually(t, 60*time.Second, "r2 adopts its routes after the restart", func() error {
		if err := operational(l2, "3.3.3.3"); err != nil {
			return err
		}
		got := ownRoutes(c.r2)
		lines := strings.Split(got, "\n")
		seen := map[string]bool{}
		for _, l := range lines {
			if seen[l] {
				return fmt.Errorf("duplicate route %q", l)
			}
			seen[l] = true
		}
		if got != kept {
			return fmt.Errorf("routes after the restart\n%s\nwant as before\n%s", got, kept)
		}
		return nil
	})
}
