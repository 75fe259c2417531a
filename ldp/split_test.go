package ldp

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/lsrd/lsrd/ldp/wire"
)

// addrRange returns n consecutive addresses from first.
func addrRange(first string, n int) []netip.Addr {
	out := make([]netip.Addr, n)
	a := netip.MustParseAddr(first)
	for i := range out {
		out[i] = a
		a = a.Next()
	}
	return out
}

// TestSplitToFit checks that an address list too long for one PDU is cut
// into messages that each fit, that together carry every address once and
// in order, and that nothing is split that fits already. Room is what a
// PDU leaves to messages: an Address message costs 8 (header and ID) + 4
// (TLV header) + 2 (family) bytes plus 4 (IPv4) or 16 (IPv6) per address.
func TestSplitToFit(t *testing.T) {
	v4 := func(n int) wire.AddressList {
		return wire.AddressList{Family: wire.AFIPv4, Addrs: addrRange("10.0.0.1", n)}
	}
	v6 := func(n int) wire.AddressList {
		return wire.AddressList{Family: wire.AFIPv6, Addrs: addrRange("2001:db8::1", n)}
	}
	for _, c := range []struct {
		name  string
		msg   wire.Message
		room  int
		sizes []int // addresses per resulting message
	}{
		{"fits exactly", &wire.Address{Addresses: v4(10)}, 14 + 40, []int{10}},
		{"one address over", &wire.Address{Addresses: v4(11)}, 14 + 40, []int{10, 1}},
		{"room not a multiple", &wire.Address{Addresses: v4(25)}, 14 + 43, []int{10, 10, 5}},
		{"default max PDU", &wire.Address{Addresses: v4(10000)}, 4096 - 6, []int{1019, 1019, 1019, 1019, 1019, 1019, 1019, 1019, 1019, 829}},
		{"past the TLV limit", &wire.Address{Addresses: v4(20000)}, 65535 - 6, []int{16378, 3622}},
		{"withdraw", &wire.AddressWithdraw{Addresses: v4(7)}, 14 + 12, []int{3, 3, 1}},
		{"ipv6", &wire.Address{Addresses: v6(5)}, 14 + 32, []int{2, 2, 1}},
		{"unknown TLVs in every part", &wire.Address{Addresses: v4(4), Unknown: []wire.RawTLV{{U: true, Type: 0x3f00, Value: []byte{1, 2}}}}, 14 + 6 + 8, []int{2, 2}},
		{"one address never split", &wire.Address{Addresses: v4(1)}, 10, []int{1}},
		{"not even one address fits", &wire.Address{Addresses: v4(3)}, 14 + 3, []int{3}},
		{"not a list", &wire.KeepAlive{}, 4, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			parts := splitToFit(c.msg, c.room)
			var sizes []int
			var addrs []netip.Addr
			for _, p := range parts {
				if p.Type() != c.msg.Type() {
					t.Fatalf("part of type %v, want %v", p.Type(), c.msg.Type())
				}
				var l wire.AddressList
				var unknown []wire.RawTLV
				switch p := p.(type) {
				case *wire.Address:
					l, unknown = p.Addresses, p.Unknown
				case *wire.AddressWithdraw:
					l, unknown = p.Addresses, p.Unknown
				default:
					if p != c.msg {
						t.Fatalf("%v came back changed", p.Type())
					}
					continue
				}
				sizes = append(sizes, len(l.Addrs))
				addrs = append(addrs, l.Addrs...)
				if len(unknown) != 0 && !strings.Contains(c.name, "unknown") {
					t.Errorf("unexpected unknown TLVs %v", unknown)
				}
				if strings.Contains(c.name, "unknown") && len(unknown) != 1 {
					t.Errorf("part lost its unknown TLVs")
				}
				b, err := wire.AppendMessage(nil, p)
				if err != nil {
					t.Fatal(err)
				}
				if len(parts) > 1 && len(b) > c.room {
					t.Errorf("part of %d bytes exceeds room %d", len(b), c.room)
				}
			}
			if !slices.Equal(sizes, c.sizes) {
				t.Errorf("parts of %v addresses, want %v", sizes, c.sizes)
			}
			var want []netip.Addr
			switch m := c.msg.(type) {
			case *wire.Address:
				want = m.Addresses.Addrs
			case *wire.AddressWithdraw:
				want = m.Addresses.Addrs
			}
			if !slices.Equal(addrs, want) {
				t.Errorf("parts carry %d addresses, not the %d given in order", len(addrs), len(want))
			}
		})
	}
}

// TestSendTooBig checks the one case splitting cannot help: a single
// message longer than the session's Max PDU Length is dropped, the error
// naming the peer, the message type and the sizes, and the messages
// around it still go out.
func TestSendTooBig(t *testing.T) {
	e, logs := loggedSession(t)
	s := e.conns[1]
	e.out = nil
	e.sendMessages(s, &wire.KeepAlive{}, &wire.RawMessage{U: true, MsgType: 0x3f00, Params: make([]byte, 5000)}, &wire.KeepAlive{})
	var sent []uint32
	for _, a := range e.out {
		p, err := wire.DecodePDU(a.(Send).Data)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range p.Messages {
			sent = append(sent, m.MessageID())
		}
	}
	if len(sent) != 2 || sent[0]+2 != sent[1] {
		t.Errorf("sent message IDs %v, want the two KeepAlives around the dropped one", sent)
	}
	line := logs.String()
	for _, want := range []string{"level=ERROR", "lsr-id=2.2.2.2", "type=Message(0x3f00)", "msg-len=5008", "pdu-len=5014", "max-pdu=4096"} {
		if !strings.Contains(line, want) {
			t.Errorf("log lacks %q:\n%s", want, line)
		}
	}
}
