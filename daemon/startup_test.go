package daemon

import (
	"strings"
	"testing"
	"time"
)

// TestStartClock checks the start-up phases: the process's age read from
// the kernel covers the time since this test binary began, and each mark
// ends one named phase.
func TestStartClock(t *testing.T) {
	begun := time.Now()
	age, ok := processAge()
	if !ok {
		t.Fatal("the process's age cannot be read from /proc")
	}
	// The process began before its package variables were set, by the
	// time exec and the runtime took, and /proc's clocks count in 10 ms
	// ticks.
	since := time.Since(testBinaryStart)
	if age < since-20*time.Millisecond || age > since+2*time.Second {
		t.Fatalf("process age %v, but this test binary's variables were set %v ago", age, since)
	}
	c := newStartClock(begun)
	time.Sleep(30 * time.Millisecond)
	c.mark("first")
	c.mark("second")
	got := c.String()
	if !strings.HasPrefix(got, "exec=") || !strings.Contains(got, " first=") || !strings.HasSuffix(got, " second=0s") {
		t.Fatalf("phases %q, want exec=..., first=..., second=0s", got)
	}
	if c.took() < 30*time.Millisecond {
		t.Fatalf("took %v, want at least the 30 ms slept", c.took())
	}
}

var testBinaryStart = time.Now()
