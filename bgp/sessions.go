package bgp

import (
	"net/netip"
	"sync"

	api "github.com/osrg/gobgp/v3/api"
)

// sessions follows GoBGP's peer state events: per neighbour, the sessions
// that left established and the TCP endpoints of the established one.
// GoBGP's own "flops" count only sessions shorter than 30 s, and its
// neighbour listing leaves the ports out; its state events carry both.
type sessions struct {
	mu    sync.Mutex
	peers map[netip.Addr]*sessionFacts
}

type sessionFacts struct {
	state         api.PeerState_SessionState
	flaps         uint32
	local, remote netip.AddrPort
}

// observe takes one state event.
func (ss *sessions) observe(p *api.Peer) {
	addr, err := netip.ParseAddr(p.GetConf().GetNeighborAddress())
	if err != nil {
		return
	}
	addr = addr.Unmap()
	st := p.GetState().GetSessionState()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.peers == nil {
		ss.peers = map[netip.Addr]*sessionFacts{}
	}
	f := ss.peers[addr]
	if f == nil {
		f = &sessionFacts{}
		ss.peers[addr] = f
	}
	if f.state == api.PeerState_ESTABLISHED && st != api.PeerState_ESTABLISHED {
		f.flaps++
		f.local, f.remote = netip.AddrPort{}, netip.AddrPort{}
	}
	if st == api.PeerState_ESTABLISHED {
		f.local = addrPort(p.GetTransport().GetLocalAddress(), p.GetTransport().GetLocalPort())
		f.remote = addrPort(addr.String(), p.GetTransport().GetRemotePort())
	}
	f.state = st
}

// facts returns what is known of a neighbour's sessions.
func (ss *sessions) facts(addr netip.Addr) sessionFacts {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if f := ss.peers[addr.Unmap()]; f != nil {
		return *f
	}
	return sessionFacts{}
}

// forget drops a neighbour that is no longer configured.
func (ss *sessions) forget(addr netip.Addr) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.peers, addr.Unmap())
}
