package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRegistryExportsBuildInfo(t *testing.T) {
	reg := NewRegistry("1.2.3")
	n, err := testutil.GatherAndCount(reg, "lsrd_build_info")
	if err != nil || n != 1 {
		t.Fatalf("lsrd_build_info: %d series, err %v", n, err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
		if mf.GetName() == "lsrd_build_info" {
			labels := mf.GetMetric()[0].GetLabel()
			var version string
			for _, l := range labels {
				if l.GetName() == "version" {
					version = l.GetValue()
				}
			}
			if version != "1.2.3" {
				t.Errorf("version label %q, want 1.2.3", version)
			}
		}
	}
	all := strings.Join(names, " ")
	for _, m := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(all, m) {
			t.Errorf("registry lacks %s: has %s", m, all)
		}
	}
}
