package wire

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzDecodePDU checks that decoding never panics and that whatever
// decodes is stable: encoding it and decoding again yields an equal
// value, and a second encoding yields the same bytes.
func FuzzDecodePDU(f *testing.F) {
	for _, v := range vectors {
		f.Add(hx(f, v.hex))
	}
	for _, c := range append(append([]errCase(nil), fatalCases...), softCases...) {
		f.Add(hx(f, c.hex))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, _ := DecodePDU(b)
		if p == nil {
			return
		}
		enc, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("re-encoding a decoded PDU: %v\n%#v", err, p.Messages)
		}
		if len(enc) != len(b) {
			t.Errorf("canonical encoding is %d bytes, input %d", len(enc), len(b))
		}
		p2, _ := DecodePDU(enc)
		if p2 == nil {
			t.Fatalf("re-decoding %x failed", enc)
		}
		if !reflect.DeepEqual(p, p2) {
			t.Fatalf("round trip changed the value\nfirst  %#v\nsecond %#v", p.Messages, p2.Messages)
		}
		enc2, err := p2.MarshalBinary()
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("second encoding differs: %x, %v\nwant %x", enc2, err, enc)
		}
	})
}
