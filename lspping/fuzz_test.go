package lspping

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

// FuzzParse checks that Parse never panics, fails only with a *ParseError
// that makes sense, and that what it accepts marshals back canonically:
// same length, and parsing the output gives the same message.
func FuzzParse(f *testing.F) {
	for _, c := range tlvCases {
		b, err := replyMsg(c.tlv).MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		if b, err = headerMsg(ldpFEC, c.tlv).MarshalBinary(); err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	req, _ := NewRequest(1, 2, time.Now(), netip.MustParsePrefix("2001:db8::/32"), ReplyUDPRouterAlert, FlagValidateFEC|FlagRespondTTLExpired).MarshalBinary()
	f.Add(req)
	f.Add(mustHex(header + `0004 0003 | 010203 00 | 8001 0001 | ff 000000` + ldpFECBytes + `0002 0000`))
	f.Add(mustHex(header))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || m != nil {
				t.Fatalf("Parse = %v, %v", m, err)
			}
			switch {
			case pe.Code != RCMalformedRequest && pe.Code != RCTLVNotUnderstood,
				(pe.Code == RCTLVNotUnderstood) != (len(pe.NotUnderstood) > 0),
				(pe.Header == nil) != (len(data) < HeaderLen),
				pe.Header != nil && pe.Header.TLVs != nil,
				pe.Offset < 0 || pe.Offset > len(data):
				t.Fatalf("bad error %#v", pe)
			}
			for _, r := range pe.NotUnderstood {
				if r.Type >= 32768 || understood(r.Type) {
					t.Fatalf("type %d reported as not understood", r.Type)
				}
			}
			return
		}
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("marshal of a parsed message: %v\n%#v", err, m)
		}
		if len(b) != len(data) {
			t.Fatalf("marshaled %d octets from %d:\n in %x\nout %x", len(b), len(data), data, b)
		}
		m2, err := Parse(b)
		if err != nil {
			t.Fatalf("parse of a marshaled message: %v\n%x", err, b)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip differs:\n%#v\n%#v", m, m2)
		}
		if b2, _ := m2.MarshalBinary(); !bytes.Equal(b, b2) {
			t.Fatalf("marshal not canonical:\n%x\n%x", b, b2)
		}
	})
}

// FuzzParseIPv4UDP checks that ParseIPv4UDP never panics, and that what
// it accepts marshals into a packet that parses the same. With fix, the
// IP header checksum is corrected first, so that the fuzzer gets past it.
func FuzzParseIPv4UDP(f *testing.F) {
	for _, c := range tlvCases[:4] {
		payload, _ := headerMsg(ldpFEC, c.tlv).MarshalBinary()
		pkt, err := EchoRequestIPv4(netip.MustParseAddr("192.0.2.1"), netip.Addr{}, 49152, payload)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(pkt, false)
	}
	reply, _ := (&IPv4UDP{Src: netip.MustParseAddr("192.0.2.9"), Dst: netip.MustParseAddr("192.0.2.1"), TTL: 255, SrcPort: Port, DstPort: 49152, Payload: []byte("x")}).MarshalBinary()
	f.Add(reply, false)
	f.Add(mustHex(`4700 0024 0000 0000 0111 0000 c0000201 7f000001 01940400 00000000 | 0000 0daf 0008 0000`), true)
	f.Fuzz(func(t *testing.T, data []byte, fix bool) {
		if hlen := 4 * int(data0(data)&0xf); fix && hlen >= 20 && hlen <= len(data) {
			data = bytes.Clone(data)
			data[10], data[11] = 0, 0
			binary.BigEndian.PutUint16(data[10:], ^checksum(0, data[:hlen]))
		}
		p, err := ParseIPv4UDP(data)
		if err != nil {
			return
		}
		if len(p.Payload) > len(data) {
			t.Fatalf("payload of %d octets from %d", len(p.Payload), len(data))
		}
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("marshal of a parsed packet: %v\n%+v", err, p)
		}
		p2, err := ParseIPv4UDP(b)
		if err != nil {
			t.Fatalf("parse of a marshaled packet: %v\n%x", err, b)
		}
		if !reflect.DeepEqual(p, p2) {
			t.Fatalf("round trip differs:\n%+v\n%+v", p, p2)
		}
	})
}

func data0(b []byte) byte {
	if len(b) == 0 {
		return 0
	}
	return b[0]
}
