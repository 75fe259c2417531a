package bgp

import (
	"net/netip"
	"testing"

	api "github.com/osrg/gobgp/v3/api"
)

func stateEvent(addr string, st api.PeerState_SessionState, localPort, remotePort uint32) *api.Peer {
	return &api.Peer{Conf: &api.PeerConf{NeighborAddress: addr}, State: &api.PeerState{SessionState: st},
		Transport: &api.Transport{LocalAddress: "10.0.0.1", LocalPort: localPort, RemotePort: remotePort}}
}

// Every session that leaves established is a flap, however long it lasted,
// and the endpoints are those of the established session only.
func TestSessionsFlapsAndEndpoints(t *testing.T) {
	var ss sessions
	n := netip.MustParseAddr("10.0.0.2")
	for _, ev := range []*api.Peer{
		stateEvent("10.0.0.2", api.PeerState_ACTIVE, 0, 0),
		stateEvent("10.0.0.2", api.PeerState_OPENSENT, 0, 0),
		stateEvent("10.0.0.2", api.PeerState_ESTABLISHED, 40123, 179),
	} {
		ss.observe(ev)
	}
	f := ss.facts(n)
	if f.flaps != 0 || f.local != netip.MustParseAddrPort("10.0.0.1:40123") || f.remote != netip.MustParseAddrPort("10.0.0.2:179") {
		t.Fatalf("established: %+v", f)
	}
	ss.observe(stateEvent("10.0.0.2", api.PeerState_IDLE, 0, 0))
	ss.observe(stateEvent("10.0.0.2", api.PeerState_ACTIVE, 0, 0)) // not another flap
	if f := ss.facts(n); f.flaps != 1 || f.local.IsValid() || f.remote.IsValid() {
		t.Fatalf("after the session went down: %+v", f)
	}
	ss.observe(stateEvent("::ffff:10.0.0.2", api.PeerState_ESTABLISHED, 179, 51000))
	ss.observe(stateEvent("10.0.0.2", api.PeerState_IDLE, 0, 0))
	if f := ss.facts(n); f.flaps != 2 {
		t.Fatalf("a second session ended: %d flaps, want 2", f.flaps)
	}
	ss.forget(n)
	if f := ss.facts(n); f.flaps != 0 {
		t.Fatalf("forgotten neighbour still has %d flaps", f.flaps)
	}
}
