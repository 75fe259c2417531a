// Command lsrctl is the operator's view into a running lsrd: sessions, label
// bindings, the LFIB and the RIB, through lsrd's control socket.
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
		fmt.Println("lsrctl", version)
		return
	}
	fmt.Fprintln(os.Stderr, "lsrctl: lsrd's control API is not built yet: only -version works in this build")
	os.Exit(1)
}
