// Package hostonly lets a long, pure-computation test skip itself inside the
// kernel lab's guest. The lab phase runs whole packages under software
// emulation, so a randomized test that needs no kernel would run there a
// second time, 30-50 times slower than in the unit phase on the host, which
// already ran it.
package hostonly

import (
	"os"
	"testing"
)

// Skip skips t when it runs inside the lab guest (LSRD_LAB=1).
func Skip(t testing.TB) {
	t.Helper()
	if os.Getenv("LSRD_LAB") == "1" {
		t.Skip("pure computation: runs in the unit phase on the host, not again under emulation")
	}
}
