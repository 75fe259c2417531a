// Package heap measures the live heap, for the benchmarks that state the
// bytes each layer keeps per route.
package heap

import "runtime"

// Live is the heap in use after a collection: what is reachable now.
func Live() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
