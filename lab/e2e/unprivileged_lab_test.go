//go:build lab

package e2e

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/lab/topo"
)

// lsrd as the systemd unit runs it: not root (uid 65534 here, a dynamic
// user there), with only CAP_NET_ADMIN, CAP_NET_BIND_SERVICE and
// CAP_NET_RAW, and no way to gain more. It still sizes the label table,
// enables MPLS input, forms its session on port 646, installs and removes
// its kernel routes, and answers and sends LSP pings.
func TestLSRDUnprivileged(t *testing.T) {
	lab := topo.New(t)
	r1, r2 := lab.Router("r1"), lab.Router("r2")
	if1, if2 := lab.Link(r1, r2, "10.1.0.1/24", "10.1.0.2/24")
	r1.AddLoopback("1.1.1.1/32")
	r2.AddLoopback("2.2.2.2/32")
	dir := topo.OpenDir(t)
	const caps = "+net_admin,+net_bind_service,+net_raw"
	l1 := r1.StartLSRDAs(fmt.Sprintf("router-id: 1.1.1.1\nldp:\n  interfaces:\n    - name: %s\n  graceful-restart:\n    state-file: %s/labels.json\nstatic-routes:\n  - prefix: 2.2.2.2/32\n    next-hop: 10.1.0.2\n", if1, dir),
		"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all,"+caps, "--ambient-caps=-all,"+caps, "--bounding-set=-all,"+caps, "--no-new-privs")
	l2 := r2.StartLSRD(fmt.Sprintf("router-id: 2.2.2.2\nldp:\n  interfaces:\n    - name: %s\nstatic-routes:\n  - prefix: 1.1.1.1/32\n    next-hop: 10.1.0.1\n", if2))
	topo.Eventually(t, 60*time.Second, "the unprivileged lsrd's session", func() error { return operational(l1, "2.2.2.2") })

	// It really runs so.
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", l1.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	const want = 1<<10 | 1<<12 | 1<<13 // NET_BIND_SERVICE, NET_ADMIN, NET_RAW
	var uid, capEff string
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) > 1 && f[0] == "Uid:":
			uid = f[1]
		case len(f) > 1 && f[0] == "CapEff:":
			capEff = f[1]
		}
	}
	if eff, _ := strconv.ParseUint(capEff, 16, 64); uid != "65534" || eff != want {
		t.Fatalf("lsrd runs as uid %s with capabilities %s, want 65534 and %#x", uid, capEff, want)
	}

	// What it needs the kernel for.
	topo.Eventually(t, 30*time.Second, "the unprivileged lsrd's label routes", func() error {
		out, err := r1.Try("ip", "-f", "mpls", "route", "show", "proto", "234")
		if err != nil || strings.TrimSpace(out) == "" {
			return fmt.Errorf("r1's label routes: %q %v", out, err)
		}
		return nil
	})
	if v := strings.TrimSpace(r1.Run("sysctl", "-n", "net.mpls.conf."+if1+".input")); v != "1" {
		t.Errorf("MPLS input on %s: %s", if1, v)
	}
	if v, _ := strconv.Atoi(strings.TrimSpace(r1.Run("sysctl", "-n", "net.mpls.platform_labels"))); v == 0 {
		t.Errorf("net.mpls.platform_labels not sized")
	}
	bin := lsrctlBinary(t)
	out := lsrctlIn(t, bin, r1, l1, "ping", "mpls", "2.2.2.2/32", "-c", "1").ok(t, "ping mpls from the unprivileged lsrd")
	t.Logf("r1# lsrctl ping mpls 2.2.2.2/32 -c 1\n%s", out)
	if run := lsrctlIn(t, bin, r2, l2, "ping", "mpls", "1.1.1.1/32", "-c", "1"); run.code != 0 {
		t.Errorf("the unprivileged lsrd does not answer LSP ping: %s%s", run.stdout, run.stderr)
	}
	if err := l1.Stop(); err != nil {
		t.Fatal(err)
	}
	if out := r1.Run("ip", "-f", "mpls", "route", "show", "proto", "234"); strings.TrimSpace(out) != "" {
		t.Errorf("the unprivileged lsrd left label routes at stop:\n%s", out)
	}
	if log, _ := readFile(l1.Log); strings.Contains(log, "permission denied") || strings.Contains(log, "operation not permitted") {
		t.Errorf("r1's log shows a permission refused:\n%s", log)
	}
}
