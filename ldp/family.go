package ldp

import (
	"net/netip"

	"github.com/lsrd/lsrd/ldp/fec"
	"github.com/lsrd/lsrd/ldp/wire"
)

// LDP over IPv6 and dual stack (RFC 7552). LDP runs per address family:
// link hellos go to 224.0.0.2 and to ff02::2, each with the transport
// address of its own family; a neighbour has one session whatever the
// families (one LSR ID, one label space), carried by one family:
//
//   - a single-stack LSR, or a neighbour that sent no Dual-Stack TLV (a
//     single-stack one), uses the family of the hellos;
//   - two dual-stack LSRs use the preference both state in the Dual-Stack
//     TLV of every hello (section 6.1.1, IPv6 by default). A hello whose
//     preference differs from ours (or is not one the RFC defines) is
//     discarded, and a session in place ends with "Transport Connection
//     Mismatch";
//   - a neighbour that sends hellos of both families without the TLV is
//     not compliant: its session ends with "Dual-Stack Noncompliance" and
//     the hello is discarded.
//
// Which families the session serves is fixed when the neighbour appears,
// as in FRR's ldpd (nbr_new): the family of its hellos, or both when it is
// dual-stack, and only those this LSR runs. Addresses, labels and
// End-of-LIB go per family, only for those; a label or address message of
// another family gets "Unsupported Address Family" and is ignored.

// Family is an address family LDP runs in.
type Family = fec.Family

// familyBit is a set of families as a bit mask.
type familyBit uint8

func bitOf(af Family) familyBit {
	switch af {
	case fec.IPv4:
		return 1
	case fec.IPv6:
		return 2
	}
	return 0
}

func (b familyBit) has(af Family) bool { return b&bitOf(af) != 0 }

// list returns the families in b, IPv4 first.
func (b familyBit) list() []Family {
	var out []Family
	for _, af := range fec.Families {
		if b.has(af) {
			out = append(out, af)
		}
	}
	return out
}

// families returns the families this LSR runs LDP in.
func (c Config) families() familyBit {
	var b familyBit
	if !c.IPv4Disabled {
		b |= bitOf(fec.IPv4)
	}
	if c.TransportAddr6.IsValid() {
		b |= bitOf(fec.IPv6)
	}
	return b
}

// interfaceFamilies returns the families basic discovery runs in on the
// interface name.
func (c Config) interfaceFamilies(name string) familyBit {
	fams, ok := c.InterfaceFamilies[name]
	if !ok {
		return c.families()
	}
	var b familyBit
	for _, af := range fams {
		b |= bitOf(af)
	}
	return b & c.families()
}

// dualStack reports whether this LSR runs both families (and so sends the
// Dual-Stack TLV).
func (c Config) dualStack() bool { return c.families() == 3 }

// preference is the session family between dual-stack LSRs.
func (c Config) preference() Family {
	if c.TransportPreference == fec.IPv4 {
		return fec.IPv4
	}
	return fec.IPv6
}

// transport returns this LSR's transport address in af.
func (c Config) transport(af Family) netip.Addr {
	if af == fec.IPv6 {
		return c.TransportAddr6
	}
	return c.TransportAddr
}

// allGroup is the group link hellos of af go to: 224.0.0.2 or ff02::2
// (RFC 7552 section 5.1).
func allGroup(af Family) netip.Addr {
	if af == fec.IPv6 {
		return AllHellosGroup6
	}
	return AllHellosGroup
}

// AllHellosGroup6 is "all routers on this link" for IPv6 link hellos.
var AllHellosGroup6 = netip.MustParseAddr("ff02::2")

// usableTransport reports whether a is a transport address sessions can be
// opened to: unicast, not unspecified and, in IPv6, global (RFC 7552
// section 6.1: link-local addresses would need an interface to go with
// them).
func usableTransport(a netip.Addr) bool {
	if !a.IsValid() || a.IsUnspecified() || a.IsMulticast() || a.IsLoopback() {
		return false
	}
	return a.Is4() || a.IsGlobalUnicast()
}

// dualStackHello applies section 6.1.1 to a hello of family af from the
// LSR with ID id before it may refresh or create an adjacency; false means
// the hello is discarded. Only a dual-stack LSR checks: a single-stack one
// ignores the TLV.
func (e *Engine) dualStackHello(h *wire.Hello, id netip.Addr, key adjKey, af Family) bool {
	if !e.cfg.dualStack() {
		return true
	}
	n := e.nbrs[id]
	if ds := h.DualStack; ds != nil && ds.Family() != e.cfg.preference() {
		e.log.Warn("ldp: hello discarded: dual-stack transport preference differs from ours", "lsr-id", id,
			"theirs", ds.Family(), "tr", ds.TR, "ours", e.cfg.preference())
		if n != nil && n.sess != nil {
			e.closeSession(n.sess, wire.StatusTransportConnectionMismatch)
		}
		if a := e.adjs[key]; a != nil {
			e.deleteAdjacency(a, wire.StatusShutdown)
		}
		return false
	}
	if h.DualStack == nil && n != nil {
		for k := range n.adjs {
			if k.family != af {
				e.log.Warn("ldp: hello discarded: neighbour with hellos of both families sends no Dual-Stack TLV", "lsr-id", id)
				if n.sess != nil {
					e.closeSession(n.sess, wire.StatusDualStackNonCompliance)
				}
				return false
			}
		}
	}
	if n != nil && !n.dualStack && h.DualStack != nil {
		// The neighbour became dual-stack (FRR's ldpd sends its first
		// hellos before its IPv6 configuration is read): the families
		// its session serves were fixed without IPv6, so it starts
		// over. FRR ignores such hellos until the old adjacency times
		// out; starting over at once saves that hold time.
		e.log.Info("ldp: neighbour now dual-stack: starting over with it", "lsr-id", id)
		for _, k := range sortedAdjKeys(n.adjs) {
			e.deleteAdjacency(n.adjs[k], wire.StatusShutdown)
		}
	}
	return true
}

// sessionFamily is the family of n's session: our preference with a
// dual-stack neighbour, else the family of its hellos.
func (e *Engine) sessionFamily(n *neighbor) Family {
	if n.dualStack {
		return e.cfg.preference()
	}
	return n.firstFamily
}

// learnTransport records the transport address a hello of family af gave
// for n; the one of the session's family becomes n.transport.
func (e *Engine) learnTransport(n *neighbor, af Family, transport netip.Addr) {
	if n.transport.IsValid() || af != e.sessionFamily(n) {
		return
	}
	n.transport = transport
	e.transports[transport]++
	e.authNew(n)
}

// peerHas reports whether the session s serves family af.
func (s *session) peerHas(af Family) bool { return s.nbr != nil && s.nbr.families.has(af) }

// unsupportedFamily answers a label or address message of a family the
// session does not serve (RFC 7552 section 7; RFC 5036 section 3.4.1).
func (e *Engine) unsupportedFamily(s *session, m wire.Message, af Family) {
	e.log.Info("ldp: message of a family the session does not serve ignored", "lsr-id", s.peerName(), "family", af, "type", m.Type())
	e.notify(s, wire.NewStatus(wire.StatusUnsupportedAddressFamily, m.MessageID(), m.Type()))
}

// messageFamilyOK checks the families of a label or address message from
// the session's peer.
func (e *Engine) messageFamilyOK(s *session, m wire.Message) bool {
	check := func(af Family) bool {
		if af == 0 || s.peerHas(af) {
			return true
		}
		e.unsupportedFamily(s, m, af)
		return false
	}
	var fe wire.FEC
	switch m := m.(type) {
	case *wire.Address:
		return check(m.Addresses.Family)
	case *wire.AddressWithdraw:
		return check(m.Addresses.Family)
	case *wire.LabelMapping:
		fe = m.FEC
	case *wire.LabelRequest:
		fe = m.FEC
	case *wire.LabelWithdraw:
		fe = m.FEC
	case *wire.LabelRelease:
		fe = m.FEC
	case *wire.LabelAbortRequest:
		fe = m.FEC
	}
	for _, el := range fe {
		switch el := el.(type) {
		case wire.PrefixFEC:
			if !check(el.Family()) {
				return false
			}
		case wire.TypedWildcardFEC:
			if el.Type == wire.FECPrefix && !check(el.Family) {
				return false
			}
		}
	}
	return true
}
