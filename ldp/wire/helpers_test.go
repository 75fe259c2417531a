package wire

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"
)

// hx parses a hand-written hex vector; whitespace is ignored and "#"
// starts a comment running to the end of the line.
func hx(t testing.TB, s string) []byte {
	t.Helper()
	var sb strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		sb.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(sb.String())
	if err != nil {
		t.Fatalf("bad test vector: %v", err)
	}
	return b
}

func ip(s string) netip.Addr       { return netip.MustParseAddr(s) }
func pfx(s string) netip.Prefix    { return netip.MustParsePrefix(s) }
func id(s string, ls uint16) LDPID { return LDPID{LSRID: ip(s), LabelSpace: ls} }
