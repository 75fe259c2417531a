package daemon

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// startClock times the phases of lsrd's start-up, for the "lsrd started"
// line: where the time from exec to a router that speaks LDP goes (the
// kernel's state read, the sockets, the first routes), so that a slow start
// on a real router can be told apart from a slow peer.
type startClock struct {
	last   time.Time
	total  time.Duration
	phases strings.Builder
}

// newStartClock begins at t0, with the time the process ran before it
// (exec, the Go runtime and package initialisation) as the first phase
// when the kernel tells it.
func newStartClock(t0 time.Time) *startClock {
	c := &startClock{last: t0}
	if age, ok := processAge(); ok {
		// processAge is read after t0, so part of it is the time since.
		c.add("exec", max(0, age-time.Since(t0)))
	}
	return c
}

// mark ends the phase named phase.
func (c *startClock) mark(phase string) {
	now := time.Now()
	c.add(phase, now.Sub(c.last))
	c.last = now
}

func (c *startClock) add(phase string, d time.Duration) {
	c.total += d
	if c.phases.Len() > 0 {
		c.phases.WriteByte(' ')
	}
	fmt.Fprintf(&c.phases, "%s=%s", phase, d.Round(time.Millisecond))
}

// took is the time from exec (or from the clock's start) to the last mark.
func (c *startClock) took() time.Duration { return c.total.Round(time.Millisecond) }

// String lists the phases ended so far, "name=duration" each.
func (c *startClock) String() string { return c.phases.String() }

// processAge is how long ago this process was started, from the kernel's
// start time in clock ticks since boot (/proc/self/stat, field 22) and the
// uptime (/proc/uptime), both to 10 ms.
func processAge() (time.Duration, bool) {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	up, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0, false
	}
	// The command name (field 2) may hold spaces; fields after it are
	// counted from its closing parenthesis.
	i := strings.LastIndexByte(string(stat), ')')
	upFields := strings.Fields(string(up))
	if i < 0 || len(upFields) == 0 {
		return 0, false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 20 {
		return 0, false
	}
	ticks, err := strconv.ParseUint(f[19], 10, 64) // field 22: starttime
	if err != nil {
		return 0, false
	}
	uptime, err := strconv.ParseFloat(upFields[0], 64)
	if err != nil {
		return 0, false
	}
	const userHZ = 100 // sysconf(_SC_CLK_TCK) on Linux
	age := time.Duration(uptime*float64(time.Second)) - time.Duration(ticks)*time.Second/userHZ
	return age, age >= 0
}
