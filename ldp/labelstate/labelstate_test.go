package labelstate

import (
	"errors"
	"github.com/lsrd/lsrd/ldp/fec"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/fib"
)

func TestSaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "var", "lib", "lsrd", "ldp-labels.json") // directories created
	labels := map[fec.FEC]fib.Label{
		fec.Prefix(netip.MustParsePrefix("10.9.0.0/24")): 500, fec.Prefix(netip.MustParsePrefix("10.8.0.0/24")): 400,
	}
	peers := []netip.Addr{netip.MustParseAddr("3.3.3.3"), netip.MustParseAddr("2.2.2.2")}
	s := New("boot-1", netip.MustParseAddr("1.1.1.1"), time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), true, labels, peers)
	if err := Save(path, s); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("loaded %+v, saved %+v", got, s)
	}
	if got.Labels[0].FEC != fec.Prefix(netip.MustParsePrefix("10.8.0.0/24")) || got.Peers[0] != netip.MustParseAddr("2.2.2.2") {
		t.Errorf("not sorted: %+v", got)
	}
	if !reflect.DeepEqual(got.Seed(), labels) {
		t.Errorf("seed %v, want %v", got.Seed(), labels)
	}
	// Saving again replaces the file and leaves no temporary behind.
	s2 := New("boot-1", s.RouterID, s.SavedAt, false, map[fec.FEC]fib.Label{fec.Prefix(netip.MustParsePrefix("10.7.0.0/24")): 300}, nil)
	if err := Save(path, s2); err != nil {
		t.Fatal(err)
	}
	if got, err := Load(path); err != nil || len(got.Labels) != 1 || got.Labels[0].Label != 300 {
		t.Errorf("second save: %+v, %v", got, err)
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries, want the state file only", len(ents))
	}
}

func TestLoadRefuses(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "none.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want os.ErrNotExist", err)
	}
	for name, body := range map[string]string{
		"garbage":     "{",
		"version":     `{"version": 2}`,
		"bad label":   `{"version": 1, "labels": [{"fec": "10.0.0.0/8", "label": 3}]}`,
		"label range": `{"version": 1, "labels": [{"fec": "10.0.0.0/8", "label": 1048576}]}`,
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want an error naming %s", name, err, p)
		}
	}
}

func TestBootID(t *testing.T) {
	if _, err := os.Stat(bootIDPath); err != nil {
		t.Skip("no boot id on this system")
	}
	a, err := BootID()
	if err != nil || a == "" {
		t.Fatalf("BootID: %q, %v", a, err)
	}
	if b, _ := BootID(); a != b {
		t.Errorf("boot id changed: %s, %s", a, b)
	}
}
