package lib

import (
	"net/netip"
	"slices"
)

// peerMap is per-neighbour state of one FEC (the label it advertised, the
// label we sent it, a pending request). A FEC has a handful of neighbours,
// so a slice sorted by LSR ID beats a map on memory for tens of thousands of
// FECs, and its order makes every output deterministic.
type peerMap[V any] []peerEntry[V]

type peerEntry[V any] struct {
	peer netip.Addr
	v    V
}

func (m peerMap[V]) find(p netip.Addr) (int, bool) {
	return slices.BinarySearchFunc(m, p, func(e peerEntry[V], p netip.Addr) int { return e.peer.Compare(p) })
}

func (m peerMap[V]) get(p netip.Addr) (V, bool) {
	if i, ok := m.find(p); ok {
		return m[i].v, true
	}
	var zero V
	return zero, false
}

func (m *peerMap[V]) set(p netip.Addr, v V) {
	i, ok := m.find(p)
	if ok {
		(*m)[i].v = v
		return
	}
	*m = slices.Insert(*m, i, peerEntry[V]{p, v})
}

func (m *peerMap[V]) del(p netip.Addr) (V, bool) {
	i, ok := m.find(p)
	if !ok {
		var zero V
		return zero, false
	}
	v := (*m)[i].v
	*m = slices.Delete(*m, i, i+1)
	if len(*m) == 0 {
		*m = nil
	}
	return v, true
}
