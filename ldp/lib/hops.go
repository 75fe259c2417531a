package lib

import "github.com/lsrd/lsrd/rib"

// routeSet shares one route per set of next hops among the FECs routed
// through it: the LIB reads nothing of a route but its next hops, and
// 50,000 FECs over one neighbour then hold one copy, not 50,000. Each
// route is counted by the FECs that hold it and dropped with the last.
type routeSet struct {
	m   map[string]*sharedRoute
	key []byte // reused to build keys
}

type sharedRoute struct {
	route rib.Route // NextHops only
	refs  int
}

func (s *routeSet) keyOf(hops []rib.NextHop) []byte {
	k := s.key[:0]
	for _, nh := range hops {
		k, _ = nh.Addr.Unmap().AppendBinary(k)
		k = append(k, byte(len(nh.Ifname)))
		k = append(k, nh.Ifname...)
	}
	s.key = k
	return k
}

// hold returns the shared route with hops (their addresses unmapped:
// Address messages carry plain IPv4 or IPv6), counting one more holder.
func (s *routeSet) hold(hops []rib.NextHop) *rib.Route {
	k := s.keyOf(hops)
	if e := s.m[string(k)]; e != nil {
		e.refs++
		return &e.route
	}
	if s.m == nil {
		s.m = map[string]*sharedRoute{}
	}
	e := &sharedRoute{refs: 1}
	e.route.NextHops = make([]rib.NextHop, len(hops))
	for i, nh := range hops {
		e.route.NextHops[i] = rib.NextHop{Addr: nh.Addr.Unmap(), Ifname: nh.Ifname}
	}
	s.m[string(k)] = e
	return &e.route
}

// release counts one holder of r (from hold) less.
func (s *routeSet) release(r *rib.Route) {
	k := s.keyOf(r.NextHops)
	e := s.m[string(k)]
	if e == nil || &e.route != r {
		return // not from hold: nothing to count
	}
	if e.refs--; e.refs == 0 {
		delete(s.m, string(k))
	}
}

// len is the number of distinct next-hop sets held.
func (s *routeSet) len() int { return len(s.m) }
