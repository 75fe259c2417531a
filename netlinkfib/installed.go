package netlinkfib

import (
	"net/netip"

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
		switch {
		case e.prefix.IsValid():
			if p.failedPrefixes == nil {
				p.failedPrefixes = map[netip.Prefix]bool{}
			}
			p.failedPrefixes[e.prefix] = true
		case e.isLabel:
			if p.failedLabels == nil {
				p.failedLabels = map[fib.Label]bool{}
			}
			p.failedLabels[e.label] = true
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
