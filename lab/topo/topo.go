package topo

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/lsrd/lsrd/internal/poll"
)

// T is what the fixtures need from their caller: a *testing.T, or a program
// such as the lab demo that keeps its own cleanup stack.
type T interface {
	Helper()
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Cleanup(func())
	Failed() bool
	TempDir() string
}

// Lab is one test's topology. Create it with New; everything in it is removed
// when the test ends.
type Lab struct {
	t       T
	routers map[string]*Router
}

// New returns an empty topology for t. It fails the test at once outside the
// lab guest, where creating namespaces and rewriting /etc/frr would touch the
// developer's own machine.
func New(t T) *Lab {
	t.Helper()
	if os.Getenv("LSRD_LAB") != "1" {
		t.Fatalf("topo: this runs only inside the kernel lab (make lab-test, or go test -tags lab -exec 'bin/lab exec')")
	}
	return &Lab{t: t, routers: map[string]*Router{}}
}

// Router is a network namespace standing for one router.
type Router struct {
	lab  *Lab
	Name string
}

// Router creates a router: a network namespace with loopback up.
func (l *Lab) Router(name string) *Router {
	l.t.Helper()
	if _, dup := l.routers[name]; dup {
		l.t.Fatalf("topo: router %s created twice", name)
	}
	l.mustHost("ip", "netns", "add", name)
	r := &Router{lab: l, Name: name}
	l.routers[name] = r
	l.t.Cleanup(func() { l.host("ip", "netns", "del", name) })
	r.Run("ip", "link", "set", "lo", "up")
	return r
}

// Run runs a command in the router's namespace and fails the test if it fails.
func (r *Router) Run(args ...string) string {
	r.lab.t.Helper()
	out, err := r.Try(args...)
	if err != nil {
		r.lab.t.Fatalf("topo: %s: %v", r.Name, err)
	}
	return out
}

// Try runs a command in the router's namespace and returns its output, and an
// error that carries the output when it fails. It has a minute.
func (r *Router) Try(args ...string) (string, error) {
	return r.TryFor(time.Minute, args...)
}

// RunFor is Run with a time limit of its own, for work that grows with a
// benchmark's size (an ip -batch of 50,000 routes, zebra reading them).
func (r *Router) RunFor(limit time.Duration, args ...string) string {
	r.lab.t.Helper()
	out, err := r.TryFor(limit, args...)
	if err != nil {
		r.lab.t.Fatalf("topo: %s: %v", r.Name, err)
	}
	return out
}

// TryFor is Try with a time limit of its own.
func (r *Router) TryFor(limit time.Duration, args ...string) (string, error) {
	return r.lab.hostFor(limit, append([]string{"ip", "netns", "exec", r.Name}, args...)...)
}

// AddLoopback adds an address (with prefix length) to the router's loopback.
func (r *Router) AddLoopback(cidr string) {
	r.lab.t.Helper()
	r.Run("ip", "addr", "add", cidr, "dev", "lo")
}

// host runs a command in the guest's root namespace with a one-minute limit.
func (l *Lab) host(args ...string) (string, error) {
	return l.hostFor(time.Minute, args...)
}

func (l *Lab) hostFor(limit time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

func (l *Lab) mustHost(args ...string) string {
	l.t.Helper()
	out, err := l.host(args...)
	if err != nil {
		l.t.Fatalf("topo: %v", err)
	}
	return out
}

// Eventually calls f until it returns nil or the timeout passes, then fails the
// test with f's last error. Real daemons converge in their own time; this is
// the one place the lab waits for them.
func Eventually(t T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	poll.Until(t, timeout, 250*time.Millisecond, "topo: "+what, f)
}
