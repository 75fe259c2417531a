// Package checkout finds places relative to lsrd's source checkout: its top
// (the folder with go.mod), the binaries `make build` and `lab exec` put in
// bin/, and the workplace's shared test data beside it (../shared). Tests
// and the lab use it; lsrd itself never does.
package checkout

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Root returns the top of the checkout: the nearest folder above the
// working directory that holds go.mod.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Binary returns bin/name at the top of the checkout, if it was built.
func Binary(name string) (string, error) {
	root, err := Root()
	if err != nil {
		return "", fmt.Errorf("%s binary: %w", name, err)
	}
	bin := filepath.Join(root, "bin", name)
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("%s binary: %w (make build)", name, err)
	}
	return bin, nil
}

// Skipper is the part of testing.TB that Shared needs.
type Skipper interface {
	Helper()
	Skipf(format string, args ...any)
}

// Shared returns ../shared/testdata/<sub> beside the checkout, where the
// workplace keeps test data that the project must not copy, or skips the
// test saying why when want (a file under it) is not there.
func Shared(t Skipper, sub, want string) string {
	t.Helper()
	root, err := Root()
	if err != nil {
		t.Skipf("cannot locate ../shared/testdata: %v", err)
		return ""
	}
	dir := filepath.Join(root, "..", "shared", "testdata", sub)
	if _, err := os.Stat(filepath.Join(dir, want)); err != nil {
		t.Skipf("the shared test data is absent (%v): it lives in ../shared/testdata/%s beside the checkout", err, sub)
	}
	return dir
}
