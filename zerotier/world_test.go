package zerotier

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsrd/lsrd/internal/checkout"
)

// sharedTestdata returns ../shared/testdata/zerotier beside the checkout, or
// skips the test saying why.
func sharedTestdata(t testing.TB) string {
	return checkout.Shared(t, "zerotier", "private-planet/world.bin")
}

const (
	root1 = "3a46f1bf30:0:76e66fab33e28549a62ee2064d1843273c2c300ba45c3f20bef02dbad225723bb59a9bb4b13535730961aeecf5a163ace477cceb0727025b99ac14a5166a09a3"
	root2 = "de8950a8b2:0:1b3ada8251b91b6b6fa6535b8c7e2460918f4f729abdec97d3c7f3796868fb02f0de0b0ee554b2d59fc3524743eebfcf5315e790ed6d92db5bd10c28c09b40ef"
)

// privateSpec is the spec of the private planet in the shared test data
// (its README lists the inputs given to mkworld), with key paths filled in.
func privateSpec(td string) string {
	return `id: 0x6c737264
timestamp: 1764000000000
previous-key: ` + filepath.Join(td, "private-planet", "previous.c25519") + `
current-key: ` + filepath.Join(td, "private-planet", "current.c25519") + `
roots:
  - identity: ` + root1 + `
    endpoints: [192.0.2.10/9993, "2001:db8::10/9993"]
  - identity: ` + root2 + `
    endpoints: [198.51.100.20/443]
`
}

func TestBuildReproducesMkworld(t *testing.T) {
	td := sharedTestdata(t)
	want, err := os.ReadFile(filepath.Join(td, "private-planet", "world.bin"))
	if err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(t.TempDir(), "planet.yaml")
	if err := os.WriteFile(spec, []byte(privateSpec(td)), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := BuildFromSpecFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	if res.KeysCreated {
		t.Error("keys reported created although both files exist")
	}
	if !bytes.Equal(res.Bytes, want) {
		for i := range min(len(res.Bytes), len(want)) {
			if res.Bytes[i] != want[i] {
				t.Fatalf("built %d bytes, mkworld made %d; first difference at byte %d", len(res.Bytes), len(want), i)
			}
		}
		t.Fatalf("built %d bytes, mkworld made %d", len(res.Bytes), len(want))
	}
}

func TestUnmarshalAndVerifyShippedWorlds(t *testing.T) {
	td := sharedTestdata(t)
	for _, c := range []struct {
		file  string
		id    uint64
		ts    uint64
		roots int
	}{
		{"private-planet/world.bin", 0x6c737264, 1764000000000, 2},
		{"earth-2019-world.bin", 149604618, 0, 4},
	} {
		t.Run(c.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(td, c.file))
			if err != nil {
				t.Fatal(err)
			}
			w, err := Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if w.Type != WorldPlanet || w.ID != c.id || len(w.Roots) != c.roots || (c.ts != 0 && w.Timestamp != c.ts) {
				t.Errorf("decoded %s id %d ts %d with %d roots", w.Type, w.ID, w.Timestamp, len(w.Roots))
			}
			if err := w.Verify(w.UpdateKey); err != nil {
				t.Errorf("verify: %v", err)
			}
			again, err := w.Marshal()
			if err != nil || !bytes.Equal(again, b) {
				t.Errorf("re-marshalled world differs from the file (err %v)", err)
			}
		})
	}
}

func TestPrivatePlanetContents(t *testing.T) {
	td := sharedTestdata(t)
	b, err := os.ReadFile(filepath.Join(td, "private-planet", "world.bin"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Roots[0].Identity.String(); got != root1 {
		t.Errorf("root 1 identity %s", got)
	}
	var eps []string
	for _, r := range w.Roots {
		for _, e := range r.Endpoints {
			eps = append(eps, e.String())
		}
	}
	if got := strings.Join(eps, " "); got != "192.0.2.10:9993 [2001:db8::10]:9993 198.51.100.20:443" {
		t.Errorf("endpoints %s", got)
	}
	kp, err := ReadKeyFile(filepath.Join(td, "private-planet", "current.c25519"))
	if err != nil {
		t.Fatal(err)
	}
	if kp.Public != w.UpdateKey {
		t.Error("update key is not current.c25519's public key")
	}
}

// Every byte of the signed part matters: changing any one of them must fail
// verification with a message saying the file changed after signing.
func TestTamperedByteFails(t *testing.T) {
	td := sharedTestdata(t)
	orig, err := os.ReadFile(filepath.Join(td, "private-planet", "world.bin"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range orig {
		b := bytes.Clone(orig)
		b[i] ^= 0x01
		w, err := Unmarshal(b)
		if err != nil {
			continue // some bytes (type, counts) make the file undecodable, which is a failure too
		}
		ref, _ := Unmarshal(orig)
		err = w.Verify(ref.UpdateKey)
		if err == nil {
			t.Fatalf("byte %d changed and the world still verifies", i)
		}
		if !errors.Is(err, ErrBadSignature) {
			t.Fatalf("byte %d: error %v does not wrap ErrBadSignature", i, err)
		}
		inSig := i >= 1+8+8+64 && i < 1+8+8+64+96
		if !inSig && !strings.Contains(err.Error(), "changed after signing") {
			t.Errorf("byte %d: error %q does not say the file changed", i, err)
		}
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	kp, err := GenerateKeyPair(nil)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := GenerateKeyPair(nil)
	id, err := ParseIdentity(root2)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []WorldType{WorldPlanet, WorldMoon} {
		w := &World{Type: typ, ID: 42, Timestamp: 7, UpdateKey: other.Public,
			Roots: []Root{{Identity: id}}}
		if err := w.Sign(kp); err != nil {
			t.Fatal(err)
		}
		if err := w.Verify(kp.Public); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
		if err := w.Verify(other.Public); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s verified with the wrong key: %v", typ, err)
		}
		b, _ := w.Marshal()
		w2, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if err := w2.Verify(kp.Public); err != nil {
			t.Errorf("%s after round trip: %v", typ, err)
		}
	}
}

func TestUnmarshalRejects(t *testing.T) {
	td := sharedTestdata(t)
	good, err := os.ReadFile(filepath.Join(td, "private-planet", "world.bin"))
	if err != nil {
		t.Fatal(err)
	}
	set := func(i int, v byte) []byte { b := bytes.Clone(good); b[i] = v; return b }
	const roots = 1 + 8 + 8 + 64 + 96
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "at byte 0: truncated: world type"},
		{"bad type", set(0, 2), "world type 2"},
		{"truncated key", good[:40], "update key needs 64 bytes"},
		{"five roots", set(roots, 5), "5 roots: ZeroTier allows at most 4"},
		{"identity type", set(roots+1+5, 1), "identity type 1"},
		{"private key", set(roots+1+5+1+64, 64), "carries a private key"},
		{"33 endpoints", set(roots+1+71, 33), "33 endpoints"},
		{"endpoint type", set(roots+1+71+1, 0x05), "address type 0x05"},
		{"reserved address", set(roots+1, 0xff), "reserved"},
		{"trailing", append(bytes.Clone(good), 0), "1 bytes after the end"},
		{"truncated", good[:len(good)-1], "port needs 2 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Unmarshal(c.b)
			var de *DecodeError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want a DecodeError with %q", err, c.want)
			}
		})
	}
}
