package topo

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/lsrd/lsrd/internal/checkout"
)

// LSRD is an lsrd process running in a lab router.
type LSRD struct {
	r      *Router
	proc   *process
	Config string // the configuration file
	Socket string // the control API socket
	Log    string // stderr of the process
	client *http.Client
}

// LSRDBinary finds the lsrd binary the lab runs: $LSRD_BIN, else bin/lsrd at
// the top of the checkout (`lab exec` builds it before every guest boots).
func LSRDBinary() (string, error) {
	if b := os.Getenv("LSRD_BIN"); b != "" {
		return b, nil
	}
	return checkout.Binary("lsrd")
}

// StartLSRD writes yaml as the router's lsrd configuration, with the control
// socket placed per router (yaml must not have a control section), and
// starts lsrd in the router. It is stopped with
// SIGTERM when the test ends, and its log printed if the test failed.
func (r *Router) StartLSRD(yaml string) *LSRD {
	r.lab.t.Helper()
	return r.StartLSRDWith(yaml)
}

// StartLSRDWith is StartLSRD with environment variables (NAME=value) for
// lsrd, e.g. LSRD_CPU_PROFILE.
func (r *Router) StartLSRDWith(yaml string, env ...string) *LSRD {
	r.lab.t.Helper()
	var wrap []string
	if len(env) > 0 {
		wrap = append([]string{"env"}, env...)
	}
	return r.startLSRD(yaml, wrap)
}

// StartLSRDAs is StartLSRD with lsrd started through wrap, a command that
// runs its arguments (setpriv with another user and capabilities, say).
// lsrd's directory (configuration, control socket) is writable by anyone.
func (r *Router) StartLSRDAs(yaml string, wrap ...string) *LSRD {
	r.lab.t.Helper()
	return r.startLSRD(yaml, wrap)
}

func (r *Router) startLSRD(yaml string, wrap []string) *LSRD {
	t := r.lab.t
	t.Helper()
	bin, err := LSRDBinary()
	if err != nil {
		t.Fatalf("topo: %s: %v", r.Name, err)
	}
	dir := t.TempDir()
	if len(wrap) > 0 && wrap[0] != "env" {
		dir = OpenDir(t)
	}
	l := &LSRD{r: r, Config: filepath.Join(dir, "lsrd.yaml"), Socket: filepath.Join(dir, "lsrd.sock"), Log: filepath.Join(dir, "lsrd.log")}
	// Each lsrd gets its own control socket; the fixture must know where.
	if strings.Contains(yaml, "\ncontrol:") || strings.HasPrefix(yaml, "control:") {
		t.Fatalf("topo: %s: StartLSRD places the control socket itself; leave control: out of the configuration", r.Name)
	}
	yaml += fmt.Sprintf("\ncontrol:\n  socket: %s\n", l.Socket)
	if err := os.WriteFile(l.Config, []byte(yaml), 0o644); err != nil {
		t.Fatalf("topo: %s: %v", r.Name, err)
	}
	args := append(wrap, bin, "-config", l.Config)
	if l.proc, err = r.startProcess("lsrd", l.Log, args...); err != nil {
		t.Fatalf("topo: %s: %v", r.Name, err)
	}
	l.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", l.Socket)
		},
	}}
	t.Cleanup(func() {
		if err := l.Stop(); err != nil {
			t.Logf("topo: %s: %v", r.Name, err)
		}
		if t.Failed() {
			t.Logf("topo: %s: lsrd log:\n%s", r.Name, l.proc.logText())
		}
	})
	// Connectable, not merely present: a socket file left by an lsrd that
	// was killed is there before the new one listens.
	Eventually(t, StartWait(), r.Name+": lsrd's control socket", func() error {
		if err := l.proc.exited(); err != nil {
			return err
		}
		c, err := net.Dial("unix", l.Socket)
		if err == nil {
			c.Close()
		}
		return err
	})
	return l
}

// StartWait is how long a daemon may take to start (lsrd's control
// socket, zebra's API socket): 20 s, or LSRD_LAB_START_WAIT for a bench
// that starts many daemons in a busy guest.
func StartWait() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("LSRD_LAB_START_WAIT")); err == nil && d > 0 {
		return d
	}
	return 20 * time.Second
}

// Get queries the control API (path like "/v1/ldp/bindings") and decodes the
// response's data into v.
func (l *LSRD) Get(path string, v any) error {
	resp, err := l.client.Get("http://lsrd" + path)
	if err != nil {
		return fmt.Errorf("%s: lsrd %s: %w", l.r.Name, path, err)
	}
	defer resp.Body.Close()
	var env struct {
		Version int             `json:"version"`
		Data    json.RawMessage `json:"data"`
		Error   string          `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return fmt.Errorf("%s: lsrd %s: %w", l.r.Name, path, err)
	}
	if env.Error != "" {
		return fmt.Errorf("%s: lsrd %s: %s", l.r.Name, path, env.Error)
	}
	return json.Unmarshal(env.Data, v)
}

// Signal sends sig to the lsrd process.
func (l *LSRD) Signal(sig syscall.Signal) error {
	return l.proc.cmd.Process.Signal(sig)
}

// Kill stops lsrd with SIGKILL, as a crash would, leaving whatever it
// installed in the kernel.
func (l *LSRD) Kill() {
	l.proc.cmd.Process.Kill()
	l.proc.wait()
}

// Stop sends SIGTERM and waits up to 10 s for a clean exit. It returns an
// error if lsrd had to be killed or exited with a failure.
func (l *LSRD) Stop() error { return l.proc.stop(10 * time.Second) }

// StopWithin is Stop with the wait for lsrd to exit before it is killed:
// for a stop that removes a large table (kernel.stop-timeout bounds it).
func (l *LSRD) StopWithin(d time.Duration) error { return l.proc.stop(d) }

// Reload replaces lsrd's configuration with yaml (which, as for StartLSRD,
// has no control section) and asks lsrd to apply it through the control
// API, returning lsrd's verdict.
func (l *LSRD) Reload(yaml string) error {
	if err := os.WriteFile(l.Config, []byte(yaml+"control:\n  socket: "+l.Socket+"\n"), 0o644); err != nil {
		return err
	}
	return l.Post("/v1/reload")
}

// Post asks the control API to act (path like "/v1/reload") and returns
// lsrd's verdict.
func (l *LSRD) Post(path string) error {
	resp, err := l.client.Post("http://lsrd"+path, "application/json", nil)
	if err != nil {
		return fmt.Errorf("%s: lsrd %s: %w", l.r.Name, path, err)
	}
	defer resp.Body.Close()
	var env struct {
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return fmt.Errorf("%s: lsrd %s: %w", l.r.Name, path, err)
	}
	if env.Error != "" {
		return fmt.Errorf("%s: lsrd %s: %s", l.r.Name, path, env.Error)
	}
	return nil
}

// Pid returns the lsrd process's ID (ip netns exec execs lsrd in place), for
// reading its memory from /proc.
func (l *LSRD) Pid() int { return l.proc.cmd.Process.Pid }

// Ctl runs lsrctl against this lsrd, in its router's namespace, and returns
// what it printed (stdout and stderr) and how it ended.
func (l *LSRD) Ctl(args ...string) (string, error) {
	bin, err := checkout.Binary("lsrctl")
	if err != nil {
		return "", err
	}
	return l.r.Try(append([]string{bin, "--socket", l.Socket}, args...)...)
}

// OpenDir returns a new directory anyone may write in, under /tmp (a test's
// own temporary directory is closed to other users), removed when the test
// ends: for daemons run as another user.
func OpenDir(t T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "lsrd-open-")
	if err == nil {
		err = os.Chmod(dir, 0o777)
	}
	if err != nil {
		t.Fatalf("topo: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
