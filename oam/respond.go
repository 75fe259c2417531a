package oam

import (
	"errors"
	"net/netip"
	"time"

	"github.com/lsrd/lsrd/lspping"
)

// State is what the responder reads of this router's forwarding: the
// daemon answers from its LIB and its forwarding table.
type State interface {
	// Label describes a label this router gave out: the FEC it was
	// allocated for, whether it is still that FEC's label, and where it
	// switches to. ok is false for a label this router never gave.
	Label(in uint32) (l LabelInfo, ok bool)
	// Egress reports whether this router is the egress for fec (it is
	// one of its own addresses or connected prefixes, and it advertises a
	// null label for it).
	Egress(fec netip.Prefix) bool
}

// LabelInfo is one local label as State.Label gives it.
type LabelInfo struct {
	FEC        netip.Prefix
	Bound      bool
	Downstream []Downstream
}

// Downstream is one next hop of a label switched path from this router.
type Downstream struct {
	NextHop netip.Addr
	Ifname  string
	MTU     int
	// Labels are pushed towards NextHop; empty for a pop (implicit null).
	Labels []uint32
}

// Arrival is how an echo request reached this router.
type Arrival struct {
	// Labelled is true when it came with a label stack whose top TTL
	// expired here; TopLabel is that label. Otherwise the packet arrived
	// as IP (the penultimate hop popped the label) or under an explicit
	// null label, and this router is the end of the path.
	Labelled bool
	TopLabel uint32
}

// IPv4 Explicit NULL (RFC 3032): the end of the path when it is the only
// label left.
const labelIPv4ExplicitNull = 0

// Answer decides the echo reply to one echo request, as RFC 8029 section
// 4.4 describes the receiver's checks: nil when no reply is due (a reply,
// or a request that asks for none). raw is the UDP payload; now is the
// time it was received.
func Answer(raw []byte, arr Arrival, st State, now time.Time) *lspping.Message {
	req, err := lspping.Parse(raw)
	var pe *lspping.ParseError
	if errors.As(err, &pe) {
		if pe.Header == nil || pe.Header.Type != lspping.EchoRequest || pe.Header.ReplyMode == lspping.ReplyNone {
			return nil
		}
		rep := reply(pe.Header, now, pe.Code, 0)
		if pe.Code == lspping.RCTLVNotUnderstood && len(pe.NotUnderstood) > 0 {
			rep.TLVs = append(rep.TLVs, &lspping.ErroredTLVs{TLVs: pe.NotUnderstood})
		}
		return rep
	}
	if err != nil || req.Type != lspping.EchoRequest || req.ReplyMode == lspping.ReplyNone {
		return nil
	}
	fec, hasFEC := targetFEC(req)
	if arr.Labelled && arr.TopLabel == labelIPv4ExplicitNull {
		arr.Labelled = false
	}
	if !arr.Labelled {
		// The end of the path: the egress, if the FEC is this router's.
		if !hasFEC || st.Egress(fec) {
			return reply(req, now, lspping.RCEgress, 1)
		}
		return reply(req, now, lspping.RCNoMapping, 1)
	}
	info, ok := st.Label(arr.TopLabel)
	switch {
	case !ok || !info.Bound:
		return reply(req, now, lspping.RCNoLabelEntry, 1)
	case hasFEC && info.FEC != fec:
		return reply(req, now, lspping.RCMappingNotGivenLabel, 1)
	case st.Egress(info.FEC):
		return reply(req, now, lspping.RCEgress, 1)
	case len(info.Downstream) == 0:
		return reply(req, now, lspping.RCLabelSwitchedNoMPLS, 1)
	}
	rep := reply(req, now, lspping.RCLabelSwitched, 1)
	if wantsDownstream(req) {
		for _, d := range info.Downstream {
			rep.TLVs = append(rep.TLVs, ddmap(d))
		}
	}
	return rep
}

// targetFEC is the request's FEC at stack depth 1, when it is an LDP prefix.
func targetFEC(m *lspping.Message) (netip.Prefix, bool) {
	fecs := m.TargetFECs()
	if len(fecs) == 0 {
		return netip.Prefix{}, false
	}
	p, ok := fecs[0].(*lspping.LDPPrefix)
	if !ok {
		return netip.Prefix{}, false
	}
	return p.Prefix.Masked(), true
}

// wantsDownstream: the request carries a Downstream Detailed Mapping TLV,
// which asks each transit router to describe its own downstream (RFC 8029
// section 4.4, step 7).
func wantsDownstream(m *lspping.Message) bool {
	for _, t := range m.TLVs {
		if _, ok := t.(*lspping.DownstreamDetailedMapping); ok {
			return true
		}
	}
	return false
}

// ddmap describes one downstream for traceroute.
func ddmap(d Downstream) *lspping.DownstreamDetailedMapping {
	m := &lspping.DownstreamDetailedMapping{MTU: uint16(min(d.MTU, 0xffff)), AddrType: lspping.AddrIPv4Numbered,
		Address: d.NextHop, InterfaceAddr: d.NextHop}
	if d.NextHop.Is6() {
		m.AddrType = lspping.AddrIPv6Numbered
	}
	labels := d.Labels
	if len(labels) == 0 {
		labels = []uint32{3} // implicit null: the next hop gets the packet unlabelled
	}
	ls := &lspping.LabelStack{}
	for i, l := range labels {
		ls.Labels = append(ls.Labels, lspping.DownstreamLabel{Label: l, S: i == len(labels)-1, Protocol: lspping.ProtoLDP})
	}
	m.SubTLVs = append(m.SubTLVs, ls)
	return m
}

// reply is the echo reply to req with the given return code and subcode
// (the stack depth it refers to).
func reply(req *lspping.Message, now time.Time, rc lspping.ReturnCode, rsc uint8) *lspping.Message {
	return &lspping.Message{
		Flags: req.Flags, Type: lspping.EchoReply, ReplyMode: req.ReplyMode,
		ReturnCode: rc, ReturnSubcode: rsc,
		SenderHandle: req.SenderHandle, SequenceNumber: req.SequenceNumber,
		TimestampSent: req.TimestampSent, TimestampReceived: lspping.NewTimestamp(now),
	}
}
