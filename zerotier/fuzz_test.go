package zerotier

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzUnmarshal checks that the decoder never panics and that whatever it
// accepts encodes back to the same bytes.
func FuzzUnmarshal(f *testing.F) {
	kp, _ := GenerateKeyPair(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	id, _ := ParseIdentity(root1)
	for _, typ := range []WorldType{WorldPlanet, WorldMoon} {
		w := &World{Type: typ, ID: 1, Timestamp: 2, UpdateKey: kp.Public, Roots: []Root{{Identity: id}}}
		w.Sign(kp)
		b, _ := w.Marshal()
		f.Add(b)
	}
	for _, p := range []string{"private-planet/world.bin", "earth-2019-world.bin"} {
		if b, err := os.ReadFile(filepath.Join("..", "..", "shared", "testdata", "zerotier", p)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := Unmarshal(b)
		if err != nil {
			return
		}
		again, err := w.Marshal()
		if err != nil {
			t.Fatalf("decoded world does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("round trip changed the bytes:\n%x\n%x", b, again)
		}
		_ = w.Verify(w.UpdateKey)
	})
}
