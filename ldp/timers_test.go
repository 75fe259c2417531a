package ldp

import (
	"fmt"
	"testing"
	"time"
)

// bruteDeadline is the next deadline found by walking every timer of every
// object, as the engine did before timers were filed in a heap: the oracle
// of NextDeadline in every conformance case and fuzz run.
func bruteDeadline(e *Engine) (time.Time, bool) {
	var next time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, i := range e.ifaces {
		consider(i.nextHello)
	}
	for _, t := range e.targets {
		consider(t.nextHello)
	}
	for _, a := range e.adjs {
		consider(a.expires)
	}
	for _, n := range e.nbrs {
		consider(n.retryAt)
	}
	for _, s := range e.conns {
		if s.connected {
			consider(s.holdExpires)
		}
		if s.state == Operational {
			consider(s.nextKeepAlive)
		}
	}
	for _, h := range e.helping {
		consider(h.reconnectBy)
		consider(h.recoverBy)
	}
	if e.restart != nil {
		consider(e.restart.until)
	}
	consider(e.counts.sweepAt)
	return next, !next.IsZero()
}

// deadlineMismatch reports NextDeadline disagreeing with the walk.
func deadlineMismatch(e *Engine) error {
	got, gok := e.NextDeadline()
	want, wok := bruteDeadline(e)
	if gok != wok || !got.Equal(want) {
		return fmt.Errorf("NextDeadline = %v %v, walking every timer gives %v %v", got, gok, want, wok)
	}
	return nil
}

// checkDeadline fails t when NextDeadline and the walk disagree.
func checkDeadline(t testing.TB, e *Engine) {
	t.Helper()
	if err := deadlineMismatch(e); err != nil {
		t.Fatal(err)
	}
}
