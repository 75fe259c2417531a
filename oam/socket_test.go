package oam

import (
	"net/netip"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/lsrd/lsrd/lspping"
)

// The kernel filters, run in x/net/bpf's interpreter on packets as the
// datagram packet sockets see them (from the network header on).
func TestFilters(t *testing.T) {
	echo := func(dst string, port uint16) []byte {
		p := lspping.IPv4UDP{Src: netip.MustParseAddr("1.1.1.1"), Dst: netip.MustParseAddr(dst), TTL: 1, RouterAlert: true,
			SrcPort: 3503, DstPort: port, Payload: []byte("x")}
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	labelled := func(ttl uint8, ip []byte) []byte {
		return append(lspping.EncodeLabelStack([]lspping.LabelEntry{{Label: 17, S: true, TTL: ttl}}), ip...)
	}
	run := func(prog []bpf.Instruction, pkt []byte) bool {
		vm, err := bpf.NewVM(prog)
		if err != nil {
			t.Fatal(err)
		}
		n, err := vm.Run(pkt)
		if err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	for _, c := range []struct {
		name string
		prog []bpf.Instruction
		pkt  []byte
		want bool
	}{
		{"labelled, TTL 1", mplsExpiring, labelled(1, echo("127.0.0.1", 3503)), true},
		{"labelled, TTL 0", mplsExpiring, labelled(0, echo("127.0.0.1", 3503)), true},
		{"labelled, TTL 64", mplsExpiring, labelled(64, echo("127.0.0.1", 3503)), false},
		{"echo request to 127.0.0.1", ipToLoopbackEcho, echo("127.0.0.1", 3503), true},
		{"echo request to 127.1.2.3", ipToLoopbackEcho, echo("127.1.2.3", 3503), true},
		{"UDP 3503 to a real address", ipToLoopbackEcho, echo("10.0.0.1", 3503), false},
		{"another port to 127.0.0.1", ipToLoopbackEcho, echo("127.0.0.1", 53), false},
	} {
		if got := run(c.prog, c.pkt); got != c.want {
			t.Errorf("%s: accepted %v, want %v", c.name, got, c.want)
		}
	}
}
