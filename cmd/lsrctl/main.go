// Command lsrctl is the operator's view into a running lsrd: sessions, label
// bindings, the LFIB and the RIB, through lsrd's control socket.
//
//	lsrctl show ldp neighbors|discovery|bindings|interfaces|stats
//	lsrctl show lfib | show rib | show fib status | show zerotier
//	lsrctl clear ldp neighbor LSR-ID
//	lsrctl reload
//	lsrctl log-level [debug|info|warn|error]
//	lsrctl ping mpls PREFIX | traceroute mpls PREFIX
//	lsrctl version
//	lsrctl completion bash|zsh|fish|powershell
//	lsrctl zerotier planet create --spec FILE -o world.bin
//	lsrctl zerotier planet inspect [--key FILE] FILE
//
// Exit codes: 0 success, 1 an error from lsrd or from reaching it, 2 bad
// usage.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// stamped is set at build time with -ldflags "-X main.stamped=..."; without
// it the version is the git revision (internal/version).
var stamped = "dev"

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes lsrctl with args and returns its exit code.
func run(args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	app.root.SetArgs(args)
	cmd, err := app.root.ExecuteC()
	if err == nil {
		return exitOK
	}
	var ue usageError
	if !app.ran || errors.As(err, &ue) {
		fmt.Fprintf(stderr, "lsrctl: %v\n", err)
		if cmd != nil {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
		return exitUsage
	}
	fmt.Fprintf(stderr, "lsrctl: %v\n", err)
	return exitError
}

// usageError is a bad argument found after cobra parsed the command line.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }
