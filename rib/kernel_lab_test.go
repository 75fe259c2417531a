//go:build lab

package rib

import (
	"fmt"
	"slices"
	"testing"

	"github.com/lsrd/lsrd/lab/topo"
)

func TestReadKernelState(t *testing.T) {
	lab := topo.New(t)
	r1, r2 := lab.Router("r1"), lab.Router("r2")
	if1, _ := lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	r1.AddLoopback("2.2.2.2/32")
	r1.Run("ip", "route", "add", "5.5.5.0/24", "via", "10.0.0.2")
	r1.Run("ip", "route", "add", "6.6.6.0/24", "via", "10.0.0.2", "proto", "193")
	r1.Run("ip", "route", "add", "7.7.7.0/24", "via", "10.0.0.2", "proto", "bgp")
	h := r1.Netlink()

	ifaces, err := ReadInterfaces(h)
	if err != nil {
		t.Fatal(err)
	}
	names := map[int]string{}
	for _, i := range ifaces {
		names[i.Index] = i.Name
	}
	var got []string
	for _, r := range ConnectedRoutes(ifaces) {
		got = append(got, fmt.Sprintf("%s %s %s", r.Prefix, r.Source, r.NextHops[0].Ifname))
	}
	slices.Sort(got)
	want := []string{"10.0.0.0/30 connected " + if1, "2.2.2.2/32 connected lo"}
	if !slices.Equal(got, want) {
		t.Errorf("connected routes %q, want %q", got, want)
	}

	routes, err := ReadKernelRoutes(h, func(i int) string { return names[i] }, ProtocolSet(234, 193))
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, r := range routes {
		got = append(got, fmt.Sprintf("%s %s %d via %s dev %s", r.Prefix, r.Source, r.Distance, r.NextHops[0].Addr, r.NextHops[0].Ifname))
	}
	slices.Sort(got)
	// 6.6.6.0/24 carries lsrd's own protocol and must not come back.
	want = []string{
		"5.5.5.0/24 kernel 0 via 10.0.0.2 dev " + if1,
		"7.7.7.0/24 kernel 0 via 10.0.0.2 dev " + if1,
	}
	if !slices.Equal(got, want) {
		t.Errorf("kernel routes %q, want %q", got, want)
	}
}
