package ldp

import (
	"fmt"
	"net/netip"
	"slices"
)

// GTSM for LDP (RFC 6720). A packet from a directly connected neighbour
// arrives with the TTL it was sent with; one sent with 255 and received
// with less came from further away, so it is not the neighbour.
//
//   - Every link hello carries the G flag (section 3) unless GTSM is
//     disabled; targeted hellos never do, and a received targeted hello's
//     flag is ignored: multi-hop sessions are outside GTSM.
//   - Everything lsrd sends travels with TTL 255 (the runtime's sockets):
//     a GTSM peer drops less, a peer without GTSM does not care.
//   - A session with a neighbour known only through link hellos that all
//     carried the G flag uses GTSM (section 4): the runtime drops its
//     segments with a TTL below 255 (Dial.MinTTL, Protect). A neighbour
//     also known by a targeted hello may be several hops away, so its
//     session does not.
//   - Received link hellos with a TTL below 255 are dropped only when
//     Config.GTSM.CheckHellos says so: RFC 5036 link hellos travel with
//     TTL 1, and FRR's IPv4 hellos still do, G flag or not.

// GTSMTTL is the TTL a GTSM packet is sent with and must arrive with.
const GTSMTTL = 255

// GTSM configures RFC 6720. The zero value sets the G flag and checks
// sessions, not hellos.
type GTSM struct {
	// Disabled sends no G flag: no session uses GTSM.
	Disabled bool
	// CheckHellos drops link hellos received with a TTL below 255.
	CheckHellos bool
	// Off lists prefixes of LSR IDs whose sessions never use GTSM and
	// whose hellos are never checked (a peer that sets the G flag but
	// sends with a lower TTL).
	Off []netip.Prefix
}

// Protect asks the runtime to drop the segments of Conn that arrive with a
// TTL below MinTTL (IP_MINTTL), for an accepted GTSM session.
type Protect struct {
	Conn   ConnID
	MinTTL int
}

func (Protect) isAction() {}

func (g GTSM) validate() error {
	for i, p := range g.Off {
		if !p.IsValid() || !p.Addr().Is4() || p != p.Masked() {
			return configErr(fmt.Sprintf("GTSM.Off[%d]", i), p, "must be an IPv4 prefix of LSR IDs without host bits")
		}
	}
	return nil
}

// gtsmOff reports whether GTSM does not apply to the LSR id.
func (c Config) gtsmOff(id netip.Addr) bool {
	return c.GTSM.Disabled || slices.ContainsFunc(c.GTSM.Off, func(p netip.Prefix) bool { return p.Contains(id) })
}

// gtsmHelloDropped checks a received link hello's TTL (0: unknown, not
// checked) and counts the drop.
func (e *Engine) gtsmHelloDropped(ev HelloReceived, id netip.Addr) bool {
	if ev.Targeted || !e.cfg.GTSM.CheckHellos || ev.TTL == 0 || ev.TTL >= GTSMTTL || e.cfg.gtsmOff(id) {
		return false
	}
	e.security(SecGTSMHello)
	e.log.Debug("ldp: hello dropped: TTL below 255 (GTSM)", "src", ev.Src, "ifname", ev.Ifname, "lsr-id", id, "ttl", ev.TTL)
	return true
}

// gtsmSession reports whether the session with n uses GTSM: n is reached
// by link adjacencies only, all with the G flag, and not exempt.
func (e *Engine) gtsmSession(n *neighbor) bool {
	if e.cfg.gtsmOff(n.id) || len(n.adjs) == 0 {
		return false
	}
	for k, a := range n.adjs {
		if k.targeted || !a.peerGTSM {
			return false
		}
	}
	return true
}

// gtsmMinTTL is the MinTTL of a session with n: GTSMTTL or 0 for none.
func (e *Engine) gtsmMinTTL(n *neighbor) int {
	if e.gtsmSession(n) {
		return GTSMTTL
	}
	return 0
}
