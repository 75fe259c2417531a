package daemon

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/config"
	"github.com/lsrd/lsrd/netlinkfib"
)

// On a kernel without MPLS forwarding (the development and CI hosts' own
// kernel) lsrd refuses to start with one clear error instead of a stream of
// netlink failures. On a kernel with MPLS there is nothing to show.
func TestRefusesKernelWithoutMPLS(t *testing.T) {
	if _, err := os.Stat("/proc/sys/net/mpls/platform_labels"); err == nil {
		t.Skip("this kernel has MPLS forwarding; the lab tests cover lsrd on it")
	}
	cfg, err := config.Parse("test.yaml", []byte("router-id: 192.0.2.1\ncontrol:\n  socket: "+t.TempDir()+"/lsrd.sock\n"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = d.Run(ctx)
	if !errors.Is(err, netlinkfib.ErrNoMPLS) || !strings.Contains(err.Error(), "mpls_router") {
		t.Fatalf("Run on a kernel without MPLS: %v, want ErrNoMPLS naming mpls_router", err)
	}
}
