package netlinkfib

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/lsrd/lsrd/fib"
)

// programmed is what one pass programmed: the desired table it took (tables
// are never changed once Set) and the entries it failed to program.
type programmed struct {
	table          *fib.Table
	failedLabels   map[fib.Label]bool
	failedPrefixes map[netip.Prefix]bool
}

func newProgrammed(t *fib.Table, errs Errors) *programmed {
	p := &programmed{table: t}
	for _, e := range errs {
		kind, rest, _ := strings.Cut(e.Item, " ")
		subject, _, _ := strings.Cut(rest, " ")
		switch kind {
		case "label":
			if n, err := strconv.ParseUint(subject, 10, 32); err == nil {
				if p.failedLabels == nil {
					p.failedLabels = map[fib.Label]bool{}
				}
				p.failedLabels[fib.Label(n)] = true
			}
		case "prefix":
			if pfx, err := netip.ParsePrefix(subject); err == nil {
				if p.failedPrefixes == nil {
					p.failedPrefixes = map[netip.Prefix]bool{}
				}
				p.failedPrefixes[pfx] = true
			}
		}
	}
	return p
}

// Installed tells, per entry, whether the kernel holds it as given: the last
// pass that reached the kernel programmed an equal entry without an error.
// An entry newer than that pass, or one it failed, is not installed (yet).
// It never waits for a pass.
type Installed struct{ p *programmed }

// Installed returns the record of the last pass.
func (f *FIB) Installed() Installed { return Installed{f.programmed.Load()} }

// Label tells whether e is installed.
func (in Installed) Label(e fib.LFIBEntry) bool {
	if in.p == nil || in.p.table == nil || in.p.failedLabels[e.InLabel] {
		return false
	}
	have, ok := in.p.table.LFIB[e.InLabel]
	return ok && have.Equal(e)
}

// Prefix tells whether e is installed.
func (in Installed) Prefix(e fib.FTNEntry) bool {
	if in.p == nil || in.p.table == nil || in.p.failedPrefixes[e.Prefix] {
		return false
	}
	have, ok := in.p.table.FTN[e.Prefix]
	return ok && have.Equal(e)
}
