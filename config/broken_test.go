package config

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/broken.golden")

// Every broken file in testdata/broken is refused with the error recorded
// in testdata/broken.golden: the file, the line, the field as the file
// writes it and the value, in the configuration's own words (no Go type
// or function names), with a suggestion for a misspelt key.
func TestBrokenConfigGoldens(t *testing.T) {
	files, err := filepath.Glob("testdata/broken/*.yaml")
	if err != nil || len(files) < 30 {
		t.Fatalf("%d broken files (%v), want at least 30", len(files), err)
	}
	var got strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		_, err = Parse(name, b)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, name+": ") {
			t.Errorf("%s: the error does not start with the file's name: %s", name, msg)
		}
		for _, goism := range []string{"config.", "netip.", "ParseAddr(", "[]", "!!", "unmarshal", "not found in type", "time.Duration"} {
			if strings.Contains(msg, goism) {
				t.Errorf("%s: Go's words (%q) in the error: %s", name, goism, msg)
			}
		}
		got.WriteString(msg + "\n")
	}
	golden := "testdata/broken.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("errors differ from %s (go test ./config -run TestBrokenConfigGoldens -update, then review):\n%s", golden, got.String())
	}
}

// The annotated example lists every key the configuration takes (some
// commented out), so that operators find each one there.
func TestExampleListsEveryKey(t *testing.T) {
	b, err := os.ReadFile("../docs/examples/lsrd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	var missing []string
	var walk func(typ reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ.PkgPath() != reflect.TypeFor[Config]().PkgPath() {
			return
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			if !regexp.MustCompile(`(?m)(^|[\s#{,-])` + regexp.QuoteMeta(name) + `:`).MatchString(text) {
				missing = append(missing, path+name)
			}
			walk(f.Type, path+name+".")
		}
	}
	walk(reflect.TypeFor[Config](), "")
	if len(missing) > 0 {
		t.Errorf("docs/examples/lsrd.yaml lacks %s", strings.Join(missing, ", "))
	}
}

// The running configuration as lsrctl shows it reads back as the same
// configuration, and no password is in it.
func TestRedactedRoundTrip(t *testing.T) {
	c, err := Parse("lsrd.yaml", []byte(`router-id: 1.1.1.1
ldp:
  interfaces:
    - name: eth0
  neighbors:
    - lsr-id: 2.2.2.2
      password: s3cret
bgp:
  as: 65001
  neighbors:
    - address: 10.0.0.2
      remote-as: 65002
      password: hunter2
`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "s3cret") || strings.Contains(string(b), "hunter2") || !strings.Contains(string(b), "<redacted>") {
		t.Fatalf("passwords in the running configuration:\n%s", b)
	}
	back, err := Parse("running.yaml", b)
	if err != nil {
		t.Fatalf("the running configuration does not parse: %v\n%s", err, b)
	}
	again, err := back.Redacted()
	if err != nil || string(again) != string(b) {
		t.Errorf("the running configuration read back shows differently (%v):\n%s\n---\n%s", err, b, again)
	}
	if back.LDP.Timers != c.LDP.Timers || back.BGP.Neighbors[0].Address != c.BGP.Neighbors[0].Address || back.LDP.Interfaces[0].Name != c.LDP.Interfaces[0].Name {
		t.Errorf("values differ after the round trip")
	}
}
