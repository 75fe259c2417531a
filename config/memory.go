package config

// Memory sets the Go collector's headroom (internal/gctune): lsrd works in
// bursts and rests between them, and headroom pays only while it works.
type Memory struct {
	// GCPercent is the collector's target while lsrd works through a burst
	// (GOGC: the heap may grow by this much of the live data between
	// collections). 0 takes GOGC from the environment, else 100.
	GCPercent int `yaml:"gc-percent"`
	// IdleGCPercent is the target once the work has settled, when lsrd also
	// returns freed memory to the system (default 25, at most gc-percent).
	IdleGCPercent int `yaml:"idle-gc-percent"`
	// LimitMiB is a soft limit on the Go runtime's memory in MiB (GOMEMLIMIT):
	// near it the collector works harder instead of growing the heap. 0
	// takes GOMEMLIMIT from the environment, else none. A limit below the
	// live data makes lsrd spend its CPU collecting: size it well above
	// the steady-state resident memory.
	LimitMiB int `yaml:"limit-mib"`
}

// DefaultIdleGCPercent is memory.idle-gc-percent's default.
const DefaultIdleGCPercent = 25

func (m *Memory) setDefaults() {
	if m.IdleGCPercent == 0 {
		m.IdleGCPercent = DefaultIdleGCPercent
		if m.GCPercent > 0 && m.GCPercent < m.IdleGCPercent {
			m.IdleGCPercent = m.GCPercent
		}
	}
}

func (m Memory) validate() error {
	if m.GCPercent < 0 {
		return fieldError("memory.gc-percent", m.GCPercent, "must be at least 1 (0: GOGC or 100)")
	}
	if m.IdleGCPercent < 1 {
		return fieldError("memory.idle-gc-percent", m.IdleGCPercent, "must be at least 1")
	}
	if m.GCPercent > 0 && m.IdleGCPercent > m.GCPercent {
		return fieldError("memory.idle-gc-percent", m.IdleGCPercent, "must not be above memory.gc-percent: at rest lsrd keeps less headroom, not more")
	}
	if m.LimitMiB < 0 || (m.LimitMiB > 0 && m.LimitMiB < 64) {
		return fieldError("memory.limit-mib", m.LimitMiB, "must be 0 (none) or at least 64")
	}
	return nil
}
