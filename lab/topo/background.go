package topo

import (
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Background is a command running in a router's namespace while the test
// goes on: a continuous ping, an `ip monitor`. Stop ends it and returns
// what it printed.
type Background struct {
	name string
	cmd  *exec.Cmd
	out  lockedBuffer
	done chan error
}

// Background starts args in the router's namespace and returns at once.
// It is interrupted when the test ends if Stop was not called.
func (r *Router) Background(args ...string) *Background {
	r.lab.t.Helper()
	return r.lab.background(r.Name, args)
}

// Background starts args in the segment's namespace (where its bridge and
// the routers' ports are), as Router.Background does.
func (s *Segment) Background(args ...string) *Background {
	s.lab.t.Helper()
	return s.lab.background(s.Name, args)
}

func (l *Lab) background(ns string, args []string) *Background {
	t := l.t
	t.Helper()
	b := &Background{name: ns + ": " + strings.Join(args, " "), done: make(chan error, 1)}
	b.cmd = exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
	b.cmd.Stdout, b.cmd.Stderr = &b.out, &b.out
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("topo: %s: %v", b.name, err)
	}
	go func() { b.done <- b.cmd.Wait() }()
	t.Cleanup(func() { b.Stop() })
	return b
}

// Output is what the command printed so far.
func (b *Background) Output() string { return b.out.String() }

// Stop sends SIGINT (ping prints its statistics then), waits up to 5 s for
// the command to exit (then kills it), and returns everything it printed.
// Calling it again returns the same.
func (b *Background) Stop() (string, error) {
	select {
	case err := <-b.done:
		b.done <- err
		return b.out.String(), nil
	default:
	}
	b.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-b.done:
		b.done <- err
	case <-time.After(5 * time.Second):
		b.cmd.Process.Kill()
		err := <-b.done
		b.done <- err
		return b.out.String(), fmt.Errorf("%s ignored SIGINT and was killed", b.name)
	}
	return b.out.String(), nil
}
