package oam

import (
	"net/netip"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lspping"
)

// fakeState is a router that gave label 17 for 3.3.3.3/32 (switched to
// 10.2.0.3 with implicit null), label 18 for 4.4.4.4/32 (withdrawn), and
// is the egress of 2.2.2.2/32.
type fakeState struct{}

func (fakeState) Label(in uint32) (LabelInfo, bool) {
	switch in {
	case 17:
		return LabelInfo{FEC: netip.MustParsePrefix("3.3.3.3/32"), Bound: true,
			Downstream: []Downstream{{NextHop: netip.MustParseAddr("10.2.0.3"), Ifname: "zt0", MTU: 2800}}}, true
	case 18:
		return LabelInfo{FEC: netip.MustParsePrefix("4.4.4.4/32")}, true
	case 19:
		return LabelInfo{FEC: netip.MustParsePrefix("5.5.5.5/32"), Bound: true}, true
	case 20:
		return LabelInfo{FEC: netip.MustParsePrefix("2001:db8::3/128"), Bound: true,
			Downstream: []Downstream{{NextHop: netip.MustParseAddr("fe80::2"), Ifname: "zt0", MTU: 2800, Labels: []uint32{30}}}}, true
	}
	return LabelInfo{}, false
}

func (fakeState) Egress(p netip.Prefix) bool { return p == netip.MustParsePrefix("2.2.2.2/32") }

func request(t *testing.T, fec string, ddmap bool, mode lspping.ReplyMode) []byte {
	t.Helper()
	m := lspping.NewRequest(0xabc, 7, time.Unix(1_800_000_000, 0), netip.MustParsePrefix(fec), mode, lspping.FlagValidateFEC)
	if ddmap {
		m.TLVs = append(m.TLVs, &lspping.DownstreamDetailedMapping{AddrType: lspping.AddrIPv4Unnumbered, Address: netip.MustParseAddr("224.0.0.2")})
	}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Each of RFC 8029 section 4.4's outcomes that lsrd's responder gives.
func TestAnswer(t *testing.T) {
	now := time.Unix(1_800_000_001, 0)
	for _, c := range []struct {
		name  string
		raw   []byte
		arr   Arrival
		code  lspping.ReturnCode
		ddmap bool
	}{
		{"egress after PHP", request(t, "2.2.2.2/32", false, lspping.ReplyUDP), Arrival{}, lspping.RCEgress, false},
		{"egress under explicit null", request(t, "2.2.2.2/32", false, lspping.ReplyUDP), Arrival{Labelled: true, TopLabel: 0}, lspping.RCEgress, false},
		{"end of path, not our FEC", request(t, "9.9.9.9/32", false, lspping.ReplyUDP), Arrival{}, lspping.RCNoMapping, false},
		{"transit", request(t, "3.3.3.3/32", false, lspping.ReplyUDP), Arrival{Labelled: true, TopLabel: 17}, lspping.RCLabelSwitched, false},
		{"transit, traceroute", request(t, "3.3.3.3/32", true, lspping.ReplyUDP), Arrival{Labelled: true, TopLabel: 17}, lspping.RCLabelSwitched, true},
		{"unknown label", request(t, "3.3.3.3/32", false, lspping.ReplyUDP), Arrival{Labelled: true, TopLabel: 99}, lspping.RCNoLabelEntry, false},
		{"withdrawn label", request(t, "4.4.4.4/32", false, lspping.ReplyUDP), Arrival{Labelled: true, TopLabel: 18}, lspping.RCNoLabelEntry, false},
		{"label of another FEC", request(t, "4.4.4.4/32", false, lspping.ReplyUDP), Arrival{Labelled: true, TopLabel: 17}, lspping.RCMappingNotGivenLabel, false},
		{"no downstream", request(t, "5.5.5.5/32", false, lspping.ReplyUDP), Arrival{Labelled: true, TopLabel: 19}, lspping.RCLabelSwitchedNoMPLS, false},
		// LDP IPv6 prefix sub-TLVs are validated the same way.
		{"IPv6 FEC transit", request(t, "2001:db8::3/128", false, lspping.ReplyUDP), Arrival{Labelled: true, TopLabel: 20}, lspping.RCLabelSwitched, false},
		{"IPv6 FEC, IPv4 label", request(t, "2001:db8::3/128", false, lspping.ReplyUDP), Arrival{Labelled: true, TopLabel: 17}, lspping.RCMappingNotGivenLabel, false},
		{"IPv4 FEC, IPv6 label", request(t, "3.3.3.3/32", false, lspping.ReplyUDP), Arrival{Labelled: true, TopLabel: 20}, lspping.RCMappingNotGivenLabel, false},
	} {
		rep := Answer(c.raw, c.arr, fakeState{}, now)
		if rep == nil {
			t.Errorf("%s: no reply", c.name)
			continue
		}
		if rep.Type != lspping.EchoReply || rep.ReturnCode != c.code || rep.ReturnSubcode != 1 ||
			rep.SenderHandle != 0xabc || rep.SequenceNumber != 7 || rep.TimestampReceived != lspping.NewTimestamp(now) {
			t.Errorf("%s: reply %+v, want return code %d (%s)", c.name, rep, c.code, c.code)
		}
		var ds []*lspping.DownstreamDetailedMapping
		for _, tlv := range rep.TLVs {
			if d, ok := tlv.(*lspping.DownstreamDetailedMapping); ok {
				ds = append(ds, d)
			}
		}
		if c.ddmap != (len(ds) == 1) {
			t.Errorf("%s: %d downstream mappings, want %v", c.name, len(ds), c.ddmap)
		}
		if len(ds) == 1 {
			if ls := ds[0].Labels(); ds[0].Address != netip.MustParseAddr("10.2.0.3") || ds[0].MTU != 2800 || len(ls) != 1 || ls[0].Label != 3 || ls[0].Protocol != lspping.ProtoLDP {
				t.Errorf("%s: downstream %+v labels %+v", c.name, ds[0], ls)
			}
		}
		// The reply must encode and decode as what it is.
		b, err := rep.MarshalBinary()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if back, err := lspping.Parse(b); err != nil || back.ReturnCode != c.code {
			t.Errorf("%s: reply does not parse back: %v", c.name, err)
		}
	}
}

// Bad requests get the RFC's return code, replies and "do not reply"
// requests get nothing, garbage gets nothing.
func TestAnswerBadInput(t *testing.T) {
	now := time.Now()
	good := request(t, "2.2.2.2/32", false, lspping.ReplyUDP)
	truncatedTLV := append([]byte(nil), good[:len(good)-4]...)
	if rep := Answer(truncatedTLV, Arrival{}, fakeState{}, now); rep == nil || rep.ReturnCode != lspping.RCMalformedRequest || rep.SenderHandle != 0xabc {
		t.Errorf("truncated TLV: %+v", rep)
	}
	unknown := append(append([]byte(nil), good...), 0x00, 0x04, 0x00, 0x04, 1, 2, 3, 4) // mandatory type 4
	rep := Answer(unknown, Arrival{}, fakeState{}, now)
	if rep == nil || rep.ReturnCode != lspping.RCTLVNotUnderstood {
		t.Fatalf("unknown TLV: %+v", rep)
	}
	var errored *lspping.ErroredTLVs
	for _, tlv := range rep.TLVs {
		if e, ok := tlv.(*lspping.ErroredTLVs); ok {
			errored = e
		}
	}
	if errored == nil || len(errored.TLVs) != 1 || errored.TLVs[0].Type != 4 {
		t.Errorf("unknown TLV: errored TLVs %+v", errored)
	}
	if rep := Answer(request(t, "2.2.2.2/32", false, lspping.ReplyNone), Arrival{}, fakeState{}, now); rep != nil {
		t.Errorf("reply mode 'do not reply' answered: %+v", rep)
	}
	r := Answer(good, Arrival{}, fakeState{}, now)
	b, _ := r.MarshalBinary()
	if rep := Answer(b, Arrival{}, fakeState{}, now); rep != nil {
		t.Errorf("an echo reply was answered: %+v", rep)
	}
	for _, junk := range [][]byte{nil, {0, 1}, make([]byte, 40)} {
		if rep := Answer(junk, Arrival{}, fakeState{}, now); rep != nil {
			t.Errorf("junk %x answered: %+v", junk, rep)
		}
	}
}

func FuzzAnswer(f *testing.F) {
	f.Add(request(&testing.T{}, "2.2.2.2/32", true, lspping.ReplyUDP), true, uint32(17))
	f.Add([]byte{0, 1, 0, 0, 1, 2, 0, 0}, false, uint32(0))
	f.Fuzz(func(t *testing.T, raw []byte, labelled bool, top uint32) {
		rep := Answer(raw, Arrival{Labelled: labelled, TopLabel: top}, fakeState{}, time.Now())
		if rep == nil {
			return
		}
		if _, err := rep.MarshalBinary(); err != nil {
			t.Fatalf("a reply that does not encode: %v", err)
		}
	})
}
