package wire

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"testing"
)

func TestReadPDU(t *testing.T) {
	ka := hx(t, `0001 000e 0a000001 0000 0201 0004 00000004`)
	hello := hx(t, vectors[0].hex)
	stream := append(append(append([]byte(nil), ka...), hello...), ka[:7]...)
	r := bytes.NewReader(stream)
	for i, want := range [][]byte{ka, hello} {
		got, err := ReadPDU(r, DefaultMaxPDULen)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("PDU %d = %x, %v; want %x", i, got, err, want)
		}
	}
	if _, err := ReadPDU(r, DefaultMaxPDULen); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("cut PDU: err %v, want io.ErrUnexpectedEOF", err)
	}
	if _, err := ReadPDU(bytes.NewReader(nil), DefaultMaxPDULen); err != io.EOF {
		t.Errorf("empty stream: err %v, want io.EOF", err)
	}
	var de *DecodeError
	if _, err := ReadPDU(bytes.NewReader(ka), 13); !errors.As(err, &de) || de.Status != StatusBadPDULength {
		t.Errorf("over max: err %v, want Bad PDU Length", err)
	}
	if _, err := ReadPDU(bytes.NewReader(hx(t, `0002 000e`)), 0); !errors.As(err, &de) || de.Status != StatusBadProtocolVersion {
		t.Errorf("bad version: err %v, want Bad Protocol Version", err)
	}
}

func TestPDUSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"", 0, true},
		{"0001 00", 0, true},
		{"0001 000e", 18, true},
		{"0001 1000", 4100, true},
		{"0001 1001", 0, false},
		{"0001 000d", 0, false},
		{"0000 000e", 0, false},
	} {
		n, err := PDUSize(hx(t, c.in), DefaultMaxPDULen)
		if n != c.want || (err == nil) != c.ok {
			t.Errorf("PDUSize(%s) = %d, %v; want %d, ok=%v", c.in, n, err, c.want, c.ok)
		}
	}
}

// TestEncodeRejects checks that values the wire cannot carry are refused
// rather than silently truncated.
func TestEncodeRejects(t *testing.T) {
	fec := FEC{PrefixFEC{pfx("10.0.0.0/8")}}
	for name, m := range map[string]Message{
		"label over 20 bits":    &LabelMapping{FEC: fec, Label: MaxLabel + 1},
		"empty FEC":             &LabelRequest{},
		"invalid prefix":        &LabelRequest{FEC: FEC{PrefixFEC{}}},
		"nil FEC element":       &LabelRequest{FEC: FEC{nil}},
		"status over 30 bits":   &Notification{Status: Status{Code: 1 << 30}},
		"IPv6 in IPv4 list":     &Address{Addresses: AddressList{Family: AFIPv4, Addrs: []netip.Addr{ip("::1")}}},
		"unknown address fam":   &Address{Addresses: AddressList{Family: 7}},
		"IPv6 LSR in path":      &LabelRequest{FEC: fec, PathVector: []netip.Addr{ip("::1")}},
		"receiver ID not IPv4":  &Initialization{},
		"raw type over 15 bits": &RawMessage{MsgType: 0x8000},
		"raw TLV over 14 bits":  &KeepAlive{Unknown: []RawTLV{{Type: 0x4000}}},
		"unknown capability":    &Capability{Capabilities: []CapabilityParam{{Type: 0x0999}}},
		"oversized TLV":         &KeepAlive{Unknown: []RawTLV{{Type: 0x3f00, Value: make([]byte, 0x10000)}}},
	} {
		if b, err := AppendMessage(nil, m); err == nil {
			t.Errorf("%s: encoded %x, want error", name, b)
		} else if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %v does not wrap ErrInvalid", name, err)
		}
	}
	if _, err := (&PDU{ID: id("10.0.0.1", 0)}).MarshalBinary(); err == nil {
		t.Error("PDU without messages encoded")
	}
	if _, err := (&PDU{Messages: []Message{&KeepAlive{}}}).MarshalBinary(); err == nil {
		t.Error("PDU without LSR ID encoded")
	}
}
