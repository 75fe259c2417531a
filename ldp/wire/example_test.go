package wire_test

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/lsrd/lsrd/ldp/wire"
)

// Example shows the intended split of work: the codec frames and decodes,
// the engine decides what to do with fatal and non-fatal errors.
func Example() {
	out := &wire.PDU{
		ID: wire.LDPID{LSRID: netip.MustParseAddr("192.0.2.1")},
		Messages: []wire.Message{
			&wire.LabelMapping{MsgID: 1, FEC: wire.FEC{wire.PrefixFEC{Prefix: netip.MustParsePrefix("198.51.100.0/24")}}, Label: 100},
			&wire.LabelMapping{MsgID: 2, FEC: wire.FEC{wire.PrefixFEC{Prefix: netip.MustParsePrefix("203.0.113.0/24")}}, Label: 101,
				Unknown: []wire.RawTLV{{Type: 0x3f01, Value: []byte{1}}}}, // U=0: the receiver must reject this one
		},
	}
	b, _ := out.MarshalBinary()

	pdu, err := wire.DecodePDU(b)
	var me wire.MessageErrors
	switch {
	case pdu == nil:
		fmt.Println("close session:", err)
		return
	case errors.As(err, &me):
		for _, e := range me {
			fmt.Printf("notify %v for message %d (fatal %v)\n", e.Status, e.MsgID, e.Fatal())
		}
	}
	for i, m := range pdu.Messages {
		if len(me) > 0 && me[0].Index == i {
			continue
		}
		lm := m.(*wire.LabelMapping)
		fmt.Println("mapping", lm.FEC[0].(wire.PrefixFEC).Prefix, "label", lm.Label)
	}
	// Output:
	// notify Unknown TLV for message 2 (fatal false)
	// mapping 198.51.100.0/24 label 100
}
