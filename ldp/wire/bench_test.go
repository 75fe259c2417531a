package wire

import (
	"net/netip"
	"testing"
)

// mappingPDU builds a PDU of n Label Mappings for distinct /24 prefixes,
// the bulk of what an LSR exchanges after session establishment.
func mappingPDU(n int) *PDU {
	p := &PDU{ID: LDPID{LSRID: netip.AddrFrom4([4]byte{10, 0, 0, 1})}}
	for i := range n {
		p.Messages = append(p.Messages, &LabelMapping{
			MsgID: uint32(i + 1),
			FEC:   FEC{PrefixFEC{netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24)}},
			Label: uint32(16 + i),
		})
	}
	return p
}

func BenchmarkDecode100LabelMappings(b *testing.B) {
	buf, err := mappingPDU(100).MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodePDU(buf); err != nil {
			b.Fatal(err)
		}
	}
	reportRates(b, 100)
}

// reportRates adds PDUs and messages per second to the benchmark's line, the
// figures an LSR's session throughput is judged by.
func reportRates(b *testing.B, msgsPerPDU int) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "PDUs/s")
		b.ReportMetric(float64(b.N*msgsPerPDU)/s, "msgs/s")
	}
}

func BenchmarkEncode100LabelMappings(b *testing.B) {
	p := mappingPDU(100)
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = p.AppendBinary(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
	reportRates(b, 100)
}
