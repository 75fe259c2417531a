// Package version names the build of lsrd and lsrctl: the version stamped
// at link time (-ldflags "-X main.version=..."), else the git revision Go
// records when it builds from a checkout.
package version

import (
	"runtime/debug"
)

// Of returns stamped when it was set at link time (not "dev"), else
// "dev-" and the first 12 digits of the git revision the binary was built
// from, with "-dirty" when the checkout had changes; "dev" without either.
func Of(stamped string) string {
	if stamped != "" && stamped != "dev" {
		return stamped
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	return fromSettings(bi.Settings)
}

func fromSettings(settings []debug.BuildSetting) string {
	var rev string
	var dirty bool
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	v := "dev-" + rev[:min(12, len(rev))]
	if dirty {
		v += "-dirty"
	}
	return v
}
