package main

import (
	"os/exec"
	"strings"
	"testing"
)

// lsrctl reads lsrd's answers through package api's wire types: it links
// neither GoBGP's server and grpc nor netlink nor Prometheus (10.6 MB
// instead of 22.9 MB when it imported lsrd's packages directly).
func TestLsrctlLinksNoServerSide(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Skipf("go list: %v %s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, heavy := range []string{"github.com/osrg/gobgp", "google.golang.org/grpc", "github.com/vishvananda/netlink", "github.com/prometheus/"} {
			if strings.HasPrefix(dep, heavy) {
				t.Errorf("lsrctl links %s", dep)
			}
		}
	}
}
