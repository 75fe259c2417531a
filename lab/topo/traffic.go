package topo

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Ping is a continuous ping from a router (StartPing): the measure of a
// continuity claim, where a poll would only see the end state.
type Ping struct {
	r    *Router
	dst  string
	cmd  *exec.Cmd
	out  bytes.Buffer
	done chan error
}

// PingResult is what a Ping saw.
type PingResult struct {
	Sent, Received int
	Output         string
}

// Lost is the number of echo requests without a reply.
func (p PingResult) Lost() int { return p.Sent - p.Received }

// StartPing sends count echo requests to dst, one every interval, from the
// router; Wait returns the figures once the last reply came or a second
// passed.
func (r *Router) StartPing(dst string, interval time.Duration, count int) *Ping {
	p := &Ping{r: r, dst: dst, done: make(chan error, 1)}
	p.cmd = exec.Command("ip", "netns", "exec", r.Name, "ping", "-n", "-q", "-c", strconv.Itoa(count),
		"-i", strconv.FormatFloat(interval.Seconds(), 'f', 3, 64), "-W", "1", dst)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		r.lab.t.Fatalf("topo: %s: ping %s: %v", r.Name, dst, err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	r.lab.t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		p.done <- nil
	})
	return p
}

var pingSummary = regexp.MustCompile(`(\d+) packets transmitted, (\d+) received`)

// Wait waits for the ping to end and returns its figures. A ping that
// lost packets exits with status 1; that is a figure, not an error.
func (p *Ping) Wait(timeout time.Duration) (PingResult, error) {
	select {
	case <-p.done:
		p.done <- nil
	case <-time.After(timeout):
		p.cmd.Process.Signal(syscall.SIGINT)
		<-p.done
		p.done <- nil
	}
	res := PingResult{Output: p.out.String()}
	m := pingSummary.FindStringSubmatch(res.Output)
	if m == nil {
		return res, fmt.Errorf("%s: ping %s: no summary in %q", p.r.Name, p.dst, res.Output)
	}
	res.Sent, _ = strconv.Atoi(m[1])
	res.Received, _ = strconv.Atoi(m[2])
	return res, nil
}

// Monitor records a router's kernel route and nexthop notifications
// (`ip monitor`) while it runs: deletions a restart must not cause show
// up there even when they are undone a moment later.
type Monitor struct {
	r      *Router
	cancel context.CancelFunc
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer
	done   chan struct{}
}

// lockedWriter serialises the monitor's writes with Lines' reads.
type lockedWriter struct{ m *Monitor }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	return w.m.out.Write(b)
}

// StartMonitor runs `ip -ts monitor route nexthop` (IPv4, IPv6 and MPLS
// routes, and nexthop objects) in the router until Stop or the test's end.
func (r *Router) StartMonitor() *Monitor {
	ctx, cancel := context.WithCancel(context.Background())
	m := &Monitor{r: r, cancel: cancel, done: make(chan struct{})}
	m.cmd = exec.CommandContext(ctx, "ip", "netns", "exec", r.Name, "ip", "-ts", "monitor", "route", "nexthop")
	m.cmd.Stdout, m.cmd.Stderr = lockedWriter{m}, lockedWriter{m}
	if err := m.cmd.Start(); err != nil {
		cancel()
		r.lab.t.Fatalf("topo: %s: ip monitor: %v", r.Name, err)
	}
	go func() { m.cmd.Wait(); close(m.done) }()
	r.lab.t.Cleanup(func() { m.Stop() })
	// ip monitor subscribes before it prints anything; give it the moment.
	time.Sleep(200 * time.Millisecond)
	return m
}

// Stop ends the monitor and returns every line it printed.
func (m *Monitor) Stop() []string {
	m.cancel()
	<-m.done
	return m.Lines()
}

// Lines returns what the monitor printed so far.
func (m *Monitor) Lines() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, l := range strings.Split(m.out.String(), "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// Deleted returns the lines announcing a deletion that contain every one
// of match (e.g. a prefix, "proto ldp").
func (m *Monitor) Deleted(match ...string) []string {
	var out []string
	for _, l := range m.Lines() {
		if !strings.Contains(l, "Deleted") {
			continue
		}
		all := true
		for _, s := range match {
			all = all && strings.Contains(l, s)
		}
		if all {
			out = append(out, l)
		}
	}
	return out
}
