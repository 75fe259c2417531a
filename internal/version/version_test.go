package version

import (
	"runtime/debug"
	"testing"
)

func TestOf(t *testing.T) {
	if got := Of("1.2.3"); got != "1.2.3" {
		t.Errorf("stamped: %q", got)
	}
	for _, c := range []struct {
		s    []debug.BuildSetting
		want string
	}{
		{nil, "dev"},
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}}, "dev-0123456789ab"},
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}, "dev-0123456789ab-dirty"},
	} {
		if got := fromSettings(c.s); got != c.want {
			t.Errorf("%v: %q, want %q", c.s, got, c.want)
		}
	}
}
