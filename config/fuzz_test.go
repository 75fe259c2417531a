package config

import (
	"os"
	"testing"
)

// FuzzParse: any file is either accepted as a valid configuration or
// rejected with an error naming the file; never a panic.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("../docs/examples/lsrd.yaml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("router-id: 1.1.1.1\nldp:\n  interfaces:\n    - name: eth0\n"))
	f.Add([]byte("router-id: [1, 2]\n"))
	f.Add([]byte("ldp: {timers: {keepalive: 1h}}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse("fuzz.yaml", b)
		if err != nil {
			if c != nil {
				t.Fatalf("error %v with a configuration", err)
			}
			return
		}
		// What is accepted must pass its own checks again.
		if err := c.validate(); err != nil {
			t.Fatalf("accepted configuration fails validation: %v", err)
		}
	})
}
