//go:build lab

package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/lsrd/lsrd/lab/topo"
)

// lsrd's embedded BGP speaker peers with a real gobgpd: the routes gobgpd
// announces reach lsrd's RIB and the kernel (plain IP, as lsrd's own routes),
// a withdrawal removes them, and lsrd's loopback reaches gobgpd.
func TestLSRDLearnsRoutesFromGoBGP(t *testing.T) {
	lab := topo.New(t)
	r1, r2 := lab.Router("r1"), lab.Router("r2")
	lab.Link(r1, r2, "10.0.0.1/30", "10.0.0.2/30")
	r1.AddLoopback("1.1.1.1/32")
	g := r2.StartGoBGP(topo.GoBGPConfig{AS: 65002, RouterID: "2.2.2.2",
		Neighbors: []topo.BGPNeighbor{{Address: "10.0.0.1", AS: 65001}}})
	r1.StartLSRD("router-id: 1.1.1.1\nbgp:\n  as: 65001\n  neighbors:\n    - address: 10.0.0.2\n      remote-as: 65002\n  networks: [1.1.1.1/32]\n")
	g.WaitEstablished(t, 60*time.Second, "10.0.0.1")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	prefixes := []string{"198.51.100.0/24", "203.0.113.0/24"}
	for _, p := range prefixes {
		if err := g.AddRoute(ctx, netip.MustParsePrefix(p), netip.MustParseAddr("10.0.0.2")); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range prefixes {
		topo.Eventually(t, 30*time.Second, "r1's kernel route to "+p, func() error {
			out, err := r1.Try("ip", "route", "show", p)
			if err != nil {
				return err
			}
			if !strings.Contains(out, "via 10.0.0.2") || !strings.Contains(out, "proto ldp") {
				return fmt.Errorf("route %q", strings.TrimSpace(out))
			}
			return nil
		})
	}

	// gobgpd learned lsrd's loopback.
	topo.Eventually(t, 30*time.Second, "gobgpd's route to 1.1.1.1/32", func() error {
		stream, err := g.Client.ListPath(ctx, &api.ListPathRequest{TableType: api.TableType_GLOBAL,
			Family: &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}})
		if err != nil {
			return err
		}
		for {
			d, err := stream.Recv()
			if err != nil {
				return fmt.Errorf("no route to 1.1.1.1/32 in gobgpd (%v)", err)
			}
			if d.Destination.Prefix == "1.1.1.1/32" {
				return nil
			}
		}
	})

	// A withdrawal in gobgpd removes the kernel route.
	nlri, _ := anypb.New(&api.IPAddressPrefix{Prefix: "198.51.100.0", PrefixLen: 24})
	origin, _ := anypb.New(&api.OriginAttribute{Origin: 0})
	nh, _ := anypb.New(&api.NextHopAttribute{NextHop: "10.0.0.2"})
	if _, err := g.Client.DeletePath(ctx, &api.DeletePathRequest{TableType: api.TableType_GLOBAL, Path: &api.Path{
		Family: &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST},
		Nlri:   nlri, Pattrs: []*anypb.Any{origin, nh},
	}}); err != nil {
		t.Fatal(err)
	}
	topo.Eventually(t, 30*time.Second, "r1's route to 198.51.100.0/24 withdrawn", func() error {
		out, err := r1.Try("ip", "route", "show", "198.51.100.0/24")
		if err != nil {
			return err
		}
		if strings.TrimSpace(out) != "" {
			return fmt.Errorf("still %q", strings.TrimSpace(out))
		}
		return nil
	})
}
