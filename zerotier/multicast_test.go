package zerotier

import (
	"slices"
	"testing"
)

func TestParseDevMcast(t *testing.T) {
	got := parseDevMcast("1    lo              1     0     01005e000001\n" +
		"5    ztmjfnbvsk      1     0     01005e000002\n" +
		"5    ztmjfnbvsk      1     0     333300000001\n" +
		"garbage\n6 short 1 0 0100\n")
	if !slices.Equal(got["ztmjfnbvsk"], []string{"01:00:5e:00:00:02", "33:33:00:00:00:01"}) || len(got["lo"]) != 1 || len(got) != 2 {
		t.Errorf("parsed %v", got)
	}
}
