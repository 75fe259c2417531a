package ldp

import (
	"github.com/lsrd/lsrd/ldp/wire"
)

// splitToFit returns m, or, when m's encoding would not fit in room bytes
// (the part of a PDU left to messages: the session's Max PDU Length minus
// the LDP Identifier, RFC 5036 section 3.5.3), m's list spread over as
// many messages of its type as needed, in order, each of which fits.
//
// Only Address and Address Withdraw carry a list the engine builds without
// bound (one entry per interface address: a router with 10,000 addresses
// makes a 40,022-byte Address message, and a peer that never gets it cannot
// map next hops to us, section 2.7). Their addresses are independent, so
// several messages mean the same as one; FRR splits them likewise. The
// other messages are bounded: the LIB names one prefix per FEC TLV, a
// Label Release that echoes a withdraw's FEC TLV is no larger than that
// withdraw, which came in a PDU within the same limit, and Initialization,
// Capability and Notification have fixed or echoed contents.
//
// A message that cannot be split, or whose fixed part alone is too big,
// comes back as is for the caller to report.
func splitToFit(m wire.Message, room int) []wire.Message {
	switch m := m.(type) {
	case *wire.Address:
		return splitAddresses(m, m.Addresses, room, func(l wire.AddressList) wire.Message {
			return &wire.Address{Addresses: l, Unknown: m.Unknown}
		})
	case *wire.AddressWithdraw:
		return splitAddresses(m, m.Addresses, room, func(l wire.AddressList) wire.Message {
			return &wire.AddressWithdraw{Addresses: l, Unknown: m.Unknown}
		})
	}
	return []wire.Message{m}
}

// splitAddresses cuts l into chunks of as many addresses as fit in room,
// sized from the wire encoding of the message build makes: the bytes of a
// message with no address, and what one address adds. The whole message
// is never encoded first: past 16,383 IPv4 addresses its Address List TLV
// could not even be encoded.
func splitAddresses(m wire.Message, l wire.AddressList, room int, build func(wire.AddressList) wire.Message) []wire.Message {
	if len(l.Addrs) <= 1 {
		return []wire.Message{m}
	}
	empty, err := wire.AppendMessage(nil, build(wire.AddressList{Family: l.Family}))
	if err != nil {
		return []wire.Message{m}
	}
	one, err := wire.AppendMessage(nil, build(wire.AddressList{Family: l.Family, Addrs: l.Addrs[:1]}))
	if err != nil {
		return []wire.Message{m}
	}
	per := len(one) - len(empty)
	n := (room - len(empty)) / per
	if n < 1 || len(l.Addrs) <= n {
		return []wire.Message{m}
	}
	out := make([]wire.Message, 0, (len(l.Addrs)+n-1)/n)
	for rest := l.Addrs; len(rest) > 0; {
		k := min(n, len(rest))
		out = append(out, build(wire.AddressList{Family: l.Family, Addrs: rest[:k:k]}))
		rest = rest[k:]
	}
	return out
}
