package topo

import (
	"fmt"
	"io"
	"os"
	"runtime"
)

// Standalone runs body with a T of its own, for programs outside `go test`
// such as the lab demo: Fatalf ends body the way testing.T's FailNow does, and
// every cleanup body registered runs however body ends. It reports whether
// body failed.
func Standalone(log io.Writer, body func(T)) (failed bool) {
	s := &standaloneT{log: log}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				s.failed = true
				fmt.Fprintf(log, "panic: %v\n", p)
			}
		}()
		body(s)
	}()
	<-done
	for len(s.cleanups) > 0 {
		f := s.cleanups[len(s.cleanups)-1]
		s.cleanups = s.cleanups[:len(s.cleanups)-1]
		f()
	}
	return s.failed
}

type standaloneT struct {
	log      io.Writer
	cleanups []func()
	failed   bool
}

func (s *standaloneT) Helper()          {}
func (s *standaloneT) Cleanup(f func()) { s.cleanups = append(s.cleanups, f) }
func (s *standaloneT) Failed() bool     { return s.failed }

func (s *standaloneT) Logf(format string, args ...any) {
	fmt.Fprintf(s.log, format+"\n", args...)
}

func (s *standaloneT) Fatalf(format string, args ...any) {
	s.failed = true
	s.Logf(format, args...)
	runtime.Goexit()
}

func (s *standaloneT) TempDir() string {
	dir, err := os.MkdirTemp("", "lsrd-lab-")
	if err != nil {
		s.Fatalf("topo: %v", err)
	}
	s.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
