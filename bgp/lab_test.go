//go:build lab

package bgp

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v3/api"

	"github.com/lsrd/lsrd/lab/topo"
)

// The Speaker must run inside a lab router's network namespace, but GoBGP
// opens its sockets from goroutines on arbitrary threads, and a Go process
// cannot move all its threads into a namespace. So the test binary runs
// itself again under `ip netns exec` as a helper process (no separate binary
// to build in the slow guest): TestMain turns into the helper when
// helperEnv holds a Config.
//
// The helper speaks JSON lines. Stdin: a Config per line, passed to Apply;
// end of input stops the speaker. Stdout: helperLine values.
const helperEnv = "LSRD_BGP_HELPER_CONFIG"

type helperLine struct {
	Updates    []helperUpdate `json:"updates,omitempty"`
	Neighbors  []NeighborInfo `json:"neighbors,omitempty"`
	ApplyError *string        `json:"apply_error,omitempty"`
	Stopped    bool           `json:"stopped,omitempty"`
	// Leaked lists goroutines alive after Stop that were not before New.
	Leaked string `json:"leaked,omitempty"`
}

// helperUpdate is an Update in JSON (rib.Source has no UnmarshalText).
type helperUpdate struct {
	Prefix    netip.Prefix `json:"prefix"`
	Source    string       `json:"source"`
	Distance  uint8        `json:"distance"`
	NextHops  []netip.Addr `json:"next_hops"`
	Withdrawn bool         `json:"withdrawn"`
}

func TestMain(m *testing.M) {
	if c := os.Getenv(helperEnv); c != "" {
		os.Exit(runHelper(c))
	}
	os.Exit(m.Run())
}

func runHelper(config string) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	before, _ := goroutines()
	var cfg Config
	if err := json.Unmarshal([]byte(config), &cfg); err != nil {
		log.Error("helper: config", "err", err)
		return 2
	}
	var mu sync.Mutex
	enc := json.NewEncoder(os.Stdout)
	emit := func(l helperLine) {
		mu.Lock()
		defer mu.Unlock()
		enc.Encode(l)
	}
	s, err := New(cfg, log, func(us []Update) {
		var l helperLine
		for _, u := range us {
			hu := helperUpdate{Prefix: u.Route.Prefix, Source: u.Route.Source.String(), Distance: u.Route.Distance, Withdrawn: u.Withdrawn}
			for _, nh := range u.Route.NextHops {
				hu.NextHops = append(hu.NextHops, nh.Addr)
			}
			l.Updates = append(l.Updates, hu)
		}
		emit(l)
	})
	if err != nil {
		log.Error("helper: new", "err", err)
		return 2
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := s.Start(ctx); err != nil {
		log.Error("helper: start", "err", err)
		return 2
	}
	// Report neighbour states when they change.
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		var last string
		for ctx.Err() == nil {
			ns, err := s.Neighbors(ctx)
			if err == nil {
				b, _ := json.Marshal(ns)
				if string(b) != last {
					last = string(b)
					emit(helperLine{Neighbors: ns})
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var next Config
		err := json.Unmarshal(sc.Bytes(), &next)
		if err == nil {
			err = s.Apply(ctx, next)
		}
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		emit(helperLine{ApplyError: &msg})
	}
	cancel()
	<-pollDone
	s.Stop()
	// Sessions' goroutines end asynchronously after StopBgp returns.
	var leaked string
	for range 100 {
		var n int
		if n, leaked = goroutines(); n <= before {
			leaked = ""
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	emit(helperLine{Stopped: true, Leaked: leaked})
	return 0
}

// helper is the test's side of a helper process.
type helper struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{}

	mu        sync.Mutex
	updates   []helperUpdate
	neighbors [][]NeighborInfo
	applied   []string
	stopped   bool
	leaked    string
	stderr    lockedWriter
}

type lockedWriter struct {
	mu  sync.Mutex
	buf []byte
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func startHelper(t *testing.T, router string, cfg Config) *helper {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &helper{t: t, done: make(chan struct{})}
	h.cmd = exec.Command("ip", "netns", "exec", router, self)
	h.cmd.Env = append(os.Environ(), helperEnv+"="+string(c))
	h.cmd.Stderr = &h.stderr
	stdout, err := h.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if h.stdin, err = h.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(h.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var l helperLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				continue // not ours (e.g. the testing package's output)
			}
			h.mu.Lock()
			h.updates = append(h.updates, l.Updates...)
			if l.Neighbors != nil {
				h.neighbors = append(h.neighbors, l.Neighbors)
			}
			if l.ApplyError != nil {
				h.applied = append(h.applied, *l.ApplyError)
			}
			h.stopped = h.stopped || l.Stopped
			if l.Stopped {
				h.leaked = l.Leaked
			}
			h.mu.Unlock()
		}
		h.cmd.Wait()
	}()
	t.Cleanup(func() {
		h.stop()
		if t.Failed() {
			h.stderr.mu.Lock()
			t.Logf("helper log:\n%s", h.stderr.buf)
			h.stderr.mu.Unlock()
		}
	})
	return h
}

// stop closes the helper's input (it stops its speaker) and waits for it.
func (h *helper) stop() {
	h.stdin.Close()
	select {
	case <-h.done:
	case <-time.After(20 * time.Second):
		h.cmd.Process.Kill()
		<-h.done
	}
}

func (h *helper) apply(cfg Config) {
	h.t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	h.mu.Lock()
	n := len(h.applied)
	h.mu.Unlock()
	if _, err := h.stdin.Write(append(b, '\n')); err != nil {
		h.t.Fatal(err)
	}
	topo.Eventually(h.t, 10*time.Second, "Apply", func() error {
		h.mu.Lock()
		defer h.mu.Unlock()
		if len(h.applied) == n {
			return fmt.Errorf("no answer yet")
		}
		if e := h.applied[n]; e != "" {
			h.t.Fatalf("Apply: %s", e)
		}
		return nil
	})
}

// last is the latest update for prefix.
func (h *helper) last(prefix netip.Prefix) (helperUpdate, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := len(h.updates) - 1; i >= 0; i-- {
		if h.updates[i].Prefix == prefix {
			return h.updates[i], true
		}
	}
	return helperUpdate{}, false
}

func (h *helper) neighbor(addr netip.Addr) NeighborInfo {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.neighbors) == 0 {
		return NeighborInfo{}
	}
	for _, n := range h.neighbors[len(h.neighbors)-1] {
		if n.Address == addr {
			return n
		}
	}
	return NeighborInfo{}
}

// lsrd's speaker (in r1, dialling out only) peers with Debian's gobgpd (r2):
// routes and a withdrawal reach the RIB's updates, our loopback reaches
// gobgpd, a reload adds a network without resetting the session, and Stop
// closes the session.
func TestSpeakerWithGoBGPD(t *testing.T) {
	lab := topo.New(t)
	r1, r2 := lab.Router("r1"), lab.Router("r2")
	lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	r1.AddLoopback("1.1.1.1/32")
	g := r2.StartGoBGP(topo.GoBGPConfig{AS: 65002, RouterID: "2.2.2.2",
		Neighbors: []topo.BGPNeighbor{{Address: "10.0.0.1", AS: 65001}}})

	peer := netip.MustParseAddr("10.0.0.2")
	cfg := Config{
		AS:         65001,
		RouterID:   netip.MustParseAddr("1.1.1.1"),
		ListenPort: -1,
		Neighbors:  []Neighbor{{Address: peer, RemoteAS: 65002}},
		Networks:   []netip.Prefix{netip.MustParsePrefix("1.1.1.1/32")},
	}
	h := startHelper(t, r1.Name, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	g.WaitEstablished(t, 60*time.Second, "10.0.0.1")
	topo.Eventually(t, 10*time.Second, "lsrd's session with gobgpd", func() error {
		if n := h.neighbor(peer); n.State != "established" || n.RemoteAS != 65002 {
			return fmt.Errorf("neighbour %+v", n)
		}
		return nil
	})

	prefixes := []netip.Prefix{
		netip.MustParsePrefix("198.51.100.0/24"),
		netip.MustParsePrefix("203.0.113.0/25"),
		netip.MustParsePrefix("2.2.2.2/32"),
	}
	for _, p := range prefixes {
		if err := g.AddRoute(ctx, p, peer); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range prefixes {
		topo.Eventually(t, 20*time.Second, "update for "+p.String(), func() error {
			u, ok := h.last(p)
			want := helperUpdate{Prefix: p, Source: "bgp", Distance: 20, NextHops: []netip.Addr{peer}}
			if !ok || u.Prefix != want.Prefix || u.Source != want.Source || u.Distance != want.Distance ||
				u.Withdrawn || !slices.Equal(u.NextHops, want.NextHops) {
				return fmt.Errorf("got %+v (found %v), want %+v", u, ok, want)
			}
			return nil
		})
	}

	topo.Eventually(t, 10*time.Second, "neighbour counters", func() error {
		if n := h.neighbor(peer); n.Received != 3 || n.Accepted != 3 || n.Uptime <= 0 {
			return fmt.Errorf("neighbour %+v, want 3 received and accepted and an uptime", n)
		}
		return nil
	})

	if err := g.DeleteRoute(ctx, prefixes[1], peer); err != nil {
		t.Fatal(err)
	}
	topo.Eventually(t, 20*time.Second, "withdrawal of "+prefixes[1].String(), func() error {
		if u, _ := h.last(prefixes[1]); !u.Withdrawn {
			return fmt.Errorf("latest update %+v", u)
		}
		return nil
	})

	hasPrefixes := func(want ...string) func() error {
		return func() error {
			rib, err := g.Prefixes(ctx)
			if err != nil {
				return err
			}
			for _, w := range want {
				if !slices.Contains(rib, w) {
					return fmt.Errorf("gobgpd's RIB %v has no %s", rib, w)
				}
			}
			return nil
		}
	}
	topo.Eventually(t, 20*time.Second, "our loopback in gobgpd", hasPrefixes("1.1.1.1/32"))

	// Reload: a new network, the same neighbour. The session must not reset.
	h.mu.Lock()
	statesBefore := len(h.neighbors)
	h.mu.Unlock()
	cfg.Networks = append(cfg.Networks, netip.MustParsePrefix("10.77.0.0/24"))
	h.apply(cfg)
	topo.Eventually(t, 20*time.Second, "reloaded network in gobgpd", hasPrefixes("1.1.1.1/32", "10.77.0.0/24"))
	h.mu.Lock()
	for _, ns := range h.neighbors[statesBefore:] {
		for _, n := range ns {
			if n.State != "established" {
				t.Errorf("session went %s during the reload", n.State)
			}
		}
	}
	h.mu.Unlock()

	// Stop closes the session (a Cease), which gobgpd sees at once.
	h.stop()
	h.mu.Lock()
	stopped, leaked := h.stopped, h.leaked
	h.mu.Unlock()
	if !stopped {
		t.Fatal("helper did not report its speaker stopped")
	}
	if leaked != "" {
		t.Errorf("goroutines left after Stop:\n%s", leaked)
	}
	topo.Eventually(t, 10*time.Second, "gobgpd sees the session closed", func() error {
		st, err := g.PeerState(ctx, "10.0.0.1")
		if err != nil {
			return err
		}
		if st == api.PeerState_ESTABLISHED {
			return fmt.Errorf("still established")
		}
		return nil
	})
}
