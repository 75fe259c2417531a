package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsrd/lsrd/internal/checkout"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/zerotier"
)

// ztTestdata returns ../shared/testdata/zerotier beside the checkout, or
// skips the test saying why.
func ztTestdata(t *testing.T) string {
	return checkout.Shared(t, "zerotier", "private-planet/world.bin")
}

// privatePlanetSpec writes the spec of the shared private planet (inputs as
// its README lists them) into dir and returns its path.
func privatePlanetSpec(t *testing.T, td, dir string) string {
	spec := `id: 0x6c737264
timestamp: 1764000000000
previous-key: ` + filepath.Join(td, "private-planet", "previous.c25519") + `
current-key: ` + filepath.Join(td, "private-planet", "current.c25519") + `
roots:
  - identity: 3a46f1bf30:0:76e66fab33e28549a62ee2064d1843273c2c300ba45c3f20bef02dbad225723bb59a9bb4b13535730961aeecf5a163ace477cceb0727025b99ac14a5166a09a3
    endpoints: [192.0.2.10/9993, "2001:db8::10/9993"]
  - identity: de8950a8b2:0:1b3ada8251b91b6b6fa6535b8c7e2460918f4f729abdec97d3c7f3796868fb02f0de0b0ee554b2d59fc3524743eebfcf5315e790ed6d92db5bd10c28c09b40ef
    endpoints: [198.51.100.20/443]
`
	p := filepath.Join(dir, "planet.yaml")
	if err := os.WriteFile(p, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPlanetCreateReproducesMkworld(t *testing.T) {
	td := ztTestdata(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "world.bin")
	code, stdout, stderr := lsrctl("zerotier", "planet", "create", "--spec", privatePlanetSpec(t, td, dir), "-o", out)
	if code != 0 || !strings.Contains(stdout, "wrote "+out+" (355 bytes): planet 0x6c737264") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	got, _ := os.ReadFile(out)
	want, _ := os.ReadFile(filepath.Join(td, "private-planet", "world.bin"))
	if !bytes.Equal(got, want) {
		t.Errorf("lsrctl's world.bin (%d bytes) differs from mkworld's (%d bytes)", len(got), len(want))
	}
}

func TestPlanetCreateNewKeys(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "p.yaml")
	os.WriteFile(spec, []byte("id: 5\ntimestamp: 6\nroots:\n  - identity: 3a46f1bf30:0:"+strings.Repeat("ab", 64)+"\n    endpoints: [192.0.2.1/9993]\n"), 0o644)
	out := filepath.Join(dir, "world.bin")
	code, stdout, stderr := lsrctl("zerotier", "planet", "create", "-s", spec, "-o", out)
	if code != 0 || !strings.Contains(stdout, "generated a new signing key pair") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, stdout, stderr := lsrctl("zerotier", "planet", "inspect", out); code != 0 || !strings.Contains(stdout, "Signature:   valid") {
		t.Errorf("inspect: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, _, stderr := lsrctl("zerotier", "planet", "inspect", "--key", filepath.Join(dir, "previous.c25519"), out); code != 0 {
		t.Errorf("inspect --key: exit %d, stderr %q", code, stderr)
	}
}

func TestPlanetInspect(t *testing.T) {
	td := ztTestdata(t)
	code, stdout, stderr := lsrctl("zerotier", "planet", "inspect", filepath.Join(td, "earth-2019-world.bin"))
	if code != 0 || !strings.Contains(stdout, "World ID:    149604618 (0x8eac90a)") || !strings.Contains(stdout, "992fcf1db7  195.181.173.159/443 2a02:6ea0:c024::/443") {
		t.Errorf("earth: exit %d, stdout:\n%s\nstderr %q", code, stdout, stderr)
	}
	code, stdout, _ = lsrctl("-o", "json", "zerotier", "planet", "inspect", filepath.Join(td, "private-planet", "world.bin"))
	var v planetView
	if err := json.Unmarshal([]byte(stdout), &v); err != nil || code != 0 {
		t.Fatalf("exit %d, %v:\n%s", code, err, stdout)
	}
	if !v.SignatureValid || v.ID != 0x6c737264 || len(v.Roots) != 2 || v.Roots[0].Endpoints[1] != "2001:db8::10/9993" {
		t.Errorf("json view %+v", v)
	}
}

func TestPlanetInspectTampered(t *testing.T) {
	td := ztTestdata(t)
	b, _ := os.ReadFile(filepath.Join(td, "private-planet", "world.bin"))
	b[len(b)-1] ^= 1 // the last root's port
	bad := filepath.Join(t.TempDir(), "world.bin")
	os.WriteFile(bad, b, 0o644)
	code, stdout, stderr := lsrctl("zerotier", "planet", "inspect", bad)
	if code != 1 || !strings.Contains(stdout, "Signature:   INVALID") ||
		!strings.Contains(stderr, "signature does not verify: the world's contents do not match the digest it was signed over") {
		t.Errorf("exit %d, stdout:\n%s\nstderr %q", code, stdout, stderr)
	}
	// Verifying with another key than the one that signed fails too.
	other := filepath.Join(td, "earth-2019-world.bin")
	code, _, stderr = lsrctl("zerotier", "planet", "inspect", "--key", other, filepath.Join(td, "private-planet", "world.bin"))
	if code != 1 || !strings.Contains(stderr, "not signed by key b8b388a469221491") {
		t.Errorf("wrong key: exit %d, stderr %q", code, stderr)
	}
}

func TestPlanetErrors(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "p.yaml")
	os.WriteFile(spec, []byte("id: 5\ntimestamp: 6\nroots:\n  - identity: 3a46f1bf30:0:abcd\n    endpoints: [192.0.2.1/9993]\n"), 0o644)
	short := filepath.Join(dir, "short.bin")
	os.WriteFile(short, []byte{1, 2, 3}, 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"zerotier", "planet", "create", "-o", "x"}, 2, "--spec FILE and -o FILE are both required"},
		{[]string{"zerotier", "planet", "create", "-s", spec, "-o", filepath.Join(dir, "w.bin")}, 1, "field roots[0].identity: identity \"3a46f1bf30:0:abcd\": public key: want 128 hex digits"},
		{[]string{"zerotier", "planet", "inspect"}, 2, "accepts 1 arg"},
		{[]string{"zerotier", "planet", "inspect", short}, 1, "world: at byte 1: truncated: world ID needs 8 bytes, 2 left"},
		{[]string{"zerotier", "planet", "inspect", filepath.Join(dir, "absent")}, 1, "no such file"},
	} {
		code, _, stderr := lsrctl(c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("lsrctl %s: exit %d, stderr %q; want %d and %q", strings.Join(c.args, " "), code, stderr, c.code, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "w.bin")); err == nil {
		t.Error("a failed create left a file behind")
	}
}

func TestShowZeroTier(t *testing.T) {
	view := api.ZeroTierView{Enabled: true, API: "http://127.0.0.1:9993", Reachable: true,
		Node: &api.ZeroTierNode{Address: "a1b2c3d4e5", Version: "1.14.2", Online: true, PlanetWorldID: 0x6c737264, PlanetWorldTimestamp: 1764000000000, PlanetExpected: true},
		Networks: []api.ZeroTierNetworkView{{ID: "8056c2e21c123456", ConfiguredAs: "8056c2e21c123456", Status: "OK", Device: "ztmjfnbvsk",
			MTU: 2800, LDPInterface: "ztmjfnbvsk", MTUHeadroomOK: true,
			Findings: []zerotier.Finding{{Check: "multicast", Severity: "warning", Message: "224.0.0.2 (01:00:5e:00:00:02) is not among this node's multicast subscriptions"}}}}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/zerotier", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(api.Envelope[api.ZeroTierView]{Version: 1, Data: view})
	})
	sock := filepath.Join(t.TempDir(), "lsrd.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener = l
	srv.Start()
	defer srv.Close()

	code, stdout, stderr := lsrctl("--socket", sock, "show", "zerotier")
	if code != 0 || !strings.Contains(stdout, "8056c2e21c123456  8056c2e21c123456  OK      ztmjfnbvsk  2800  ok            NOT SUBSCRIBED  ztmjfnbvsk") ||
		!strings.Contains(stdout, "warning   8056c2e21c123456  multicast  224.0.0.2") {
		t.Errorf("exit %d, stdout:\n%s\nstderr %q", code, stdout, stderr)
	}
	code, stdout, _ = lsrctl("--socket", sock, "-o", "json", "show", "zerotier")
	var got api.ZeroTierView
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || code != 0 || got.Networks[0].Findings[0].Check != "multicast" || !got.Node.PlanetExpected {
		t.Errorf("json: exit %d, %v:\n%s", code, err, stdout)
	}
}
