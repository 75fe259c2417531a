package zerotier

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSpecRejects(t *testing.T) {
	five := "roots:\n"
	for i := 1; i <= 5; i++ {
		five += fmt.Sprintf("  - identity: %02x46f1bf30:0:%s\n    endpoints: [192.0.2.%d/9993]\n", i, strings.Repeat("ab", 64), i)
	}
	var many []string
	for i := 0; i < 33; i++ {
		many = append(many, fmt.Sprintf("192.0.2.%d/9993", i+1))
	}
	head := "id: 1\ntimestamp: 2\n"
	cases := []struct{ name, yaml, want string }{
		{"typo", "id: 1\ntimestmp: 2\n", "line 2: field timestmp: unknown key; did you mean timestamp?"},
		{"empty", "", "empty planet spec"},
		{"no id", "timestamp: 2\nroots: []\n", "field id: 0"},
		{"no timestamp", "id: 1\n", "field timestamp: 0"},
		{"bad type", "type: star\n" + head, "field type: star"},
		{"no roots", head, "field roots: none"},
		{"five roots", head + five, "field roots: 5 roots: ZeroTier allows at most 4"},
		{"33 endpoints", head + "roots:\n  - identity: " + root1 + "\n    endpoints: [" + strings.Join(many, ", ") + "]\n", "field roots[0].endpoints: 33 endpoints"},
		{"short address", head + "roots:\n  - identity: 3a46f1bf:0:" + strings.Repeat("ab", 64) + "\n    endpoints: [192.0.2.1/1]\n", `address "3a46f1bf": want 10 hex digits`},
		{"short key", head + "roots:\n  - identity: 3a46f1bf30:0:abcd\n    endpoints: [192.0.2.1/1]\n", "public key: want 128 hex digits (64 bytes), have 4 characters"},
		{"not hex key", head + "roots:\n  - identity: 3a46f1bf30:0:" + strings.Repeat("zz", 64) + "\n    endpoints: [192.0.2.1/1]\n", "public key: not hexadecimal"},
		{"identity type", head + "roots:\n  - identity: 3a46f1bf30:1:" + strings.Repeat("ab", 64) + "\n    endpoints: [192.0.2.1/1]\n", `type "1": only type 0`},
		{"two fields", head + "roots:\n  - identity: 3a46f1bf30:0\n    endpoints: [192.0.2.1/1]\n", "have 2 fields"},
		{"reserved address", head + "roots:\n  - identity: ff46f1bf30:0:" + strings.Repeat("ab", 64) + "\n    endpoints: [192.0.2.1/1]\n", "is reserved"},
		{"bad private", head + "roots:\n  - identity: " + root1 + ":abcd\n    endpoints: [192.0.2.1/1]\n", "private key: want 128 hex digits"},
		{"duplicate root", head + "roots:\n  - identity: " + root1 + "\n    endpoints: [192.0.2.1/1]\n  - identity: " + root1 + "\n    endpoints: [192.0.2.2/1]\n", "same address as roots[0]"},
		{"no endpoints", head + "roots:\n  - identity: " + root1 + "\n", "field roots[0].endpoints: none"},
		{"bad endpoint", head + "roots:\n  - identity: " + root1 + "\n    endpoints: [192.0.2/9993]\n", `field roots[0].endpoints[0]: endpoint "192.0.2/9993": "192.0.2" is not an IP address`},
		{"bad port", head + "roots:\n  - identity: " + root1 + "\n    endpoints: [192.0.2.1/99999]\n", `port "99999": want 1-65535`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := ParseSpec("p.yaml", []byte(c.yaml))
			if err == nil {
				_, err = s.World()
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestSpecEndpointForms(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1/9993":    "192.0.2.1:9993",
		"192.0.2.1:9993":    "192.0.2.1:9993",
		"2001:db8::1/443":   "[2001:db8::1]:443",
		"[2001:db8::1]:443": "[2001:db8::1]:443",
	} {
		got, err := ParseEndpoint(in)
		if err != nil || got.String() != want {
			t.Errorf("ParseEndpoint(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	prev, cur := filepath.Join(dir, "previous.c25519"), filepath.Join(dir, "current.c25519")
	p, c, created, err := LoadOrCreateKeys(prev, cur)
	if err != nil || !created || p.Public != c.Public {
		t.Fatalf("first call: created %v, same key %v, err %v", created, p != nil && c != nil && p.Public == c.Public, err)
	}
	for _, f := range []string{prev, cur} {
		st, err := os.Stat(f)
		if err != nil || st.Mode().Perm() != 0o600 || st.Size() != KeyFileSize {
			t.Errorf("%s: %v %v", f, st, err)
		}
	}
	p2, _, created, err := LoadOrCreateKeys(prev, cur)
	if err != nil || created || p2.Public != p.Public {
		t.Errorf("second call: created %v, err %v, same key %v", created, err, p2 != nil && p2.Public == p.Public)
	}
	if err := WriteKeyFile(prev, p); err == nil {
		t.Error("WriteKeyFile overwrote an existing key")
	}

	os.Remove(cur)
	if _, _, _, err := LoadOrCreateKeys(prev, cur); err == nil || !strings.Contains(err.Error(), "is missing but") {
		t.Errorf("one key absent: %v", err)
	}
	short := filepath.Join(dir, "short")
	os.WriteFile(short, make([]byte, 100), 0o600)
	if _, err := ReadKeyFile(short); err == nil || !strings.Contains(err.Error(), "100 bytes, want 128") {
		t.Errorf("short key file: %v", err)
	}
	bad := p.Marshal()
	bad[70] ^= 1 // a private key byte: the public half no longer matches
	if _, err := UnmarshalKeyPair("bad", bad); err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Errorf("mismatched key file: %v", err)
	}
}

func TestBuildGeneratesKeys(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "planet.yaml")
	os.WriteFile(spec, []byte("id: 7\ntimestamp: 9\nroots:\n  - identity: "+root1+"\n    endpoints: [192.0.2.1/9993]\n"), 0o644)
	res, err := BuildFromSpecFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	if !res.KeysCreated || res.PreviousKey != filepath.Join(dir, "previous.c25519") {
		t.Errorf("created %v at %s", res.KeysCreated, res.PreviousKey)
	}
	w, err := Unmarshal(res.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Verify(w.UpdateKey); err != nil {
		t.Error(err)
	}
	again, err := BuildFromSpecFile(spec)
	if err != nil || again.KeysCreated || !bytes.Equal(again.Bytes, res.Bytes) {
		t.Errorf("second build: created %v, same bytes %v, err %v", again.KeysCreated, again != nil && bytes.Equal(again.Bytes, res.Bytes), err)
	}
}

// The documented flow form takes IPv6 endpoints unquoted, as operators
// write them, and quoted ones as before.
func TestSpecFlowEndpoints(t *testing.T) {
	src := "id: 1\ntimestamp: 1\nroots:\n  - identity: x\n    endpoints: [::1/9993, 192.0.2.1/9993, \"2001:db8::1/443\"] # three\n"
	s, err := ParseSpec("spec.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"::1/9993", "192.0.2.1/9993", "2001:db8::1/443"}
	if len(s.Roots) != 1 || !slices.Equal(s.Roots[0].Endpoints, want) {
		t.Fatalf("roots %+v, want endpoints %v", s.Roots, want)
	}
	if _, err := ParseSpec("spec.yaml", []byte("id: 1\nroots:\n  - identity: x\n    endpoints: [::1/9993\n")); err == nil {
		t.Error("an unclosed flow list was accepted")
	}
}
