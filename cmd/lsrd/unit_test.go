package main

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
)

// The systemd unit's sandbox, as systemd-analyze rates it: 2.0 ("OK") or
// better.
func TestUnitSecurity(t *testing.T) {
	bin, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("systemd-analyze is not installed (scripts/setup installs systemd)")
		}
		t.Skip("systemd-analyze is not installed")
	}
	out, err := exec.Command(bin, "security", "--offline=true", "../../docs/examples/lsrd.service").CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for lsrd\.service: (\d+\.\d+) (\S+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no overall exposure level in:\n%s", out)
	}
	level, _ := strconv.ParseFloat(string(m[1]), 64)
	t.Logf("systemd-analyze security: %s %s", m[1], m[2])
	if level > 2.0 {
		t.Errorf("exposure %.1f %s, want 2.0 or better:\n%s", level, m[2], out)
	}
}
