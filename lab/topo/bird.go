package topo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// BIRDConfig describes a BIRD 2 router running OSPFv2 in area 0, the way
// BIRD's documentation configures it: a device protocol, a kernel protocol
// that exports the routes OSPF learns into the main table (as protocol
// "bird", metric 32: BIRD's defaults), and OSPF on point-to-point links
// with fast timers and the loopback as a stub.
type BIRDConfig struct {
	RouterID   string
	Interfaces []string
}

// Render returns bird.conf for a router whose files live in dir.
func (c BIRDConfig) Render(dir string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w(`log "%s" all;`, filepath.Join(dir, "bird.log"))
	w("router id %s;", c.RouterID)
	w("protocol device { scan time 2; }")
	w("protocol kernel { ipv4 { export all; }; }")
	w("protocol ospf v2 {")
	w("  ipv4 { import all; export none; };")
	w("  area 0 {")
	w(`    interface "lo" { stub yes; };`)
	for _, i := range c.Interfaces {
		w(`    interface "%s" { type ptp; hello 1; dead 4; };`, i)
	}
	w("  };")
	w("}")
	return b.String()
}

// BIRD is a running BIRD daemon in a lab namespace.
type BIRD struct {
	r   *Router
	dir string
}

// StartBIRD starts bird with cfg in the router, with its config, control
// socket, pid file and log in a directory of the router's own. It is
// stopped when the test ends, and its log printed if the test failed.
func (r *Router) StartBIRD(cfg BIRDConfig) *BIRD {
	t := r.lab.t
	t.Helper()
	b := &BIRD{r: r, dir: filepath.Join("/run/bird-lab", r.Name)}
	if err := os.MkdirAll(b.dir, 0o755); err != nil {
		t.Fatalf("topo: %s: %v", r.Name, err)
	}
	conf := filepath.Join(b.dir, "bird.conf")
	if err := os.WriteFile(conf, []byte(cfg.Render(b.dir)), 0o644); err != nil {
		t.Fatalf("topo: %s: %v", r.Name, err)
	}
	if out, err := r.Try("bird", "-c", conf, "-s", b.socket(), "-P", b.pidFile()); err != nil {
		t.Fatalf("topo: %s: starting BIRD: %v\n%s", r.Name, err, out)
	}
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(b.dir, "bird.log"))
			t.Logf("topo: %s: BIRD log:\n%s", r.Name, log)
		}
		b.Stop()
	})
	return b
}

func (b *BIRD) socket() string  { return filepath.Join(b.dir, "bird.ctl") }
func (b *BIRD) pidFile() string { return filepath.Join(b.dir, "bird.pid") }

// Birdc runs one birdc command against this BIRD.
func (b *BIRD) Birdc(args ...string) (string, error) {
	return b.r.Try(append([]string{"birdc", "-s", b.socket()}, args...)...)
}

// Stop stops BIRD (SIGTERM, then SIGKILL), which removes the routes it
// exported from the kernel. Calling it again does nothing.
func (b *BIRD) Stop() {
	if err := stopPIDFile(b.pidFile()); err == nil {
		os.Remove(b.pidFile())
	}
}
