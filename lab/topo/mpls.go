package topo

import (
	"strconv"
)

// DefaultPlatformLabels is the size of the label table EnableMPLS sets up.
const DefaultPlatformLabels = 100000

// EnableMPLS switches on MPLS forwarding in the router: the label table
// (net.mpls.platform_labels, per namespace) and MPLS input on each named
// interface (net.mpls.conf.<if>.input), without which the kernel drops
// labelled packets arriving there.
func (r *Router) EnableMPLS(ifaces ...string) {
	r.lab.t.Helper()
	r.Run("sysctl", "-qw", "net.mpls.platform_labels="+strconv.Itoa(DefaultPlatformLabels))
	for _, ifname := range ifaces {
		r.Run("sysctl", "-qw", "net.mpls.conf."+ifname+".input=1")
	}
}
