//go:build lab

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/internal/checkout"
	"github.com/lsrd/lsrd/lab/topo"
)

// The Debian package (scripts/package, make package): built, installed
// with dpkg, its static lsrd stamped with the package's version running a
// router beside a checkout-built lsrd, its lsrctl, man pages, completions
// and unit in place, and removed cleanly.
func TestDebianPackage(t *testing.T) {
	lab := topo.New(t)
	root, err := checkout.Root()
	if err != nil {
		t.Fatal(err)
	}
	// scripts/test builds the package on the host before the guest boots
	// (dist/); building it here, under emulation, takes minutes.
	debs, _ := filepath.Glob(filepath.Join(root, "dist", "lsrd_*_amd64.deb"))
	if len(debs) == 0 {
		out := t.TempDir()
		build := exec.Command("bash", "scripts/package", out)
		build.Dir = root
		if b, err := build.CombinedOutput(); err != nil {
			t.Fatalf("scripts/package: %v\n%s", err, b)
		}
		debs, _ = filepath.Glob(filepath.Join(out, "lsrd_*_amd64.deb"))
	}
	if len(debs) == 0 {
		t.Fatal("no package built")
	}
	slices.Sort(debs) // the version sorts by commit time: the newest last
	deb := debs[len(debs)-1]
	t.Logf("package %s", filepath.Base(deb))
	version := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(deb), "lsrd_"), "_amd64.deb")
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("dpkg", "-i", deb)
	t.Cleanup(func() { exec.Command("dpkg", "--purge", "lsrd").Run() })
	if got := strings.TrimSpace(run("/usr/sbin/lsrd", "-version")); got != "lsrd "+version {
		t.Errorf("lsrd -version: %q, want the package's version %s", got, version)
	}
	if out, _ := exec.Command("ldd", "/usr/sbin/lsrd").CombinedOutput(); !strings.Contains(string(out), "not a dynamic executable") {
		t.Errorf("/usr/sbin/lsrd is not static: ldd says %s", out)
	}
	for _, f := range []string{"/usr/bin/lsrctl", "/lib/systemd/system/lsrd.service", "/usr/share/man/man8/lsrd.8.gz",
		"/usr/share/man/man8/lsrctl.8.gz", "/usr/share/bash-completion/completions/lsrctl", "/usr/share/doc/lsrd/examples/lsrd.yaml",
		"/usr/share/doc/lsrd/examples/lsrd-alerts.yaml"} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("the package lacks %s: %v", f, err)
		}
	}
	if unit, _ := os.ReadFile("/lib/systemd/system/lsrd.service"); !strings.Contains(string(unit), "ExecStart=/usr/sbin/lsrd") ||
		regexp.MustCompile(`(?m)^Exec\w*=[+-]?/usr/local`).Match(unit) {
		t.Errorf("the packaged unit does not run the packaged binaries:\n%s", unit)
	}
	if got := run("/usr/sbin/lsrd", "-check", "-config", "/usr/share/doc/lsrd/examples/lsrd.yaml"); !strings.Contains(got, "configuration is valid") {
		t.Errorf("the packaged example configuration: %s", got)
	}

	// The packaged lsrd runs r1, a checkout-built one r2.
	r1, r2 := lab.Router("r1"), lab.Router("r2")
	if1, if2 := lab.Link(r1, r2, "10.1.0.1/24", "10.1.0.2/24")
	r1.AddLoopback("1.1.1.1/32")
	r2.AddLoopback("2.2.2.2/32")
	t.Setenv("LSRD_BIN", "/usr/sbin/lsrd")
	l1 := r1.StartLSRD(fmt.Sprintf("router-id: 1.1.1.1\nldp:\n  interfaces:\n    - name: %s\nstatic-routes:\n  - prefix: 2.2.2.2/32\n    next-hop: 10.1.0.2\n", if1))
	os.Unsetenv("LSRD_BIN")
	r2.StartLSRD(fmt.Sprintf("router-id: 2.2.2.2\nldp:\n  interfaces:\n    - name: %s\nstatic-routes:\n  - prefix: 1.1.1.1/32\n    next-hop: 10.1.0.1\n", if2))
	topo.Eventually(t, 60*time.Second, "the packaged lsrd's session", func() error { return operational(l1, "2.2.2.2") })
	got := lsrctlIn(t, "/usr/bin/lsrctl", r1, l1, "version").ok(t, "packaged lsrctl version")
	if !strings.Contains(got, "lsrctl "+version) || !strings.Contains(got, "lsrd   "+version) {
		t.Errorf("packaged lsrctl version:\n%s", got)
	}
	t.Logf("r1# lsrctl version\n%s", got)

	run("dpkg", "--purge", "lsrd")
	for _, f := range []string{"/usr/sbin/lsrd", "/usr/bin/lsrctl", "/lib/systemd/system/lsrd.service"} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s is still there after dpkg --purge", f)
		}
	}
}
