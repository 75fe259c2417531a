package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsrd/lsrd/ldp/fec"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/ldp"
	"github.com/lsrd/lsrd/ldp/lib"
	"github.com/lsrd/lsrd/rib"
)

// fakeLSRD stands in for lsrd's control API on a Unix socket: fixed answers
// in lsrd's envelope, a 404 for unknown neighbours as lsrd gives.
func fakeLSRD(t *testing.T) string {
	t.Helper()
	a := netip.MustParseAddr
	p := netip.MustParsePrefix
	data := map[string]any{
		"/v1/ldp/neighbors": []ldp.NeighborInfo{{LSRID: a("2.2.2.2"), Transport: a("2.2.2.2"), State: "OPENSENT", Active: true,
			Remote: netip.MustParseAddrPort("2.2.2.2:646"), Adjacencies: []ldp.AdjacencyInfo{{Interface: "zt0"}}}},
		"/v1/ldp/bindings": []lib.Binding{
			{FEC: fec.Prefix(p("1.1.1.1/32")), LocalLabel: 3, HasLocal: true, Remote: []lib.RemoteBinding{{Peer: a("2.2.2.2"), Label: 17}}},
			{FEC: fec.Prefix(p("2.2.2.2/32")), LocalLabel: 16, HasLocal: true, Remote: []lib.RemoteBinding{{Peer: a("2.2.2.2"), Label: 3, InUse: true}}},
		},
		"/v1/lfib": api.TableView{
			LFIB: []api.LFIBRow{{LFIBEntry: fib.LFIBEntry{InLabel: 16, NextHops: []fib.NextHop{{Addr: a("10.1.0.2"), Ifname: "zt0"}}}, Installed: true}},
			FTN:  []api.FTNRow{{FTNEntry: fib.FTNEntry{Prefix: p("2.2.2.2/32"), NextHops: []fib.NextHop{{Addr: a("10.1.0.2"), Ifname: "zt0"}}}}},
		},
		"/v1/rib": []rib.Route{{Prefix: p("2.2.2.2/32"), Source: rib.SourceStatic, Distance: 1, NextHops: []rib.NextHop{{Addr: a("10.1.0.2"), Ifname: "zt0"}}}},
	}
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, status int, body map[string]any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(body)
	}
	for path, d := range data {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			reply(w, 200, map[string]any{"version": 1, "data": d})
		})
	}
	mux.HandleFunc("POST /v1/ldp/neighbors/{id}/clear", func(w http.ResponseWriter, r *http.Request) {
		if id := r.PathValue("id"); id != "2.2.2.2" {
			reply(w, 404, map[string]any{"version": 1, "error": fmt.Sprintf("neighbor %s: unknown", id)})
			return
		}
		reply(w, 200, map[string]any{"version": 1, "data": map[string]string{"cleared": "2.2.2.2"}})
	})
	mux.HandleFunc("POST /v1/reload", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 500, map[string]any{"version": 1, "error": "configuration: router-id missing"})
	})
	path := filepath.Join(t.TempDir(), "lsrd.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return path
}

// lsrctl runs the command line and returns its exit code and output.
func lsrctl(args ...string) (code int, stdout, stderr string) {
	var o, e strings.Builder
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestCommands(t *testing.T) {
	sock := fakeLSRD(t)
	for _, c := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"show", "ldp", "neighbors"}, 0, `
LSR ID   STATE     ROLE    TRANSPORT  REMOTE       UPTIME  HOLD  ADJ  AUTH  GR
2.2.2.2  OPENSENT  active  2.2.2.2    2.2.2.2:646  -       -     1    -     -
`, ""},
		{[]string{"show", "ldp", "bindings", "--label", "imp-null"}, 0, `
FEC         PEER     LOCAL LABEL  REMOTE LABEL  IN USE
1.1.1.1/32  2.2.2.2  imp-null     17            no
2.2.2.2/32  2.2.2.2  16           imp-null      yes
`, ""},
		{[]string{"show", "ldp", "bindings", "--fec", "2.2.2.2", "-o", "json"}, 0, `
[
  {
    "fec": "2.2.2.2/32",
    "local_label": 16,
    "has_local": true,
    "remote": [
      {
        "peer": "2.2.2.2",
        "label": 3,
        "in_use": true
      }
    ]
  }
]
`, ""},
		{[]string{"show", "lfib", "--label", "16"}, 0, `
IN LABEL  OUT LABELS  NEXT HOP  INTERFACE  INSTALLED
16        pop         10.1.0.2  zt0        yes
`, ""},
		{[]string{"show", "rib", "-o", "json"}, 0, `
[
  {
    "prefix": "2.2.2.2/32",
    "source": "static",
    "distance": 1,
    "next_hops": [
      {
        "addr": "10.1.0.2",
        "ifname": "zt0"
      }
    ]
  }
]
`, ""},
		{[]string{"clear", "ldp", "neighbor", "2.2.2.2"}, 0, "\ncleared the session with neighbor 2.2.2.2\n", ""},
		{[]string{"clear", "ldp", "neighbor", "9.9.9.9"}, 1, "", "lsrctl: neighbor 9.9.9.9: unknown\n"},
		{[]string{"show", "ldp", "bindings", "--fec", "9.9.9.0/24"}, 1, "", "lsrctl: no LDP binding matches --fec 9.9.9.0/24 (lsrctl show ldp bindings lists them)\n"},
		{[]string{"show", "ldp", "bindings", "--peer", "9.9.9.9"}, 1, "", "lsrctl: no LDP binding matches --peer 9.9.9.9 (lsrctl show ldp bindings lists them)\n"},
		{[]string{"show", "lfib", "--label", "99"}, 1, "", "lsrctl: no LFIB or FTN entry matches --label 99 (lsrctl show lfib lists them)\n"},
		{[]string{"show", "rib", "--fec", "9.9.9.9"}, 1, "", "lsrctl: no route matches --fec 9.9.9.9/32 (lsrctl show rib lists them)\n"},
		{[]string{"reload"}, 1, "", "lsrctl: lsrd failed on POST /v1/reload (500): configuration: router-id missing\n"},
		{[]string{"show", "fib", "status"}, 1, "", "lsrctl: lsrd answered GET /v1/fib/status with 404 Not Found: \"404 page not found\" (an lsrd without this endpoint?)\n"},
	} {
		code, stdout, stderr := lsrctl(append([]string{"--socket", sock}, c.args...)...)
		want := strings.TrimPrefix(c.stdout, "\n")
		if code != c.code || stdout != want || stderr != c.stderr {
			t.Errorf("lsrctl %s: exit %d, stdout:\n%s\nstderr: %q\nwant exit %d, stdout:\n%s\nstderr: %q",
				strings.Join(c.args, " "), code, stdout, stderr, c.code, want, c.stderr)
		}
	}
}

// The table and JSON views of the daemon's data agree: -o json is the API's
// data as lsrd sent it.
func TestJSONIsTheAPIData(t *testing.T) {
	sock := fakeLSRD(t)
	_, stdout, _ := lsrctl("--socket", sock, "-o", "json", "show", "lfib")
	var v api.TableView
	if err := json.Unmarshal([]byte(stdout), &v); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	if len(v.LFIB) != 1 || v.LFIB[0].InLabel != 16 || len(v.FTN) != 1 {
		t.Errorf("got %+v", v)
	}
}

func TestNotRunning(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "lsrd.sock")
	code, _, stderr := lsrctl("--socket", missing, "show", "rib")
	if want := "lsrctl: lsrd is not running (no control socket at " + missing + ")\n"; code != 1 || stderr != want {
		t.Errorf("exit %d, stderr %q; want 1, %q", code, stderr, want)
	}
	t.Setenv("LSRD_SOCKET", missing)
	if code, _, stderr := lsrctl("show", "ldp", "neighbors"); code != 1 || !strings.Contains(stderr, missing) {
		t.Errorf("LSRD_SOCKET: exit %d, stderr %q", code, stderr)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"show"},
		{"show", "ldp"},
		{"show", "bogus"},
		{"--bogus"},
		{"show", "rib", "--peer", "1.1.1.1"},
		{"show", "ldp", "bindings", "--label", "x"},
		{"show", "ldp", "bindings", "--fec", "nope"},
		{"show", "ldp", "neighbors", "--peer", "r2"},
		{"show", "ldp", "neighbors", "extra"},
		{"clear", "ldp", "neighbor"},
		{"clear", "ldp", "neighbor", "r2"},
		{"-o", "yaml", "show", "rib"},
	} {
		// No socket: a usage error must be found before lsrd is asked.
		code, _, stderr := lsrctl(append([]string{"--socket", "/nonexistent/lsrd.sock"}, args...)...)
		if code != 2 || !strings.Contains(stderr, "--help") {
			t.Errorf("lsrctl %s: exit %d, stderr %q; want 2 and a usage hint", strings.Join(args, " "), code, stderr)
		}
	}
	if code, stdout, _ := lsrctl("--socket", "/nonexistent/lsrd.sock", "version"); code != 0 || !strings.HasPrefix(stdout, "lsrctl dev") || !strings.Contains(stdout, "lsrd   (not reached: lsrd is not running") {
		t.Errorf("version: exit %d, %q", code, stdout)
	}
	if code, stdout, _ := lsrctl("completion", "bash"); code != 0 || !strings.Contains(stdout, "bash completion") {
		t.Errorf("completion bash: exit %d, %.80q", code, stdout)
	}
	if code, stdout, _ := lsrctl("--help"); code != 0 || !strings.Contains(stdout, "show") {
		t.Errorf("--help: exit %d, %q", code, stdout)
	}
}
