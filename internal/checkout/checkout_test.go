package checkout

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoot(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !strings.HasPrefix(string(b), "module github.com/lsrd/lsrd\n") {
		t.Fatalf("Root() = %s: go.mod %q, %v", root, b, err)
	}
	if _, err := Binary("no-such-binary"); err == nil || !strings.Contains(err.Error(), "make build") {
		t.Errorf("Binary of a missing file: %v", err)
	}
}

type skipRecorder struct{ skipped string }

func (s *skipRecorder) Helper()                          {}
func (s *skipRecorder) Skipf(format string, args ...any) { s.skipped = format }

func TestSharedSkipsWhenAbsent(t *testing.T) {
	var s skipRecorder
	Shared(&s, "no-such-data", "nothing.bin")
	if !strings.Contains(s.skipped, "absent") {
		t.Errorf("Shared of absent data did not skip: %q", s.skipped)
	}
}
