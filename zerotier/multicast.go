package zerotier

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// KernelMulticast reads the link-layer multicast groups (MACs) the kernel
// holds on device in the calling thread's network namespace: what ZeroTier
// One's Linux tap reads from dev_mcast and subscribes to. It reads
// /proc/thread-self/net, since /proc/net is the namespace of the process's
// first thread, which need not be the caller's.
func KernelMulticast(device string) ([]string, error) {
	all, err := KernelMulticastAll()
	return all[device], err
}

// KernelMulticastAll is KernelMulticast for every device at once.
func KernelMulticastAll() (map[string][]string, error) {
	b, err := os.ReadFile("/proc/thread-self/net/dev_mcast")
	if errors.Is(err, fs.ErrNotExist) {
		b, err = os.ReadFile("/proc/net/dev_mcast")
	}
	if err != nil {
		return nil, fmt.Errorf("kernel multicast groups: %w", err)
	}
	return parseDevMcast(string(b)), nil
}

// parseDevMcast reads dev_mcast: per line the device's index, name, users,
// global use and the group's address in hex without colons.
func parseDevMcast(s string) map[string][]string {
	out := map[string][]string{}
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) != 5 || len(f[4]) != 12 {
			continue
		}
		parts := make([]string, 0, 6)
		for i := 0; i < 12; i += 2 {
			parts = append(parts, f[4][i:i+2])
		}
		out[f[1]] = append(out[f[1]], strings.Join(parts, ":"))
	}
	return out
}
