package netlinkfib

import (
	"maps"
	"net/netip"
	"slices"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/fib"
)

// deltaScope is what d changes.
func deltaScope(d *fib.Delta) *scope {
	sc := &scope{labels: make(map[fib.Label]struct{}, len(d.LFIB)), prefixes: make(map[netip.Prefix]struct{}, len(d.FTN)+len(d.Throws))}
	for l := range d.LFIB {
		sc.labels[l] = struct{}{}
	}
	for p := range d.FTN {
		sc.prefixes[p] = struct{}{}
	}
	for p := range d.Throws {
		sc.prefixes[p] = struct{}{}
	}
	for _, r := range d.Rides {
		sc.rides = append(sc.rides, rideScope{prefixes: r.Prefixes,
			hops: [2][]fib.NextHop{fib.RideHops(r.NextHops, false), fib.RideHops(r.NextHops, true)}})
	}
	return sc
}

// add adds o to sc.
func (sc *scope) add(o *scope) {
	if sc.labels == nil {
		sc.labels = map[fib.Label]struct{}{}
	}
	if sc.prefixes == nil {
		sc.prefixes = map[netip.Prefix]struct{}{}
	}
	maps.Copy(sc.labels, o.labels)
	maps.Copy(sc.prefixes, o.prefixes)
	sc.rides = append(sc.rides, o.rides...)
}

// hasPrefix reports whether sc may change the entry e: it names e's
// prefix, or e forwards as the routes of one of its rides now do. That
// test stands in for a look through the rides' routes (a ride of 100,000
// routes would cost as many map writes to note); an entry that merely
// forwards the same way is counted in.
func (sc *scope) hasPrefix(e fib.FTNEntry) bool {
	if _, ok := sc.prefixes[e.Prefix]; ok {
		return true
	}
	i := 0
	if e.Prefix.Addr().Is6() {
		i = 1
	}
	for _, r := range sc.rides {
		if slices.EqualFunc(e.NextHops, r.hops[i], fib.NextHop.Equal) {
			return true
		}
	}
	return false
}

// len is the number of entries in sc, the routes of its rides included.
func (sc *scope) len() int {
	n := len(sc.labels) + len(sc.prefixes)
	for _, r := range sc.rides {
		n += len(r.prefixes)
	}
	return n
}

// programmed records, at the end of a pass that got to the kernel, what it
// failed to program; what it took is no longer pending. Called with f.mu
// held.
func (f *FIB) programmed(errs Errors) {
	failed := scope{}
	for _, e := range errs {
		switch {
		case e.prefix.IsValid():
			if failed.prefixes == nil {
				failed.prefixes = map[netip.Prefix]struct{}{}
			}
			failed.prefixes[e.prefix] = struct{}{}
		case e.isLabel:
			if failed.labels == nil {
				failed.labels = map[fib.Label]struct{}{}
			}
			failed.labels[e.label] = struct{}{}
		}
	}
	f.view.Lock()
	f.failed, f.pending, f.pendingAll, f.passed = failed, scope{}, false, true
	f.view.Unlock()
}

// Installed tells, per entry, whether the kernel holds it as given: the
// last pass that reached the kernel programmed an equal entry without an
// error. An entry published since, or one that pass failed, is not
// installed (yet). It waits for no pass, only, at most, for a pass to take
// what was published (the changes, applied to the desired table).
type Installed struct{ f *FIB }

// Installed returns the record of the last pass.
func (f *FIB) Installed() Installed { return Installed{f} }

// Label tells whether e is installed.
func (in Installed) Label(e fib.LFIBEntry) bool {
	in.f.view.RLock()
	defer in.f.view.RUnlock()
	return in.f.labelInstalled(e)
}

// Prefix tells whether e is installed.
func (in Installed) Prefix(e fib.FTNEntry) bool {
	in.f.view.RLock()
	defer in.f.view.RUnlock()
	return in.f.prefixInstalled(e)
}

// labelInstalled is Label with f.view held.
func (f *FIB) labelInstalled(e fib.LFIBEntry) bool {
	_, failed := f.failed.labels[e.InLabel]
	_, pending := f.pending.labels[e.InLabel]
	if !f.passed || f.pendingAll || failed || pending || f.desired == nil {
		return false
	}
	have, ok := f.desired.LFIB[e.InLabel]
	return ok && have.Equal(e)
}

// prefixInstalled is Prefix with f.view held.
func (f *FIB) prefixInstalled(e fib.FTNEntry) bool {
	_, failed := f.failed.prefixes[e.Prefix]
	if !f.passed || f.pendingAll || failed || f.pending.hasPrefix(e) || f.desired == nil {
		return false
	}
	have, ok := f.desired.FTN[e.Prefix]
	return ok && have.Equal(e)
}

// viewLocked is Installed for a reader that holds f.view already.
type viewLocked struct{ f *FIB }

func (v viewLocked) Label(e fib.LFIBEntry) bool { return v.f.labelInstalled(e) }
func (v viewLocked) Prefix(e fib.FTNEntry) bool { return v.f.prefixInstalled(e) }

// TableView is the desired table as the kernel layer holds it (everything
// handed on that a pass has taken), each entry marked installed or not:
// the control API's "show lfib", read here rather than on the parent's
// goroutine, which would stall on a large table. It waits at most for a
// pass to take what was published, and holds a pass back while it reads.
func (f *FIB) TableView() api.TableView {
	f.view.RLock()
	defer f.view.RUnlock()
	return api.NewTableView(f.desired, viewLocked{f})
}
