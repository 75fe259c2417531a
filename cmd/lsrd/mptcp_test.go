package main

import (
	"net"
	"testing"
)

// The //go:debug line keeps Go's listeners (GoBGP's among them) off
// multipath TCP, on which the kernel refuses IP_TTL.
func TestNoMultipathTCP(t *testing.T) {
	var lc net.ListenConfig
	if lc.MultipathTCP() {
		t.Error("lsrd's listeners would use multipath TCP")
	}
}
