//go:build lab

package e2e

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"

	api "github.com/osrg/gobgp/v3/api"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// fullTable is a synthetic Internet table: distinct IPv4 and IPv6 prefixes
// with the prefix-length mix of the 2026 global table, each with one of a
// few dozen BGP next hops (skewed: the first carries the most, as a main
// transit does) and an AS path and communities drawn from its prefix, so
// that there are many distinct paths. It keeps only the prefixes and the
// next-hop index; a path's attributes are derived again when it is sent.
type fullTable struct {
	prefixes []netip.Prefix
	nh       []uint8 // next-hop index of each prefix
	v4       int     // prefixes[:v4] are IPv4, the rest IPv6
	perNH    []int   // prefixes per next hop
}

// Prefix-length weights (per mille) of the IPv4 and IPv6 global tables,
// rounded from public table reports: /24 dominates IPv4 and /48 IPv6.
var (
	v4Lengths = map[int]float64{8: 0.015, 9: 0.03, 10: 0.08, 11: 0.2, 12: 0.4, 13: 0.8, 14: 1.5, 15: 2.5,
		16: 13, 17: 9, 18: 14, 19: 26, 20: 44, 21: 50, 22: 120, 23: 100, 24: 600}
	v6Lengths = map[int]float64{19: 0.5, 20: 1, 24: 2, 28: 4, 29: 30, 30: 4, 31: 3, 32: 120, 33: 20, 34: 10, 35: 5,
		36: 40, 38: 10, 40: 60, 42: 30, 44: 80, 45: 20, 46: 40, 47: 40, 48: 480}
)

// newFullTable draws n4 IPv4 and n6 IPv6 prefixes over nexthops next hops,
// the same ones for the same arguments.
func newFullTable(n4, n6, nexthops int) *fullTable {
	rng := rand.New(rand.NewPCG(2026, 17))
	t := &fullTable{prefixes: make([]netip.Prefix, 0, n4+n6), nh: make([]uint8, 0, n4+n6), v4: n4, perNH: make([]int, nexthops)}
	// Next hop i weighs 1/(i+1): the first carries about a fifth.
	cum := make([]float64, nexthops)
	total := 0.0
	for i := range cum {
		total += 1 / float64(i+1)
		cum[i] = total
	}
	pickNH := func() uint8 {
		x := rng.Float64() * total
		i, _ := slices.BinarySearch(cum, x)
		return uint8(min(i, nexthops-1))
	}
	seen := make(map[netip.Prefix]struct{}, n4+n6)
	add := func(p netip.Prefix) bool {
		if _, dup := seen[p]; dup {
			return false
		}
		seen[p] = struct{}{}
		nh := pickNH()
		t.prefixes = append(t.prefixes, p)
		t.nh = append(t.nh, nh)
		t.perNH[nh]++
		return true
	}
	l4, l6 := lengthPicker(rng, v4Lengths), lengthPicker(rng, v6Lengths)
	for len(t.prefixes) < n4 {
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], rng.Uint32())
		// Unicast space outside what the lab itself uses (0-4/8, 10/8,
		// 127/8) and outside multicast and class E.
		if a[0] <= 4 || a[0] == 10 || a[0] == 127 || a[0] >= 224 {
			continue
		}
		p, _ := netip.AddrFrom4(a).Prefix(l4())
		add(p)
	}
	lab := netip.MustParsePrefix("2001:db8::/32")
	for len(t.prefixes) < n4+n6 {
		var a [16]byte
		binary.BigEndian.PutUint64(a[:8], rng.Uint64())
		a[0] = 0x20 | a[0]&0x1f // 2000::/3
		p, _ := netip.AddrFrom16(a).Prefix(l6())
		if p.Overlaps(lab) {
			continue
		}
		add(p)
	}
	return t
}

func lengthPicker(rng *rand.Rand, weights map[int]float64) func() int {
	var lens []int
	var cum []float64
	total := 0.0
	for l := range 129 {
		if w, ok := weights[l]; ok {
			total += w
			lens = append(lens, l)
			cum = append(cum, total)
		}
	}
	return func() int {
		i, _ := slices.BinarySearch(cum, rng.Float64()*total)
		return lens[min(i, len(lens)-1)]
	}
}

// attributes derives a prefix's AS path and communities from the prefix:
// the next hop's upstream AS first, then 0-4 transit ASes and an origin
// AS out of about 70,000, then 0-3 communities.
func attributes(p netip.Prefix, nh uint8) (path []uint32, comms []uint32) {
	a := p.Addr().As16()
	r := rand.New(rand.NewPCG(binary.BigEndian.Uint64(a[:8])^uint64(p.Bits()), binary.BigEndian.Uint64(a[8:])+uint64(nh)))
	path = append(path, 64600+uint32(nh))
	for range r.IntN(5) {
		path = append(path, 1000+uint32(r.IntN(3000)))
	}
	path = append(path, 100000+uint32(r.IntN(70000)))
	for range r.IntN(4) {
		comms = append(comms, uint32(64600+uint32(nh))<<16|uint32(r.IntN(400)))
	}
	return path, comms
}

// apiPath is the i-th route as gobgpd takes it, with next hop nextHop (an
// IPv4 next hop for IPv6 prefixes is sent as its IPv4-mapped form, 6PE).
func (t *fullTable) apiPath(i int, nextHop func(nh uint8, v6 bool) netip.Addr, withdraw bool) (*api.Path, error) {
	p, nh := t.prefixes[i], t.nh[i]
	nlri, err := anypb.New(&api.IPAddressPrefix{Prefix: p.Addr().String(), PrefixLen: uint32(p.Bits())})
	if err != nil {
		return nil, err
	}
	asns, comms := attributes(p, nh)
	attrs := []proto.Message{
		&api.OriginAttribute{Origin: 0},
		&api.AsPathAttribute{Segments: []*api.AsSegment{{Type: api.AsSegment_AS_SEQUENCE, Numbers: asns}}},
	}
	if len(comms) > 0 {
		attrs = append(attrs, &api.CommunitiesAttribute{Communities: comms})
	}
	fam := &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}
	if i < t.v4 {
		attrs = append(attrs, &api.NextHopAttribute{NextHop: nextHop(nh, false).String()})
	} else {
		fam = &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}
		attrs = append(attrs, &api.MpReachNLRIAttribute{Family: fam, NextHops: []string{nextHop(nh, true).String()}, Nlris: []*anypb.Any{nlri}})
	}
	pattrs := make([]*anypb.Any, 0, len(attrs))
	for _, a := range attrs {
		m, err := anypb.New(a)
		if err != nil {
			return nil, err
		}
		pattrs = append(pattrs, m)
	}
	return &api.Path{Family: fam, Nlri: nlri, Pattrs: pattrs, IsWithdraw: withdraw}, nil
}

func (t *fullTable) String() string {
	return fmt.Sprintf("%d IPv4 + %d IPv6 prefixes over %d next hops (the first carries %d)", t.v4, len(t.prefixes)-t.v4, len(t.perNH), t.perNH[0])
}
