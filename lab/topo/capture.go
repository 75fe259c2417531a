package topo

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Capture is a tcpdump running on one interface of a router, for tests that
// must see what is on the wire (which labels, which ethertype).
type Capture struct {
	cmd    *exec.Cmd
	out    bytes.Buffer
	done   chan error
	cancel context.CancelFunc
	count  int
}

// StartCapture starts tcpdump on ifname in the router, stopping after count
// packets that match the pcap filter, and returns once tcpdump is listening.
func (r *Router) StartCapture(ifname, filter string, count int) *Capture {
	t := r.lab.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	c := &Capture{cancel: cancel, done: make(chan error, 1), count: count}
	c.cmd = exec.CommandContext(ctx, "ip", "netns", "exec", r.Name, "tcpdump", "-i", ifname,
		"-nn", "-e", "-l", "-c", strconv.Itoa(count), filter)
	c.cmd.Stdout = &c.out
	var stderr lockedBuffer
	c.cmd.Stderr = &stderr
	if err := c.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("topo: %s: tcpdump: %v", r.Name, err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	t.Cleanup(func() { c.cancel(); <-c.done })
	// tcpdump says "listening on" once its filter is attached; packets sent
	// before that would be missed.
	Eventually(t, 20*time.Second, r.Name+": tcpdump listening on "+ifname, func() error {
		if strings.Contains(stderr.String(), "listening on") {
			return nil
		}
		return fmt.Errorf("tcpdump said %q", stderr.String())
	})
	return c
}

// Wait waits up to timeout for the capture to see its count of packets and
// returns tcpdump's lines, one a packet.
func (c *Capture) Wait(timeout time.Duration) ([]string, error) {
	select {
	case err := <-c.done:
		c.done <- err // for the cleanup
		lines := strings.Split(strings.TrimSpace(c.out.String()), "\n")
		if err != nil {
			return lines, fmt.Errorf("tcpdump: %w", err)
		}
		return lines, nil
	case <-time.After(timeout):
		c.cancel()
		err := <-c.done
		c.done <- err
		return nil, fmt.Errorf("tcpdump saw fewer than %d matching packets in %s", c.count, timeout)
	}
}
