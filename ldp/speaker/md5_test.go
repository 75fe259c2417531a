package speaker_test

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/internal/netnstest"
	"github.com/lsrd/lsrd/ldp"
)

// TCP-MD5 with the kernel's own signatures: two speakers whose keys differ
// never form a session (the passive side's kernel drops the signed SYNs,
// the active side counts the failed dial), and a reload that gives them
// the same key forms it, signed on both sides.
func TestMD5(t *testing.T) {
	checkNoSpeakerGoroutines(t)
	p := newPair(t, linkHellos, short)
	keys := map[*node]string{p.a: "alpha-key", p.b: "bravo-key"}
	for _, n := range []*node{p.a, p.b} {
		n.cfg.Auth = []ldp.AuthKey{{Peers: netip.PrefixFrom(p.other(n).id, 32), Key: keys[n]}}
		var err error
		if n.eng, err = ldp.New(n.cfg, n.lib); err != nil {
			t.Fatal(err)
		}
		n.newSpeaker(dialer(n.ns))
	}
	// B has the higher transport address: it dials, A accepts (RFC 5036
	// section 2.5.2).
	before := md5Drops(t, p.a)
	p.a.start(t)
	p.b.start(t)
	eventually(t, 40*time.Second, "B counts its unanswered signed dial", func() error {
		if err := notOperational(p.a, p.b); err != nil {
			t.Fatal(err)
		}
		if c := p.b.security(t)[ldp.SecMD5NoAnswer]; c == 0 {
			return fmt.Errorf("no %s yet", ldp.SecMD5NoAnswer)
		}
		return nil
	})
	if got := md5Drops(t, p.a); got <= before {
		t.Errorf("A's kernel dropped no segment for TCP-MD5 (TcpExt MD5 counters %d before, %d after)", before, got)
	}

	for _, n := range []*node{p.a, p.b} {
		c := n.cfg
		c.Auth = []ldp.AuthKey{{Peers: netip.PrefixFrom(p.other(n).id, 32), Key: "shared-key"}}
		n.post(t, ldp.ConfigChanged{Config: c})
	}
	eventually(t, 40*time.Second, "session OPERATIONAL with the shared key", operational(p.a, p.b))
	for _, n := range []*node{p.a, p.b} {
		ni, _, err := n.neighbor(p.other(n).id)
		if err != nil || !ni.MD5 {
			t.Errorf("%s: session with %s not shown as TCP-MD5 signed: %+v, %v", n.name, p.other(n).name, ni, err)
		}
	}
}

func (p *pair) other(n *node) *node {
	if n == p.a {
		return p.b
	}
	return p.a
}

func notOperational(a, b *node) error {
	if operational(a, b)() == nil {
		return fmt.Errorf("session %s-%s OPERATIONAL although their TCP-MD5 keys differ", a.name, b.name)
	}
	return nil
}

func (n *node) security(t *testing.T) map[ldp.Security]uint64 {
	t.Helper()
	var out map[ldp.Security]uint64
	if err := n.call(func() { out = n.eng.Counters().Security }); err != nil {
		t.Fatal(err)
	}
	return out
}

// md5Drops sums the kernel's TCP-MD5 drop counters (TcpExt TCPMD5NotFound,
// TCPMD5Unexpected, TCPMD5Failure) in n's namespace.
func md5Drops(t *testing.T, n *node) uint64 {
	t.Helper()
	var sum uint64
	err := netnstest.Do(n.ns, func() error {
		f, err := os.Open("/proc/thread-self/net/netstat")
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		var names []string
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) == 0 || fields[0] != "TcpExt:" {
				continue
			}
			if names == nil {
				names = fields
				continue
			}
			for i, name := range names {
				if strings.HasPrefix(name, "TCPMD5") && i < len(fields) {
					v, _ := strconv.ParseUint(fields[i], 10, 64)
					sum += v
				}
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}
