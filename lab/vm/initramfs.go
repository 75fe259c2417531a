package vm

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

//go:embed init.sh
var initScript []byte

//go:embed guest.sh
var guestScript []byte

// BootModules are the modules the guest needs before it can reach the host's
// root: virtio PCI, 9p over virtio and overlayfs.
var BootModules = []string{"virtio_pci", "9pnet_virtio", "9p", "overlay"}

// DefaultModules are loaded after the results share is mounted, so a failure to
// load one is reported through it: MPLS forwarding and the link types the lab's
// topologies use. An entry is a module name, optionally followed by its
// parameters as insmod takes them.
var DefaultModules = []string{"mpls_router", "mpls_iptunnel", "veth", "bridge", "dummy numdummies=0", "tun", "vrf"}

// splitModules separates module names from their parameters.
func splitModules(specs []string) (names []string, params map[string]string) {
	params = map[string]string{}
	for _, s := range specs {
		name, args, _ := strings.Cut(strings.TrimSpace(s), " ")
		name = normalizeModule(name)
		names = append(names, name)
		if args != "" {
			params[name] = strings.TrimSpace(args)
		}
	}
	return names, params
}

// Busybox is the static busybox the initramfs runs its /init with.
const Busybox = "/bin/busybox"

// BuildInitramfs writes (or reuses from cacheDir) an uncompressed newc cpio
// image holding a static busybox, the resolved module files and the init script.
func BuildInitramfs(ctx context.Context, cacheDir string, k *Kernel, boot, extra []string) (string, error) {
	idx, err := IndexModules(k.ModulesDir)
	if err != nil {
		return "", err
	}
	bootNames, _ := splitModules(boot)
	extraNames, params := splitModules(extra)
	bootFiles, err := idx.Resolve(bootNames)
	if err != nil {
		return "", err
	}
	extraFiles, err := idx.Resolve(append(append([]string{}, bootNames...), extraNames...))
	if err != nil {
		return "", err
	}
	extraFiles = extraFiles[len(bootFiles):]

	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n%v\n", k.Package, strings.Join(bootFiles, ","), strings.Join(extraFiles, ","), params)
	h.Write(initScript)
	if st, err := os.Stat(Busybox); err == nil {
		fmt.Fprintf(h, "%d %d", st.Size(), st.ModTime().UnixNano())
	} else {
		return "", fmt.Errorf("lab initramfs: %s missing (install busybox-static): %w", Busybox, err)
	}
	out := filepath.Join(cacheDir, "initramfs", hex.EncodeToString(h.Sum(nil))[:16]+".cpio")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}

	stage, err := os.MkdirTemp(cacheDir, "initramfs-stage-")
	if err != nil {
		return "", fmt.Errorf("lab initramfs: %w", err)
	}
	defer os.RemoveAll(stage)
	for _, d := range []string{"bin", "dev", "proc", "sys", "modules"} {
		if err := os.MkdirAll(filepath.Join(stage, d), 0o755); err != nil {
			return "", fmt.Errorf("lab initramfs: %w", err)
		}
	}
	copies := map[string]string{Busybox: filepath.Join(stage, "bin", "busybox")}
	for _, f := range append(append([]string{}, bootFiles...), extraFiles...) {
		copies[f] = filepath.Join(stage, "modules", filepath.Base(f))
	}
	for src, dst := range copies {
		if err := copyFile(src, dst, 0o755); err != nil {
			return "", fmt.Errorf("lab initramfs: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(stage, "init"), initScript, 0o755); err != nil {
		return "", fmt.Errorf("lab initramfs: %w", err)
	}
	for name, files := range map[string][]string{"boot.modules": bootFiles, "extra.modules": extraFiles} {
		var b strings.Builder
		for _, f := range files {
			b.WriteString(filepath.Base(f))
			if p := params[normalizeModule(filepath.Base(f))]; p != "" {
				b.WriteString(" " + p)
			}
			b.WriteString("\n")
		}
		if err := os.WriteFile(filepath.Join(stage, name), []byte(b.String()), 0o644); err != nil {
			return "", fmt.Errorf("lab initramfs: %w", err)
		}
	}
	// busybox --install needs a writable /bin at run time; links made here are
	// simpler and cost nothing.
	applets, err := exec.CommandContext(ctx, Busybox, "--list").Output()
	if err != nil {
		return "", fmt.Errorf("lab initramfs: %s --list: %w", Busybox, err)
	}
	for _, a := range strings.Fields(string(applets)) {
		if a == "busybox" {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(stage, "bin", a)); err != nil {
			return "", fmt.Errorf("lab initramfs: %w", err)
		}
	}

	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", fmt.Errorf("lab initramfs: %w", err)
	}
	var list bytes.Buffer
	err = filepath.Walk(stage, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if rel, _ := filepath.Rel(stage, p); rel != "." {
			list.WriteString(rel + "\n")
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("lab initramfs: %w", err)
	}
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return "", fmt.Errorf("lab initramfs: %w", err)
	}
	cpio := exec.CommandContext(ctx, "cpio", "--quiet", "-o", "-H", "newc")
	cpio.Dir = stage
	cpio.Stdin = &list
	cpio.Stdout = f
	var stderr bytes.Buffer
	cpio.Stderr = &stderr
	err = cpio.Run()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("lab initramfs: cpio (install cpio): %v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, os.Rename(tmp, out)
}

func copyFile(src, dst string, mode os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, mode)
}
