// Command lsrd is the label switch router daemon: it runs LDP with
// neighbouring LSRs, learns routes from BGP and the kernel, and programs the
// kernel's MPLS forwarding to match.
//
// This is the parent in OpenBSD ldpd's sense: it reads the configuration,
// starts the LDP engine, the RIB and the kernel layer, and joins them; it is
// the only part that writes the kernel (through netlinkfib).
package main

import (
	"flag"
	"fmt"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println("lsrd", version)
		return
	}
	// The daemon's parts land one issue at a time (docs/DESIGN.md); until the
	// LDP engine and the kernel layer are joined here, refuse to pretend.
	fmt.Fprintln(os.Stderr, "lsrd: the daemon is not assembled yet: only -version works in this build")
	os.Exit(1)
}
