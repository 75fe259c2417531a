//go:build lab

package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
	"github.com/lsrd/lsrd/ldp"
)

// TCP-MD5 between lsrd and FRR's ldpd, configured as FRR's docs say
// ("neighbor 2.2.2.2 password ..."), in FRR r1 - lsrd r2 - FRR r3, where
// only the r1-r2 session has a key:
//
//   - with the same key on both sides the session comes up signed and
//     traffic from r1 to r3 is labelled through lsrd;
//   - FRR's key changed alone: the session, cleared, never forms again
//     (lsrd dials, FRR's kernel drops the SYNs), and lsrd says why once;
//   - lsrd's key changed to FRR's by reload: the session re-forms;
//   - lsrd's key changed to a wrong one by reload: the session ends and
//     never forms again.
//
// Throughout, the r2-r3 session (no key) stays up, never re-formed.
func TestLDPMD5WithFRR(t *testing.T) {
	c := newChain(t)
	c.r1.EnableMPLS(c.a1, "lo")
	c.r3.EnableMPLS(c.b3, "lo")
	f1 := c.r1.StartFRR(topo.FRRConfig{RouterID: "1.1.1.1",
		Static: []string{"2.2.2.2/32 10.1.0.2", "3.3.3.3/32 10.1.0.2", "10.2.0.0/24 10.1.0.2"},
		LDP:    &topo.FRRLDP{Interfaces: []string{c.a1}, Global: []string{"neighbor 2.2.2.2 password first-key"}}})
	const metricsAt = "127.0.0.1:9642"
	lsrdYAML := func(key string) string {
		return strings.Replace(lsrdConfig("2.2.2.2", []string{c.a2, c.b2}, "1.1.1.1/32 10.1.0.1", "3.3.3.3/32 10.2.0.3"),
			"ldp:\n", "ldp:\n  neighbors:\n    - lsr-id: 1.1.1.1\n      password: "+key+"\n", 1) +
			"metrics:\n  listen: " + metricsAt + "\n"
	}
	l2 := c.r2.StartLSRD(lsrdYAML("first-key"))
	f3 := c.r3.StartFRR(topo.FRRConfig{RouterID: "3.3.3.3",
		Static: []string{"1.1.1.1/32 10.2.0.2", "2.2.2.2/32 10.2.0.2", "10.1.0.0/24 10.2.0.2"},
		LDP:    &topo.FRRLDP{Interfaces: []string{c.b3}}})

	f1.WaitLDPOperational(t, 90*time.Second, "2.2.2.2")
	f3.WaitLDPOperational(t, 90*time.Second, "2.2.2.2")
	nbr := func(id string) ldp.NeighborInfo {
		t.Helper()
		var ns []ldp.NeighborInfo
		if err := l2.Get("/v1/ldp/neighbors", &ns); err != nil {
			t.Fatal(err)
		}
		for _, n := range ns {
			if n.LSRID.String() == id {
				return n
			}
		}
		return ldp.NeighborInfo{State: ldp.NonExistent.String()}
	}
	var first ldp.NeighborInfo
	topo.Eventually(t, 30*time.Second, "lsrd's sessions with r1 (signed) and r3 (unsigned) up", func() error {
		n1, n3 := nbr("1.1.1.1"), nbr("3.3.3.3")
		if n1.State != "OPERATIONAL" || !n1.MD5 || n3.State != "OPERATIONAL" || n3.MD5 {
			return fmt.Errorf("r1: %s md5=%v, r3: %s md5=%v", n1.State, n1.MD5, n3.State, n3.MD5)
		}
		// FRR sets the G flag in its link hellos: both sessions use
		// GTSM (RFC 6720), TTL 255 both ways.
		if !n1.GTSM || !n3.GTSM {
			return fmt.Errorf("sessions without GTSM: r1 %v, r3 %v", n1.GTSM, n3.GTSM)
		}
		first = n3
		return nil
	})
	// untouched checks, at every step, that the r2-r3 session is the one
	// that came up first.
	untouched := func() {
		t.Helper()
		if n := nbr("3.3.3.3"); n.State != "OPERATIONAL" || !n.Since.Equal(first.Since) {
			t.Fatalf("the r2-r3 session (no key) was touched: %s since %v, first up since %v", n.State, n.Since, first.Since)
		}
	}

	// Traffic r1 -> r3 is labelled with lsrd's label on the signed link.
	var in uint32
	topo.Eventually(t, 60*time.Second, "r1 (FRR) pushes lsrd's label for 3.3.3.3", func() error {
		var err error
		if in, err = localLabel(l2, "3.3.3.3/32"); err != nil {
			return err
		}
		got, err := pushedLabel(c.r1, "3.3.3.3/32")
		if err == nil && got != int(in) {
			err = fmt.Errorf("r1 pushes %d, lsrd's label is %d", got, in)
		}
		return err
	})
	onA := c.r2.StartCapture(c.a2, "mpls and icmp[icmptype] == icmp-echo", 2)
	if out, err := c.r1.Try("ping", "-c", "2", "-i", "0.3", "-W", "2", "-I", "1.1.1.1", "3.3.3.3"); err != nil {
		t.Fatalf("ping 3.3.3.3 from 1.1.1.1 over the signed session: %v\n%s", err, out)
	}
	pkts, err := onA.Wait(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		if !strings.Contains(p, fmt.Sprintf("MPLS (label %d,", in)) {
			t.Errorf("on r1-r2: %q, want label %d", p, in)
		}
	}
	t.Logf("signed session up, echoes labelled on r1-r2:\n%s", strings.Join(pkts, "\n"))
	untouched()

	// neverForms watches the r1-r2 session for d: it must not reach
	// OPERATIONAL on either side.
	neverForms := func(what string, d time.Duration) {
		t.Helper()
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(time.Second) {
			if n := nbr("1.1.1.1"); n.State == "OPERATIONAL" {
				t.Fatalf("%s: the r1-r2 session is OPERATIONAL on lsrd (md5=%v)", what, n.MD5)
			}
			fn, err := f1.LDPNeighbors()
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range fn {
				if n.NeighborID == "2.2.2.2" && n.State == "OPERATIONAL" {
					t.Fatalf("%s: FRR's session with lsrd is OPERATIONAL", what)
				}
			}
		}
		untouched()
	}

	// FRR's key changes alone. The cleared session cannot form again.
	if out, err := f1.Vtysh("", "-c", "configure terminal", "-c", "mpls ldp", "-c", "neighbor 2.2.2.2 password second-key"); err != nil {
		t.Fatalf("changing FRR's key: %v\n%s", err, out)
	}
	if err := l2.Post("/v1/ldp/neighbors/1.1.1.1/clear"); err != nil {
		t.Fatal(err)
	}
	neverForms("FRR's key differs", 40*time.Second)
	sec := securityEvents(t, c.r2, metricsAt)
	if sec[string(ldp.SecMD5NoAnswer)] == 0 {
		t.Errorf("lsrd counted no %s while its signed dials went unanswered: %v", ldp.SecMD5NoAnswer, sec)
	}
	if n := warnings(t, l2, "ldp session not established"); n != 1 {
		t.Errorf("lsrd logged the key problem %d times, want once per neighbour", n)
	}

	// lsrd's key follows by reload: the session re-forms, signed.
	if err := l2.Reload(lsrdYAML("second-key")); err != nil {
		t.Fatal(err)
	}
	topo.Eventually(t, 60*time.Second, "the r1-r2 session re-forms with the new key", func() error {
		if n := nbr("1.1.1.1"); n.State != "OPERATIONAL" || !n.MD5 {
			return fmt.Errorf("r1: %s md5=%v", n.State, n.MD5)
		}
		return nil
	})
	f1.WaitLDPOperational(t, 30*time.Second, "2.2.2.2")
	untouched()

	// lsrd's key goes wrong by reload: the session ends and stays down.
	if err := l2.Reload(lsrdYAML("wrong-key")); err != nil {
		t.Fatal(err)
	}
	neverForms("lsrd's key differs", 40*time.Second)
	t.Logf("security events: %v", securityEvents(t, c.r2, metricsAt))
}

// securityEvents scrapes lsrd_ldp_security_events_total, by event, from
// the lsrd serving metrics at addr in r.
func securityEvents(t *testing.T, r *topo.Router, addr string) map[string]uint64 {
	t.Helper()
	m, err := scrape(r, addr)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for series, v := range m {
		if ev, ok := strings.CutPrefix(series, `lsrd_ldp_security_events_total{event="`); ok {
			out[strings.TrimSuffix(ev, `"}`)] = uint64(v)
		}
	}
	return out
}

// warnings counts the lines of lsrd's log that contain s.
func warnings(t *testing.T, l *topo.LSRD, s string) int {
	t.Helper()
	b, err := os.ReadFile(l.Log)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), s)
}
