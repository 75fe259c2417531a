//go:build labhost

package vm

// These tests boot the lab on the host: they prove the harness reports a
// guest's verdict, and fails loudly, with the reason, when the guest breaks.

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func labKernel(t *testing.T) (string, *Kernel) {
	t.Helper()
	cache, err := filepath.Abs("../../.lab")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pkg, err := CurrentKernelPackage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	k, err := EnsureKernel(ctx, cache, pkg)
	if err != nil {
		t.Fatal(err)
	}
	return cache, k
}

func TestResolveOrdersDependencies(t *testing.T) {
	_, k := labKernel(t)
	idx, err := IndexModules(k.ModulesDir)
	if err != nil {
		t.Fatal(err)
	}
	files, err := idx.Resolve([]string{"mpls_iptunnel"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".ko"))
	}
	if got, want := strings.Join(names, " "), "ip_tunnel mpls_router mpls_iptunnel"; got != want {
		t.Errorf("load order %q, want %q", got, want)
	}
	if _, err := idx.Resolve([]string{"no_such_module"}); err == nil || !strings.Contains(err.Error(), "module no_such_module not found") {
		t.Errorf("unknown module: error %v", err)
	}
}

func TestRunReportsExitStatusAndOutput(t *testing.T) {
	cache, k := labKernel(t)
	var out, log bytes.Buffer
	res, err := Run(context.Background(), Config{
		CacheDir: cache, Kernel: k, Timeout: 2 * time.Minute,
		Script: "cat /proc/sys/net/mpls/platform_labels && echo probe >/etc/lsrd-lab-probe && exit 7",
		Output: &out, Log: &log,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(res.RunDir)
	if res.ExitCode != 7 {
		t.Errorf("exit status %d, want 7", res.ExitCode)
	}
	// platform_labels exists only where mpls_router is loaded: 0 by default.
	if strings.TrimSpace(out.String()) != "0" {
		t.Errorf("guest output %q, want the MPLS sysctl's 0", out.String())
	}
	if res.Boot <= 0 || res.Wall < res.Boot {
		t.Errorf("boot %v, wall %v", res.Boot, res.Wall)
	}
	if !strings.Contains(log.String(), "exit status 7") {
		t.Errorf("harness log lacks the verdict: %q", log.String())
	}
	// The guest writes to an overlay: the host's /etc must be untouched.
	if _, err := os.Stat("/etc/lsrd-lab-probe"); err == nil {
		t.Error("the guest's write reached the host's /etc")
	}
}

func TestModuleThatFailsToLoadIsNamed(t *testing.T) {
	cache, k := labKernel(t)
	_, err := Run(context.Background(), Config{
		CacheDir: cache, Kernel: k, Timeout: 2 * time.Minute,
		// The kernel ignores unknown parameters but refuses a bad value.
		Modules: []string{"mpls_router", "dummy numdummies=lots"},
		Script:  "exit 0",
	})
	var ge *GuestError
	if !errors.As(err, &ge) {
		t.Fatalf("error %v, want a GuestError", err)
	}
	if !strings.Contains(ge.Reason, "module dummy failed to load") {
		t.Errorf("reason %q does not name the module", ge.Reason)
	}
	os.RemoveAll(ge.RunDir)
}

func TestHangingGuestTimesOut(t *testing.T) {
	cache, k := labKernel(t)
	start := time.Now()
	_, err := Run(context.Background(), Config{
		CacheDir: cache, Kernel: k, Timeout: 30 * time.Second,
		Script: "echo about to hang; sleep 600",
	})
	var ge *GuestError
	if !errors.As(err, &ge) {
		t.Fatalf("error %v, want a GuestError", err)
	}
	if !strings.Contains(ge.Reason, "timed out after 30s") {
		t.Errorf("reason %q", ge.Reason)
	}
	if !strings.Contains(ge.Console, "lab: ready") {
		t.Errorf("console tail lacks the guest's last words:\n%s", ge.Console)
	}
	if d := time.Since(start); d > 60*time.Second {
		t.Errorf("the run took %v, far past its 30s limit", d)
	}
	os.RemoveAll(ge.RunDir)
}

func TestMissingKernelPackageIsNamed(t *testing.T) {
	t.Setenv(KernelPackageEnv, "linux-image-0.0.0-0-nosuch")
	pkg, err := CurrentKernelPackage(context.Background())
	if err != nil || pkg != "linux-image-0.0.0-0-nosuch" {
		t.Fatalf("override not honoured: %q, %v", pkg, err)
	}
	_, err = EnsureKernel(context.Background(), t.TempDir(), pkg)
	if err == nil || !strings.Contains(err.Error(), "apt-get download linux-image-0.0.0-0-nosuch failed") {
		t.Fatalf("error %v, want one naming the failed download", err)
	}
}
