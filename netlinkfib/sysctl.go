package netlinkfib

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The sysctls of the kernel's MPLS forwarding. /proc/sys/net shows the
// network namespace of the thread that opens it, so the FIB opens them from
// a thread in its namespace (see WithNetNS).
const (
	sysctlPlatformLabels = "/proc/sys/net/mpls/platform_labels"
	sysctlMPLSConf       = "/proc/sys/net/mpls/conf"
)

// CheckMPLS reports whether the kernel can forward MPLS in the FIB's
// namespace: ErrNoMPLS when the mpls_router module is not loaded (the
// sysctl tree is missing), nil otherwise.
func (f *FIB) CheckMPLS() error {
	return inNamespace(f.ns, func() error {
		_, err := os.Stat(sysctlPlatformLabels)
		if errors.Is(err, fs.ErrNotExist) {
			return ErrNoMPLS
		}
		if err != nil {
			return fmt.Errorf("checking MPLS forwarding: %w", err)
		}
		return nil
	})
}

// EnsurePlatformLabels makes the kernel's label table hold labels up to
// n-1 (net.mpls.platform_labels); it never shrinks it, since shrinking
// deletes every route above the new size, other daemons' too.
func (f *FIB) EnsurePlatformLabels(n int) error {
	return inNamespace(f.ns, func() error {
		cur, err := readSysctlInt(sysctlPlatformLabels)
		if errors.Is(err, fs.ErrNotExist) {
			return ErrNoMPLS
		}
		if err != nil {
			return err
		}
		if cur >= n {
			return nil
		}
		return writeSysctl(sysctlPlatformLabels, strconv.Itoa(n))
	})
}

// EnableMPLSInput sets net.mpls.conf.<if>.input=1 on each interface: the
// kernel drops labelled packets arriving on an interface without it.
func (f *FIB) EnableMPLSInput(ifnames ...string) error {
	return inNamespace(f.ns, func() error {
		for _, ifname := range ifnames {
			if ifname == "" || strings.ContainsAny(ifname, "/.") {
				return fmt.Errorf("enabling MPLS input: bad interface name %q", ifname)
			}
			p := filepath.Join(sysctlMPLSConf, ifname, "input")
			if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
				if _, err := os.Stat(sysctlPlatformLabels); errors.Is(err, fs.ErrNotExist) {
					return ErrNoMPLS
				}
				return fmt.Errorf("enabling MPLS input on interface %s: no such interface", ifname)
			}
			if err := writeSysctl(p, "1"); err != nil {
				return fmt.Errorf("enabling MPLS input on interface %s: %w", ifname, err)
			}
		}
		return nil
	})
}

func readSysctlInt(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a number", path, strings.TrimSpace(string(b)))
	}
	return n, nil
}

func writeSysctl(path, value string) error {
	if err := os.WriteFile(path, []byte(value), 0); err != nil {
		return fmt.Errorf("writing %s to %s: %w", value, path, err)
	}
	return nil
}
