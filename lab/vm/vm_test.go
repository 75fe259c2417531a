package vm

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestSplitModules(t *testing.T) {
	names, params := splitModules([]string{"mpls_router", "dummy numdummies=0", " 9pnet-virtio "})
	if want := []string{"mpls_router", "dummy", "9pnet_virtio"}; !reflect.DeepEqual(names, want) {
		t.Errorf("names %v, want %v", names, want)
	}
	if want := map[string]string{"dummy": "numdummies=0"}; !reflect.DeepEqual(params, want) {
		t.Errorf("params %v, want %v", params, want)
	}
}

func TestConsoleFailure(t *testing.T) {
	p := filepath.Join(t.TempDir(), "console.log")
	os.WriteFile(p, []byte("[    1.0] booting\r\nlab: FAIL: module 9p failed to load: insmod: can't insert\r\n"), 0o644)
	if got, want := consoleFailure(p), "module 9p failed to load: insmod: can't insert"; got != want {
		t.Errorf("consoleFailure = %q, want %q", got, want)
	}
	os.WriteFile(p, []byte("lab: ready\n"), 0o644)
	if got := consoleFailure(p); got != "" {
		t.Errorf("consoleFailure on a clean console = %q", got)
	}
}

func TestShellQuote(t *testing.T) {
	if got, want := shellQuote(`it's`), `'it'\''s'`; got != want {
		t.Errorf("shellQuote = %s, want %s", got, want)
	}
}
