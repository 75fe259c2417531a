package lspping

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// LabelEntry is an MPLS label stack entry (RFC 3032 section 2.1, the EXP
// bits renamed TC by RFC 5462).
type LabelEntry struct {
	Label uint32 // 20 bits
	TC    uint8  // 3 bits
	S     bool   // bottom of stack
	TTL   uint8
}

func (e LabelEntry) check() error {
	if e.Label > 0xfffff || e.TC > 7 {
		return fmt.Errorf("lspping: label %d TC %d out of range", e.Label, e.TC)
	}
	return nil
}

func (e LabelEntry) append(b []byte) []byte {
	v := (e.Label&0xfffff)<<12 | uint32(e.TC&7)<<9 | uint32(e.TTL)
	if e.S {
		v |= 1 << 8
	}
	return binary.BigEndian.AppendUint32(b, v)
}

func decodeEntry(b []byte) LabelEntry {
	v := binary.BigEndian.Uint32(b)
	return LabelEntry{Label: v >> 12, TC: uint8(v>>9) & 7, S: v&(1<<8) != 0, TTL: uint8(v)}
}

// decodeEntries decodes len(b)/4 entries, whatever their S bits.
func decodeEntries(b []byte) []LabelEntry {
	if len(b) < 4 {
		return nil
	}
	out := make([]LabelEntry, 0, len(b)/4)
	for ; len(b) >= 4; b = b[4:] {
		out = append(out, decodeEntry(b))
	}
	return out
}

// EncodeLabelStack encodes label stack entries, the first being the top
// of the stack, as MPLS shim headers. Each S bit is written as given;
// Label and TC are truncated to 20 and 3 bits.
func EncodeLabelStack(stack []LabelEntry) []byte {
	b := make([]byte, 0, 4*len(stack))
	for _, e := range stack {
		b = e.append(b)
	}
	return b
}

// DecodeLabelStack decodes the label stack at the start of b down to the
// first entry with the S bit set, and returns the entries and what
// follows them.
func DecodeLabelStack(b []byte) ([]LabelEntry, []byte, error) {
	for i := 0; i+4 <= len(b); i += 4 {
		if b[i+2]&1 != 0 {
			return decodeEntries(b[:i+4]), b[i+4:], nil
		}
	}
	return nil, nil, errors.New("lspping: label stack without bottom of stack")
}

// IPv4UDP is an IPv4 packet carrying a UDP datagram, as far as LSP ping
// needs it: no fragmentation, and of the IP options only Router Alert.
type IPv4UDP struct {
	Src, Dst         netip.Addr
	TOS, TTL         uint8
	RouterAlert      bool // the IPv4 Router Alert option (RFC 2113)
	SrcPort, DstPort uint16
	Payload          []byte
}

const (
	protoUDP         = 17
	optRouterAlert   = 0x94 // copied flag, class 0, number 20 (RFC 2113)
	ipv4HeaderLen    = 20
	udpHeaderLen     = 8
	routerAlertLen   = 4
	maxIPv4PacketLen = 0xffff
)

// MarshalBinary encodes p with a zero Identification, no flags, and the
// IP header and UDP checksums computed. With RouterAlert the header
// carries the option with value 0, "router shall examine packet".
func (p *IPv4UDP) MarshalBinary() ([]byte, error) {
	src, dst := p.Src.Unmap(), p.Dst.Unmap()
	if !src.Is4() || !dst.Is4() {
		return nil, fmt.Errorf("lspping: IPv4 packet from %v to %v", p.Src, p.Dst)
	}
	hlen := ipv4HeaderLen
	if p.RouterAlert {
		hlen += routerAlertLen
	}
	udpLen := udpHeaderLen + len(p.Payload)
	if hlen+udpLen > maxIPv4PacketLen {
		return nil, fmt.Errorf("lspping: %d octets of UDP payload do not fit an IPv4 packet", len(p.Payload))
	}
	b := make([]byte, hlen, hlen+udpLen)
	b[0] = 4<<4 | byte(hlen/4)
	b[1] = p.TOS
	binary.BigEndian.PutUint16(b[2:], uint16(hlen+udpLen))
	b[8], b[9] = p.TTL, protoUDP
	s4, d4 := src.As4(), dst.As4()
	copy(b[12:], s4[:])
	copy(b[16:], d4[:])
	if p.RouterAlert {
		copy(b[20:], []byte{optRouterAlert, routerAlertLen, 0, 0})
	}
	binary.BigEndian.PutUint16(b[10:], ^checksum(0, b))
	b = binary.BigEndian.AppendUint16(b, p.SrcPort)
	b = binary.BigEndian.AppendUint16(b, p.DstPort)
	b = binary.BigEndian.AppendUint16(b, uint16(udpLen))
	b = append(b, 0, 0)
	b = append(b, p.Payload...)
	sum := ^checksum(pseudoHeaderSum(s4, d4, udpLen), b[hlen:])
	if sum == 0 {
		sum = 0xffff // RFC 768: a computed zero is sent as all ones
	}
	binary.BigEndian.PutUint16(b[hlen+6:], sum)
	return b, nil
}

// EchoRequestIPv4 builds the IPv4 packet of an echo request (RFC 8029
// section 4.3): from src, to dst, which must be in 127/8 (127.0.0.1 when
// dst is the zero Addr), IP TTL 1, the Router Alert option, from UDP port
// srcPort to Port. payload is the marshaled Message.
func EchoRequestIPv4(src, dst netip.Addr, srcPort uint16, payload []byte) ([]byte, error) {
	if !dst.IsValid() {
		dst = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	if d := dst.Unmap(); !d.Is4() || d.As4()[0] != 127 {
		return nil, fmt.Errorf("lspping: echo request destination %v is not in 127/8", dst)
	}
	p := IPv4UDP{Src: src, Dst: dst, TTL: 1, RouterAlert: true, SrcPort: srcPort, DstPort: Port, Payload: payload}
	return p.MarshalBinary()
}

// ParseIPv4UDP decodes an IPv4 packet carrying UDP. It checks the IP
// header checksum and lengths, rejects fragments, and reports whether a
// Router Alert option is present (whatever its value). Octets past the IP
// Total Length are ignored. It does not check the UDP checksum, which
// Linux may leave for the hardware on packets captured before it is
// filled in. Payload aliases b.
func ParseIPv4UDP(b []byte) (*IPv4UDP, error) {
	bad := func(format string, args ...any) (*IPv4UDP, error) {
		return nil, fmt.Errorf("lspping: IPv4/UDP packet: "+format, args...)
	}
	if len(b) < ipv4HeaderLen {
		return bad("%d octets", len(b))
	}
	if v := b[0] >> 4; v != 4 {
		return bad("IP version %d", v)
	}
	hlen := int(b[0]&0xf) * 4
	total := int(binary.BigEndian.Uint16(b[2:]))
	if hlen < ipv4HeaderLen || total < hlen || total > len(b) {
		return bad("header length %d, total length %d, %d octets", hlen, total, len(b))
	}
	b = b[:total]
	if checksum(0, b[:hlen]) != 0xffff {
		return bad("bad header checksum")
	}
	if binary.BigEndian.Uint16(b[6:])&0x3fff != 0 {
		return bad("fragment")
	}
	if b[9] != protoUDP {
		return bad("protocol %d", b[9])
	}
	p := &IPv4UDP{
		Src: netip.AddrFrom4([4]byte(b[12:])),
		Dst: netip.AddrFrom4([4]byte(b[16:])),
		TOS: b[1],
		TTL: b[8],
	}
	for opts := b[ipv4HeaderLen:hlen]; len(opts) > 0 && opts[0] != 0; { // 0: End of Option List
		if opts[0] == 1 { // No Operation
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 || opts[1] < 2 || int(opts[1]) > len(opts) {
			return bad("bad IP option %d", opts[0])
		}
		if opts[0] == optRouterAlert {
			if opts[1] != routerAlertLen {
				return bad("Router Alert option of length %d", opts[1])
			}
			p.RouterAlert = true
		}
		opts = opts[opts[1]:]
	}
	udp := b[hlen:]
	if len(udp) < udpHeaderLen {
		return bad("%d octets of UDP", len(udp))
	}
	ul := int(binary.BigEndian.Uint16(udp[4:]))
	if ul < udpHeaderLen || ul > len(udp) {
		return bad("UDP length %d with %d octets", ul, len(udp))
	}
	p.SrcPort = binary.BigEndian.Uint16(udp)
	p.DstPort = binary.BigEndian.Uint16(udp[2:])
	p.Payload = udp[udpHeaderLen:ul]
	return p, nil
}

// checksum adds b to the ones' complement sum sum (RFC 1071) and returns
// the folded result, not complemented.
func checksum(sum uint32, b []byte) uint16 {
	for ; len(b) >= 2; b = b[2:] {
		sum += uint32(b[0])<<8 | uint32(b[1])
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return uint16(sum)
}

func pseudoHeaderSum(src, dst [4]byte, udpLen int) uint32 {
	b := append(append(src[:], dst[:]...), 0, protoUDP, byte(udpLen>>8), byte(udpLen))
	return uint32(checksum(0, b))
}
