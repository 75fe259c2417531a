package ctl

import (
	"strings"
	"testing"

	"github.com/lsrd/lsrd/ldp/lib"
)

func TestStatsShowsBindings(t *testing.T) {
	var b strings.Builder
	if err := Stats(&b, lib.Stats{LocalBindings: 4, RemoteBindings: 7, LabelsInUse: 3, LabelRange: 100}); err != nil {
		t.Fatal(err)
	}
	for _, want := range [][]string{{"local", "bindings:", "4"}, {"remote", "bindings:", "7"}, {"labels", "in", "use:", "3", "of", "100"}} {
		found := false
		for _, line := range strings.Split(b.String(), "\n") {
			found = found || strings.Join(strings.Fields(line), " ") == strings.Join(want, " ")
		}
		if !found {
			t.Errorf("show ldp stats lacks %q:\n%s", strings.Join(want, " "), b.String())
		}
	}
}
