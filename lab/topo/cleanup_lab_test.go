//go:build lab

package topo

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A topology that fails half-way (FRR and gobgpd running, namespaces and a
// ZeroTier segment in place) must leave nothing behind once its cleanups ran:
// the next test in the same guest starts from a clean kernel.
func TestCleanupAfterFailure(t *testing.T) {
	var log bytes.Buffer
	reached := false
	failed := Standalone(&log, func(t T) {
		lab := New(t)
		zt := lab.ZeroTier(0x0123456789abcdef)
		c1, c2 := lab.Router("c1"), lab.Router("c2")
		lab.Link(c1, c2, "10.9.1.1/30", "10.9.1.2/30")
		ztIf := zt.Attach(c1, "10.9.0.1/24")
		c1.EnableMPLS(ztIf)
		c1.StartFRR(FRRConfig{RouterID: "9.9.9.1", LDP: &FRRLDP{Interfaces: []string{ztIf}}})
		c2.StartGoBGP(GoBGPConfig{AS: 65009, RouterID: "9.9.9.2"})
		reached = true
		c1.Run("false")
		t.Logf("not reached: Run of a failing command returned")
	})
	if !failed || !reached {
		t.Fatalf("the topology should have failed at its last step (failed %v, reached %v):\n%s", failed, reached, log.String())
	}
	if strings.Contains(log.String(), "not reached") {
		t.Errorf("Fatalf did not end the topology's body")
	}
	if out, err := (&Lab{t: t}).host("ip", "netns", "list"); err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("namespaces left behind: %q (%v)", out, err)
	}
	for _, d := range []string{"/etc/frr/c1", "/run/frr/c1"} {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("%s left behind", d)
		}
	}
	if procs := running("zebra", "staticd", "ldpd", "gobgpd", "tcpdump"); len(procs) > 0 {
		t.Errorf("processes left behind: %v", procs)
	}
}

// running lists live (not zombie) processes whose command name is one of names.
func running(names ...string) []string {
	var found []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		comm, err := os.ReadFile(filepath.Join(d, "comm"))
		if err != nil {
			continue
		}
		c := strings.TrimSpace(string(comm))
		for _, n := range names {
			var pid int
			if c == n {
				if _, err := fmt.Sscan(filepath.Base(d), &pid); err == nil && alive(pid) {
					found = append(found, c+"["+filepath.Base(d)+"]")
				}
			}
		}
	}
	return found
}
