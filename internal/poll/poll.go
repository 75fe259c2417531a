// Package poll waits in tests for a condition that real sockets, processes
// or kernels reach in their own time: the one loop the host tests and the
// lab share, so that every wait has a deadline and says what it waited for.
package poll

import "time"

// T is the part of testing.TB that Until needs.
type T interface {
	Helper()
	Fatalf(format string, args ...any)
}

// Until calls f every interval until it returns nil, and fails the test
// with f's last error once timeout has passed.
func Until(t T, timeout, interval time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %s: %v", what, timeout, err)
		}
		time.Sleep(interval)
	}
}
