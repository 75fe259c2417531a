package bgp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/apiutil"
	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/osrg/gobgp/v3/pkg/server"
	"google.golang.org/protobuf/types/known/anypb"

	ctlapi "github.com/lsrd/lsrd/api"
)

// NeighborInfo is api.BGPNeighbor, the control API's wire type.
type NeighborInfo = ctlapi.BGPNeighbor

// ErrUnknownNeighbor is returned for an address that is not a configured
// neighbour; ErrBadSoftReset for a soft reset direction other than in, out
// or both.
var (
	ErrUnknownNeighbor = errors.New("bgp: no such neighbour")
	ErrBadSoftReset    = errors.New("bgp: soft reset: want in, out or both")
)

// running returns GoBGP's server and the configured neighbours by address,
// or an error when the speaker is not running.
func (s *Speaker) running() (*server.BgpServer, map[netip.Addr]Neighbor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started || s.stopped {
		return nil, nil, errors.New("bgp: speaker not running")
	}
	conf := map[netip.Addr]Neighbor{}
	for _, n := range s.cfg.Neighbors {
		conf[n.Address.Unmap()] = n
	}
	return s.server, conf, nil
}

// Neighbors returns the neighbours' states, as GoBGP reports them, with
// the prefixes advertised to each.
func (s *Speaker) Neighbors(ctx context.Context) ([]NeighborInfo, error) {
	return s.neighbors(ctx, true)
}

// NeighborStates is Neighbors without the advertised counts: GoBGP counts
// them by running the export policy over the whole table on the loop that
// takes UPDATEs, which a caller that polls (the restart's convergence
// check) must not do with a full table.
func (s *Speaker) NeighborStates(ctx context.Context) ([]NeighborInfo, error) {
	return s.neighbors(ctx, false)
}

func (s *Speaker) neighbors(ctx context.Context, advertised bool) ([]NeighborInfo, error) {
	srv, conf, err := s.running()
	if err != nil {
		return nil, err
	}
	out := []NeighborInfo{}
	now := time.Now()
	err = srv.ListPeer(ctx, &api.ListPeerRequest{EnableAdvertised: advertised}, func(p *api.Peer) {
		ni := neighborInfo(p, now)
		f := s.sessions.facts(ni.Address)
		ni.Flaps = f.flaps
		if f.flaps == 0 {
			ni.LastDown = time.Time{} // GoBGP stamps a "downtime" before any session
		}
		if ni.State == "established" {
			ni.Local, ni.Remote = f.local, f.remote
		}
		c := conf[ni.Address.Unmap()]
		ni.Families, ni.Import, ni.Export = c.families(), c.Import, c.Export
		ni.MD5, ni.MultihopTTL, ni.TTLSecurityHops = c.Password != "", c.MultihopTTL, c.TTLSecurityHops
		out = append(out, ni)
	})
	if err != nil {
		return nil, fmt.Errorf("bgp: listing neighbours: %w", err)
	}
	slices.SortFunc(out, func(a, b NeighborInfo) int { return a.Address.Compare(b.Address) })
	return out, nil
}

// neighborInfo is GoBGP's view of one neighbour, in the control API's terms.
func neighborInfo(p *api.Peer, now time.Time) NeighborInfo {
	st, timers := p.GetState(), p.GetTimers().GetState()
	addr, _ := netip.ParseAddr(p.GetConf().GetNeighborAddress())
	ni := NeighborInfo{
		Address:            addr,
		RemoteAS:           p.GetConf().GetPeerAsn(),
		State:              sessionState(st.GetSessionState()),
		Description:        p.GetConf().GetDescription(),
		LocalAS:            cmp.Or(st.GetLocalAsn(), p.GetConf().GetLocalAsn()),
		AdminDown:          st.GetAdminState() == api.PeerState_DOWN,
		ConfiguredHoldTime: time.Duration(p.GetTimers().GetConfig().GetHoldTime()) * time.Second,
		OutQueue:           st.GetOutQ(),
		MessagesSent:       messages(st.GetMessages().GetSent()),
		MessagesReceived:   messages(st.GetMessages().GetReceived()),
	}
	established := ni.State == "established"
	if established {
		if up := timers.GetUptime(); up != nil && up.GetSeconds() > 0 {
			ni.Uptime = now.Sub(up.AsTime()).Truncate(time.Second)
		}
		ni.HoldTime = time.Duration(timers.GetNegotiatedHoldTime()) * time.Second
		ni.Keepalive = time.Duration(timers.GetKeepaliveInterval()) * time.Second
		ni.RouterID, _ = netip.ParseAddr(st.GetRouterId())
		ni.LocalCapabilities = capabilities(st.GetLocalCap())
		ni.RemoteCapabilities = capabilities(st.GetRemoteCap())
	}
	if down := timers.GetDowntime(); down != nil && down.GetSeconds() > 0 {
		ni.LastDown = down.AsTime()
	}
	eor, families := true, 0
	for _, af := range p.GetAfiSafis() {
		as := af.GetState()
		ni.Received += as.GetReceived()
		ni.Accepted += as.GetAccepted()
		ni.Advertised += as.GetAdvertised()
		if af.GetConfig().GetEnabled() {
			families++
			eor = eor && af.GetMpGracefulRestart().GetState().GetEndOfRibReceived()
			ni.PerFamily = append(ni.PerFamily, ctlapi.BGPFamilyCounts{
				Family:   cmp.Or(familyName(af.GetConfig().GetFamily()), af.GetConfig().GetFamily().String()),
				Received: as.GetReceived(), Accepted: as.GetAccepted(), Advertised: as.GetAdvertised(),
			})
		}
	}
	ni.EndOfRIB = established && families > 0 && eor
	return ni
}

func addrPort(a string, port uint32) netip.AddrPort {
	ip, err := netip.ParseAddr(a)
	if err != nil || port == 0 || port > 65535 {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(port))
}

func messages(m *api.Message) ctlapi.BGPMessages {
	return ctlapi.BGPMessages{
		Open: m.GetOpen(), Update: m.GetUpdate(), Notification: m.GetNotification(),
		Keepalive: m.GetKeepalive(), RouteRefresh: m.GetRefresh(), Total: m.GetTotal(),
	}
}

// capabilities names the capabilities of an OPEN as RFC 5492's registry
// does in GoBGP's words, multiprotocol ones with their family.
func capabilities(caps []*anypb.Any) []string {
	if len(caps) == 0 {
		return nil
	}
	cs, err := apiutil.UnmarshalCapabilities(caps)
	if err != nil {
		return []string{"(unreadable: " + err.Error() + ")"}
	}
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		switch c := c.(type) {
		case *bgp.CapMultiProtocol:
			out = append(out, "multiprotocol "+c.CapValue.String())
		default:
			out = append(out, c.Code().String())
		}
	}
	return out
}

// sessionState is the RFC 4271 state name in lower case.
func sessionState(st api.PeerState_SessionState) string {
	switch st {
	case api.PeerState_IDLE:
		return "idle"
	case api.PeerState_CONNECT:
		return "connect"
	case api.PeerState_ACTIVE:
		return "active"
	case api.PeerState_OPENSENT:
		return "opensent"
	case api.PeerState_OPENCONFIRM:
		return "openconfirm"
	case api.PeerState_ESTABLISHED:
		return "established"
	}
	return "unknown"
}

// Reset resets the session with a configured neighbour: soft "" closes it
// with a Cease (administrative reset, RFC 4486) so that it re-forms; "in"
// re-applies the import policy to the paths kept from the neighbour, "out"
// sends the neighbour every path again, "both" does both.
func (s *Speaker) Reset(ctx context.Context, addr netip.Addr, soft string) error {
	req := &api.ResetPeerRequest{Address: addr.Unmap().String(), Communication: "reset by lsrctl"}
	switch soft {
	case "":
	case "in":
		req.Soft, req.Direction = true, api.ResetPeerRequest_IN
	case "out":
		req.Soft, req.Direction = true, api.ResetPeerRequest_OUT
	case "both":
		req.Soft, req.Direction = true, api.ResetPeerRequest_BOTH
	default:
		return fmt.Errorf("%w: %q", ErrBadSoftReset, soft)
	}
	srv, conf, err := s.running()
	if err != nil {
		return err
	}
	if _, ok := conf[addr.Unmap()]; !ok {
		return fmt.Errorf("%w: %s", ErrUnknownNeighbor, addr)
	}
	if err := srv.ResetPeer(ctx, req); err != nil {
		return fmt.Errorf("bgp: resetting %s: %w", addr, err)
	}
	kind := "hard"
	if soft != "" {
		kind = "soft " + soft
	}
	s.log.Info("bgp neighbour reset", "neighbor", addr, "reset", kind)
	return nil
}
