//go:build lab

package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lsrd/lsrd/internal/checkout"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/ctl"
	"github.com/lsrd/lsrd/lab/topo"
	"github.com/lsrd/lsrd/ldp"
	"github.com/lsrd/lsrd/ldp/lib"
)

// lsrctlBinary finds bin/lsrctl at the top of the checkout (`lab exec` builds
// ./cmd/... before the guest boots), as topo.LSRDBinary finds lsrd.
func lsrctlBinary(t *testing.T) string {
	t.Helper()
	bin, err := checkout.Binary("lsrctl")
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// ctlRun is one lsrctl invocation's result.
type ctlRun struct {
	code           int
	stdout, stderr string
}

// lsrctlIn runs lsrctl in router r's namespace against lsrd l and returns its
// exit code and output; only a failure to start it fails the test.
func lsrctlIn(t *testing.T, bin string, r *topo.Router, l *topo.LSRD, args ...string) ctlRun {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", r.Name, bin, "--socket", l.Socket}, args...)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("%s: lsrctl %s: %v", r.Name, strings.Join(args, " "), err)
	}
	return ctlRun{code: cmd.ProcessState.ExitCode(), stdout: o.String(), stderr: e.String()}
}

// ok fails the test unless the run succeeded, and returns its stdout.
func (c ctlRun) ok(t *testing.T, what string) string {
	t.Helper()
	if c.code != 0 {
		t.Fatalf("lsrctl %s: exit %d: %s%s", what, c.code, c.stderr, c.stdout)
	}
	return c.stdout
}

// tableRow finds the table line whose whitespace-separated cells start with
// prefix, or returns nil.
func tableRow(table string, prefix ...string) []string {
	for _, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if len(f) >= len(prefix) && reflect.DeepEqual(f[:len(prefix)], prefix) {
			return f
		}
	}
	return nil
}

// lsrctl against two real lsrd routers on a ZeroTier-like segment: its
// tables and JSON show the daemons' state, clear resets a real session, and
// its errors are the ones an operator meets.
func TestLsrctl(t *testing.T) {
	bin := lsrctlBinary(t)
	p := newPair(t, 0x8056c2e21c123456, "10.1.0")
	r1, r2, if1, if2 := p.r1, p.r2, p.if1, p.if2
	l1 := r1.StartLSRD(lsrdConfig("1.1.1.1", []string{if1}, "2.2.2.2/32 10.1.0.2"))
	l2 := r2.StartLSRD(lsrdConfig("2.2.2.2", []string{if2}, "1.1.1.1/32 10.1.0.1"))

	topo.Eventually(t, 60*time.Second, "r1's session with r2", func() error { return operational(l1, "2.2.2.2") })
	// r1 holds r2's label for 2.2.2.2/32 (imp-null: r2 is its egress) and
	// uses it: the FTN and LFIB are built.
	var r1Local string
	topo.Eventually(t, 60*time.Second, "r1 uses r2's label for 2.2.2.2/32", func() error {
		bs, err := lsrdBindings(l1)
		if err != nil {
			return err
		}
		b := bs["2.2.2.2/32"]
		if !b.HasLocal || len(b.Remote) != 1 || !b.Remote[0].InUse || b.Remote[0].Label != 3 {
			return fmt.Errorf("r1's binding for 2.2.2.2/32: %+v", b)
		}
		r1Local = ctl.FormatLabel(b.LocalLabel)
		return nil
	})

	t.Run("neighbors", func(t *testing.T) {
		out := lsrctlIn(t, bin, r1, l1, "show", "ldp", "neighbors").ok(t, "show ldp neighbors")
		row := tableRow(out, "2.2.2.2", "OPERATIONAL")
		if row == nil || !regexp.MustCompile(`^\d\d:\d\d:\d\d$`).MatchString(row[5]) {
			t.Errorf("show ldp neighbors: no OPERATIONAL row for 2.2.2.2 with an uptime:\n%s", out)
		}
		t.Logf("r1# lsrctl show ldp neighbors\n%s", out)

		var got []ldp.NeighborInfo
		js := lsrctlIn(t, bin, r1, l1, "-o", "json", "show", "ldp", "neighbors").ok(t, "-o json show ldp neighbors")
		if err := json.Unmarshal([]byte(js), &got); err != nil {
			t.Fatalf("-o json show ldp neighbors: %v:\n%s", err, js)
		}
		want, err := neighbors(l1)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) || len(got) != 1 || got[0].LSRID.String() != "2.2.2.2" || got[0].State != want["2.2.2.2"].State ||
			!got[0].Since.Equal(want["2.2.2.2"].Since) {
			t.Errorf("-o json show ldp neighbors: %+v; the API says %+v", got, want)
		}

		out = lsrctlIn(t, bin, r1, l1, "show", "ldp", "discovery").ok(t, "show ldp discovery")
		if tableRow(out, "2.2.2.2", "link", if1, "10.1.0.2") == nil {
			t.Errorf("show ldp discovery: no link adjacency with 2.2.2.2 on %s from 10.1.0.2:\n%s", if1, out)
		}
		t.Logf("r1# lsrctl show ldp discovery\n%s", out)

		if run := lsrctlIn(t, bin, r1, l1, "show", "ldp", "neighbors", "--peer", "9.9.9.9"); run.code != 1 || !strings.Contains(run.stderr, "no LDP neighbour 9.9.9.9") || tableRow(run.stdout, "2.2.2.2") != nil {
			t.Errorf("--peer 9.9.9.9 (unknown): exit %d, stdout %q, stderr %q; want 1 and the reason", run.code, run.stdout, run.stderr)
		}
	})

	t.Run("bindings", func(t *testing.T) {
		out := lsrctlIn(t, bin, r1, l1, "show", "ldp", "bindings").ok(t, "show ldp bindings")
		if row := tableRow(out, "2.2.2.2/32", "2.2.2.2", r1Local, "imp-null", "yes"); row == nil {
			t.Errorf("show ldp bindings: no row 2.2.2.2/32 2.2.2.2 %s imp-null yes:\n%s", r1Local, out)
		}
		// r1 is the egress of its loopback: it advertises imp-null, and r2
		// gave it a label it does not use.
		if row := tableRow(out, "1.1.1.1/32", "2.2.2.2", "imp-null"); row == nil || row[4] != "no" {
			t.Errorf("show ldp bindings: no row 1.1.1.1/32 2.2.2.2 imp-null ... no:\n%s", out)
		}
		t.Logf("r1# lsrctl show ldp bindings\n%s", out)

		out = lsrctlIn(t, bin, r1, l1, "show", "ldp", "bindings", "--fec", "2.2.2.2").ok(t, "--fec 2.2.2.2")
		if strings.Contains(out, "1.1.1.1/32") || tableRow(out, "2.2.2.2/32") == nil {
			t.Errorf("show ldp bindings --fec 2.2.2.2:\n%s", out)
		}
		if run := lsrctlIn(t, bin, r1, l1, "show", "ldp", "bindings", "--fec", "9.9.9.0/24"); run.code != 1 || !strings.Contains(run.stderr, "no LDP binding matches --fec 9.9.9.0/24") {
			t.Errorf("show ldp bindings --fec 9.9.9.0/24 (no such FEC): exit %d, stderr %q; want 1 and the reason", run.code, run.stderr)
		}
		out = lsrctlIn(t, bin, r1, l1, "show", "ldp", "bindings", "--label", r1Local).ok(t, "--label "+r1Local)
		// Every row has the label, local or remote (r2 may have chosen the
		// same number for another FEC).
		if tableRow(out, "2.2.2.2/32") == nil {
			t.Errorf("show ldp bindings --label %s: no row for 2.2.2.2/32:\n%s", r1Local, out)
		}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			if f := strings.Fields(line); len(f) != 5 || (f[2] != r1Local && f[3] != r1Local) {
				t.Errorf("show ldp bindings --label %s: row without the label: %q", r1Local, line)
			}
		}

		topo.Eventually(t, 15*time.Second, "-o json show ldp bindings is the API's data", func() error {
			var got, want []lib.Binding
			js := lsrctlIn(t, bin, r1, l1, "-o", "json", "show", "ldp", "bindings").ok(t, "-o json show ldp bindings")
			if err := json.Unmarshal([]byte(js), &got); err != nil {
				return fmt.Errorf("%v:\n%s", err, js)
			}
			if err := l1.Get("/v1/ldp/bindings", &want); err != nil {
				return err
			}
			if !reflect.DeepEqual(got, want) {
				return fmt.Errorf("lsrctl: %+v\nAPI: %+v", got, want)
			}
			return nil
		})
	})

	t.Run("lfib", func(t *testing.T) {
		out := lsrctlIn(t, bin, r1, l1, "show", "lfib").ok(t, "show lfib")
		if tableRow(out, r1Local, "pop", "10.1.0.2", if1) == nil {
			t.Errorf("show lfib: no row %s pop 10.1.0.2 %s:\n%s", r1Local, if1, out)
		}
		if tableRow(out, "2.2.2.2/32", "-", "10.1.0.2", if1) == nil {
			t.Errorf("show lfib: no FTN row 2.2.2.2/32 - 10.1.0.2 %s:\n%s", if1, out)
		}
		t.Logf("r1# lsrctl show lfib\n%s", out)

		out = lsrctlIn(t, bin, r1, l1, "show", "lfib", "--label", r1Local).ok(t, "show lfib --label")
		if tableRow(out, r1Local) == nil || strings.Contains(out, "PREFIX") {
			t.Errorf("show lfib --label %s:\n%s", r1Local, out)
		}

		topo.Eventually(t, 15*time.Second, "-o json show lfib is the API's data", func() error {
			var got, want api.TableView
			js := lsrctlIn(t, bin, r1, l1, "-o", "json", "show", "lfib").ok(t, "-o json show lfib")
			if err := json.Unmarshal([]byte(js), &got); err != nil {
				return fmt.Errorf("%v:\n%s", err, js)
			}
			if err := l1.Get("/v1/lfib", &want); err != nil {
				return err
			}
			if !reflect.DeepEqual(got, want) {
				return fmt.Errorf("lsrctl: %+v\nAPI: %+v", got, want)
			}
			return nil
		})
	})

	t.Run("rib", func(t *testing.T) {
		out := lsrctlIn(t, bin, r1, l1, "show", "rib").ok(t, "show rib")
		if tableRow(out, "2.2.2.2/32", "static", "1", "10.1.0.2", if1) == nil &&
			tableRow(out, "2.2.2.2/32", "static") == nil {
			t.Errorf("show rib: no static route to 2.2.2.2/32:\n%s", out)
		}
		if tableRow(out, "1.1.1.1/32", "connected") == nil {
			t.Errorf("show rib: no connected route to 1.1.1.1/32:\n%s", out)
		}
		t.Logf("r1# lsrctl show rib\n%s", out)

		js := lsrctlIn(t, bin, r1, l1, "-o", "json", "show", "rib", "--fec", "2.2.2.2/32").ok(t, "-o json show rib --fec")
		got, err := ctl.DecodeRoutes(json.RawMessage(js))
		if err != nil {
			t.Fatalf("-o json show rib: %v:\n%s", err, js)
		}
		var raw json.RawMessage
		if err := l1.Get("/v1/rib", &raw); err != nil {
			t.Fatal(err)
		}
		all, err := ctl.DecodeRoutes(raw)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, r := range all {
			if r.Prefix.String() == "2.2.2.2/32" {
				want = append(want, fmt.Sprint(r))
			}
		}
		var gotS []string
		for _, r := range got {
			gotS = append(gotS, fmt.Sprint(r))
		}
		if len(want) == 0 || !reflect.DeepEqual(gotS, want) {
			t.Errorf("-o json show rib --fec 2.2.2.2/32: %v; the API's routes to it: %v", gotS, want)
		}
	})

	t.Run("others", func(t *testing.T) {
		out := lsrctlIn(t, bin, r1, l1, "show", "ldp", "interfaces").ok(t, "show ldp interfaces")
		// INTERFACE STATE INDEX MTU LDP IGP-SYNC MPLS-INPUT ADDRESSES: the
		// one neighbour on the link is OPERATIONAL and sent End-of-LIB.
		if row := tableRow(out, if1, "up"); row == nil || row[4] != "yes" || row[5] != "achieved" || row[6] != "yes" {
			t.Errorf("show ldp interfaces: %s is not LDP yes, IGP sync achieved, MPLS input yes:\n%s", if1, out)
		}
		out = lsrctlIn(t, bin, r1, l1, "show", "fib", "status").ok(t, "show fib status")
		if !strings.Contains(out, "label routes:") {
			t.Errorf("show fib status:\n%s", out)
		}
		lsrctlIn(t, bin, r1, l1, "show", "ldp", "stats").ok(t, "show ldp stats")
		if out := lsrctlIn(t, bin, r1, l1, "reload").ok(t, "reload"); !strings.Contains(out, "reloaded") {
			t.Errorf("reload: %q", out)
		}
		out = lsrctlIn(t, bin, r1, l1, "show", "running-config").ok(t, "show running-config")
		if !strings.Contains(out, "router-id: 1.1.1.1") || !strings.Contains(out, "hello-interval: ") || !strings.Contains(out, "- name: "+if1) {
			t.Errorf("show running-config:\n%s", out)
		}
		out = lsrctlIn(t, bin, r1, l1, "show", "ldp", "neighbors", "--detail").ok(t, "show ldp neighbors --detail")
		if !strings.Contains(out, "Peer LDP identifier: 2.2.2.2:0") || !strings.Contains(out, "protocol version 1, max PDU 4096") ||
			!strings.Contains(out, "Adjacency: link "+if1+" from 10.1.0.2") {
			t.Errorf("show ldp neighbors --detail:\n%s", out)
		}
		t.Logf("r1# lsrctl show ldp neighbors --detail\n%s", out)
	})

	t.Run("clear", func(t *testing.T) {
		topo.Eventually(t, 60*time.Second, "r1's session with r2", func() error { return operational(l1, "2.2.2.2") })
		before, err := neighbors(l1)
		if err != nil {
			t.Fatal(err)
		}
		out := lsrctlIn(t, bin, r1, l1, "clear", "ldp", "neighbor", "2.2.2.2").ok(t, "clear ldp neighbor 2.2.2.2")
		if !strings.Contains(out, "2.2.2.2") {
			t.Errorf("clear ldp neighbor 2.2.2.2: %q", out)
		}
		topo.Eventually(t, 60*time.Second, "a new session with r2 after clear", func() error {
			ns, err := neighbors(l1)
			if err != nil {
				return err
			}
			n := ns["2.2.2.2"]
			if n.State != "OPERATIONAL" || !n.Since.After(before["2.2.2.2"].Since) {
				return fmt.Errorf("neighbour 2.2.2.2: %s since %v (before the clear: since %v)", n.State, n.Since, before["2.2.2.2"].Since)
			}
			return nil
		})

		res := lsrctlIn(t, bin, r1, l1, "clear", "ldp", "neighbor", "9.9.9.9")
		if res.code != 1 || !strings.Contains(res.stderr, "neighbor 9.9.9.9: unknown") {
			t.Errorf("clear ldp neighbor 9.9.9.9: exit %d, stderr %q; want 1 and lsrd's 404 message", res.code, res.stderr)
		}
		res = lsrctlIn(t, bin, r1, l1, "clear", "ldp", "neighbor", "r2")
		if res.code != 2 {
			t.Errorf("clear ldp neighbor r2: exit %d, stderr %q; want 2 (usage)", res.code, res.stderr)
		}
	})

	t.Run("permission", func(t *testing.T) {
		// The socket is root's; nobody gets the hint to run as root. (The
		// socket is a file: lsrctl reaches it from any namespace.)
		cmd := exec.Command(bin, "--socket", l1.Socket, "show", "ldp", "neighbors")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		var e bytes.Buffer
		cmd.Stderr = &e
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Skipf("cannot run lsrctl as nobody: %v", err)
		}
		if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(e.String(), "permission denied on "+l1.Socket+": run as root") {
			t.Errorf("lsrctl as nobody: exit %d, stderr %q", code, e.String())
		}
	})

	t.Run("not running", func(t *testing.T) {
		if err := l2.Stop(); err != nil {
			t.Fatal(err)
		}
		res := lsrctlIn(t, bin, r2, l2, "show", "ldp", "neighbors")
		want := "lsrd is not running (no control socket at " + l2.Socket + ")"
		if res.code != 1 || !strings.Contains(res.stderr, want) {
			t.Errorf("lsrctl with lsrd stopped: exit %d, stderr %q; want 1 and %q", res.code, res.stderr, want)
		}
		// A socket file left by a crashed lsrd: nothing listens.
		l1.Kill()
		res = lsrctlIn(t, bin, r1, l1, "show", "rib")
		if res.code != 1 || !strings.Contains(res.stderr, "not running") {
			t.Errorf("lsrctl with lsrd killed: exit %d, stderr %q", res.code, res.stderr)
		}
	})
}
