package vpn

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/lsrd/lsrd/bgp"
	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/internal/heap"
)

// BenchmarkBytesPerVPNRoute reports the live heap the provider edge's state
// holds per imported VPN route: 10 VRFs x 10,000 routes through one
// provider edge, as the lab's bench sends them (the routes as BGP hands
// them over are not kept by the caller).
func BenchmarkBytesPerVPNRoute(b *testing.B) {
	const vrfs, n = 10, 10_000
	pe := netip.MustParseAddr("3.3.3.3")
	l := lsps{pe: lsp(17)}
	for b.Loop() {
		var vs []VRF
		for v := range vrfs {
			vs = append(vs, VRF{Name: fmt.Sprintf("v%d", v), Table: uint32(101 + v), RD: fmt.Sprintf("65000:%d", 1000+v),
				ImportRTs: []string{fmt.Sprintf("65000:%d", 100+v)}})
		}
		batches := make([][]bgp.VPNRoute, vrfs)
		for v := range vrfs {
			for i := range n {
				// As bgp.pathToVPN makes them: strings of their own per path.
				batches[v] = append(batches[v], bgp.VPNRoute{RD: fmt.Sprintf("65000:%d", 2000+v),
					Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24),
					Label:  uint32(5000 + v), NextHop: pe, Neighbor: pe, RTs: []string{fmt.Sprintf("65000:%d", 100+v)}})
			}
		}
		h0 := heap.Live()
		s, err := New(Config{LocalAddress: pe1, LabelMin: 1000000, LabelMax: 1048574}, l.get)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.SetVRFs(vs); err != nil {
			b.Fatal(err)
		}
		for v := range vrfs {
			for i := 0; i < n; i += 1000 {
				s.Update(batches[v][i : i+1000])
			}
			batches[v] = nil
		}
		s.TakeChanges()
		h1 := heap.Live()
		if got := len(s.Table("v0")); got != n {
			b.Fatalf("v0 has %d routes, want %d", got, n)
		}
		b.ReportMetric(float64(h1-h0)/float64(vrfs*n), "B/route")
		_ = fib.Label(0)
	}
}
