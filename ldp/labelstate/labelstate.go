// Package labelstate keeps lsrd's local LDP labels across a restart (RFC
// 3478 graceful restart): a small JSON file written atomically (a temporary
// file in the same directory, synced, renamed over the old one) and read
// back at the next start to seed the LIB (lib.Config.Seed), so that each
// FEC gets the label the kernel still forwards with.
//
// It only reads and writes that file; when to save (throttled, and at a
// clean shutdown) and whether the saved labels apply (the kernel kept its
// routes: same boot, keep-routes-on-shutdown) is the daemon's decision.
package labelstate

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/lsrd/lsrd/ldp/fec"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lsrd/lsrd/fib"
)

// Version is the file format written; files of another version are
// refused (the caller starts fresh).
const Version = 1

// State is what one run leaves for the next.
type State struct {
	Version int `json:"version"`
	// BootID is the kernel's boot ID when the file was written: kernel
	// routes survive a restart of lsrd, not a reboot, so labels saved in
	// another boot no longer match anything the kernel forwards with.
	BootID   string     `json:"boot_id"`
	SavedAt  time.Time  `json:"saved_at"`
	RouterID netip.Addr `json:"router_id"`
	// RoutesKept says whether the kernel still has the routes of the run
	// that wrote the file: true while it runs (a crash leaves them), at a
	// clean shutdown only with kernel.keep-routes-on-shutdown.
	RoutesKept bool `json:"routes_kept"`
	// Peers are the neighbours whose sessions negotiated graceful
	// restart: the next run waits for their End-of-LIB.
	Peers  []netip.Addr `json:"gr_peers"`
	Labels []Binding    `json:"labels"` // sorted by FEC
}

// Binding is one FEC's local label.
type Binding struct {
	FEC   fec.FEC   `json:"fec"`
	Label fib.Label `json:"label"`
}

// New returns the state of a run: labels sorted by FEC, peers sorted.
func New(bootID string, routerID netip.Addr, now time.Time, routesKept bool, labels map[fec.FEC]fib.Label, peers []netip.Addr) *State {
	s := &State{Version: Version, BootID: bootID, SavedAt: now.UTC(), RouterID: routerID, RoutesKept: routesKept,
		Peers: slices.Clone(peers), Labels: make([]Binding, 0, len(labels))}
	slices.SortFunc(s.Peers, netip.Addr.Compare)
	for _, p := range slices.SortedFunc(maps.Keys(labels), fec.FEC.Compare) {
		s.Labels = append(s.Labels, Binding{FEC: p, Label: labels[p]})
	}
	return s
}

// Seed returns the labels by FEC, for lib.Config.Seed.
func (s *State) Seed() map[fec.FEC]fib.Label {
	m := make(map[fec.FEC]fib.Label, len(s.Labels))
	for _, b := range s.Labels {
		m[b.FEC] = b.Label
	}
	return m
}

// Load reads the state file at path. A missing file is an error wrapping
// os.ErrNotExist; a damaged one or one of another version is an error
// naming the file.
func Load(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("label state %s: %w", path, err)
	}
	if s.Version != Version {
		return nil, fmt.Errorf("label state %s: version %d, this lsrd reads %d", path, s.Version, Version)
	}
	for i, l := range s.Labels {
		if !l.FEC.IsValid() || l.Label < fib.FirstUnreserved || l.Label > fib.MaxLabel {
			return nil, fmt.Errorf("label state %s: labels[%d]: FEC %v label %d is not a prefix with an unreserved label", path, i, l.FEC, l.Label)
		}
	}
	return &s, nil
}

// Save writes s to path atomically: readers see the old file or the new
// one, never a part. The directory is created if missing (mode 0755, the
// file 0644: labels are no secret).
func Save(path string, s *State) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("label state: %w", err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("label state %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("label state: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("label state %s: %w", path, err)
	}
	// The rename is durable once the directory is.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// bootIDPath is where Linux tells the boot ID.
var bootIDPath = "/proc/sys/kernel/random/boot_id"

// BootID returns the kernel's boot ID.
func BootID() (string, error) {
	b, err := os.ReadFile(bootIDPath)
	if err != nil {
		return "", fmt.Errorf("boot id: %w", err)
	}
	id := strings.TrimSpace(string(b))
	if id == "" {
		return "", errors.New("boot id: empty")
	}
	return id, nil
}
