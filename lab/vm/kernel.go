package vm

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Kernel is an unpacked Debian kernel package.
type Kernel struct {
	Package    string // Debian package name, e.g. linux-image-6.1.0-56-amd64
	Release    string // kernel release, e.g. 6.1.0-56-amd64
	Vmlinuz    string // path of the bootable image
	ModulesDir string // path of lib/modules/<release>
}

// KernelPackageEnv names the environment variable that overrides which Debian
// kernel package the lab boots.
const KernelPackageEnv = "LSRD_LAB_KERNEL"

// CurrentKernelPackage asks apt which versioned package the metapackage
// linux-image-amd64 depends on now. The generic flavour is used on purpose: the
// smaller cloud flavour has MPLS but no 9p, and the lab cannot boot without 9p.
func CurrentKernelPackage(ctx context.Context) (string, error) {
	if p := os.Getenv(KernelPackageEnv); p != "" {
		return p, nil
	}
	out, err := exec.CommandContext(ctx, "apt-cache", "depends", "linux-image-amd64").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("lab kernel: apt-cache depends linux-image-amd64: %v: %s (has 'apt-get update' run?)", err, bytes.TrimSpace(out))
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == "Depends:" && strings.HasPrefix(f[1], "linux-image-") {
			return f[1], nil
		}
	}
	return "", fmt.Errorf("lab kernel: apt-cache names no linux-image-* dependency of linux-image-amd64 (has 'apt-get update' run?); set %s to a package name", KernelPackageEnv)
}

// EnsureKernel returns the kernel package pkg unpacked under cacheDir, downloading
// and unpacking it with apt-get and dpkg the first time. A second call reuses the
// unpacked tree. The package is never installed on the host.
func EnsureKernel(ctx context.Context, cacheDir, pkg string) (*Kernel, error) {
	dir := filepath.Join(cacheDir, "kernel", pkg)
	root := filepath.Join(dir, "root")
	stamp := filepath.Join(dir, ".complete")
	if _, err := os.Stat(stamp); err != nil {
		if err := os.RemoveAll(dir); err != nil {
			return nil, fmt.Errorf("lab kernel: clearing %s: %w", dir, err)
		}
		if err := os.MkdirAll(root, 0o755); err != nil {
			return nil, fmt.Errorf("lab kernel: %w", err)
		}
		dl := exec.CommandContext(ctx, "apt-get", "download", pkg)
		dl.Dir = dir
		if out, err := dl.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("lab kernel: apt-get download %s failed: %v: %s", pkg, err, lastLines(out, 5))
		}
		debs, _ := filepath.Glob(filepath.Join(dir, pkg+"_*.deb"))
		if len(debs) != 1 {
			return nil, fmt.Errorf("lab kernel: apt-get download %s left %d .deb files in %s, want 1", pkg, len(debs), dir)
		}
		if out, err := exec.CommandContext(ctx, "dpkg", "-x", debs[0], root).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("lab kernel: dpkg -x %s: %v: %s", debs[0], err, lastLines(out, 5))
		}
		if err := os.Remove(debs[0]); err != nil {
			return nil, fmt.Errorf("lab kernel: %w", err)
		}
		if err := os.WriteFile(stamp, nil, 0o644); err != nil {
			return nil, fmt.Errorf("lab kernel: %w", err)
		}
	}
	return openKernel(pkg, root)
}

func openKernel(pkg, root string) (*Kernel, error) {
	images, _ := filepath.Glob(filepath.Join(root, "boot", "vmlinuz-*"))
	if len(images) != 1 {
		return nil, fmt.Errorf("lab kernel: %s: found %d boot/vmlinuz-* images, want 1", root, len(images))
	}
	release := strings.TrimPrefix(filepath.Base(images[0]), "vmlinuz-")
	mods := filepath.Join(root, "lib", "modules", release)
	if _, err := os.Stat(mods); err != nil {
		return nil, fmt.Errorf("lab kernel: %s has no modules for release %s: %w", pkg, release, err)
	}
	return &Kernel{Package: pkg, Release: release, Vmlinuz: images[0], ModulesDir: mods}, nil
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
