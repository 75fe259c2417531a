package ctl

import (
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/bgp"
)

var (
	bgpNeighbors = []bgp.NeighborInfo{
		{Address: addr("10.0.0.2"), RemoteAS: 65002, State: "established", Uptime: 2*time.Hour + 5*time.Second,
			Received: 3, Accepted: 2, Families: []string{"ipv4-unicast", "ipv4-labeled-unicast"}, Import: "customers"},
		{Address: addr("10.0.0.6"), RemoteAS: 65001, State: "active", Families: []string{"ipv4-unicast"}},
	}
	bgpRoutes = []bgp.RouteInfo{
		{Prefix: pfx("1.1.1.1/32"), Family: "ipv4-unicast", Local: true, Best: true, ASPath: []uint32{}},
		{Prefix: pfx("198.51.100.0/24"), Family: "ipv4-unicast", NextHop: addr("10.0.0.2"), Peer: addr("10.0.0.2"),
			Best: true, ASPath: []uint32{65002, 65010}, Age: time.Minute},
		{Prefix: pfx("198.51.100.0/24"), Family: "ipv4-labeled-unicast", NextHop: addr("10.0.0.2"), Peer: addr("10.0.0.2"),
			Best: true, ASPath: []uint32{65002}, Labels: []uint32{16001}, Age: time.Minute},
		{Prefix: pfx("198.51.100.0/24"), Family: "ipv4-unicast", NextHop: addr("10.0.0.6"), Peer: addr("10.0.0.6"),
			ASPath: []uint32{65001, 65010}, Age: 2 * time.Minute},
	}
)

func TestBGPNeighborsTable(t *testing.T) {
	var b strings.Builder
	if err := BGPNeighbors(&b, bgpNeighbors); err != nil {
		t.Fatal(err)
	}
	golden(t, "bgp neighbors", b.String(), `
NEIGHBOR  AS     STATE        UP        RECEIVED  ACCEPTED  FAMILIES                           IMPORT     EXPORT
10.0.0.2  65002  established  02:00:05  3         2         ipv4-unicast,ipv4-labeled-unicast  customers  any
10.0.0.6  65001  active       -         0         0         ipv4-unicast                       any        any
`)
}

func TestBGPRoutesTable(t *testing.T) {
	var b strings.Builder
	if err := BGPRoutes(&b, bgpRoutes); err != nil {
		t.Fatal(err)
	}
	golden(t, "bgp routes", b.String(), `
   PREFIX           FAMILY                NEXT HOP  FROM      AS PATH      LABELS  AGE
*  1.1.1.1/32       ipv4-unicast          self      local     -            -       00:00:00
*  198.51.100.0/24  ipv4-unicast          10.0.0.2  10.0.0.2  65002 65010  -       00:01:00
*  198.51.100.0/24  ipv4-labeled-unicast  10.0.0.2  10.0.0.2  65002        16001   00:01:00
   198.51.100.0/24  ipv4-unicast          10.0.0.6  10.0.0.6  65001 65010  -       00:02:00
`)
}

func TestBGPFilters(t *testing.T) {
	f := Filter{Peer: addr("10.0.0.6")}
	if got := f.BGPNeighbors(bgpNeighbors); len(got) != 1 || got[0].Address != addr("10.0.0.6") {
		t.Errorf("--peer 10.0.0.6 neighbours: %+v", got)
	}
	if got := f.BGPRoutes(bgpRoutes); len(got) != 1 || got[0].Peer != addr("10.0.0.6") {
		t.Errorf("--peer 10.0.0.6 routes: %+v", got)
	}
	f = Filter{Label: 16001, HasLabel: true}
	if got := f.BGPRoutes(bgpRoutes); len(got) != 1 || got[0].Family != "ipv4-labeled-unicast" {
		t.Errorf("--label 16001 routes: %+v", got)
	}
	f = Filter{FEC: pfx("198.51.100.7/32")}
	if got := f.BGPRoutes(bgpRoutes); len(got) != 3 {
		t.Errorf("--fec 198.51.100.7 routes: %d, want the 3 paths of 198.51.100.0/24", len(got))
	}
}
