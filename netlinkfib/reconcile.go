package netlinkfib

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/fib"
)

// change is one kernel request, named by what it does and where its object
// sits in the pass's plan: 8 bytes, so a pass over 100,000 prefixes holds
// 0.8 MB of them rather than a closure set per request (about 50 MB). The
// request itself is built when sent, a batch at a time.
type change struct {
	kind changeKind
	// i indexes the plan's slice of that kind; for the garbage
	// (nexthopGC, groupGC) it is the object's ID.
	i uint32
}

type changeKind uint8

const (
	labelAdd changeKind = iota
	labelReplace
	labelDelete
	nexthopAdd
	nexthopReplace
	groupAdd
	groupReplace
	routeAdd
	routeReplace
	routeDelete
	throwAdd
	throwDelete
	groupGC   // a nexthop group nothing uses any more
	nexthopGC // a single nexthop object nothing uses any more
)

// changeKinds gives each kind its op (add, replace, delete) and its name
// for Observer.Operation (label_add, nexthop_replace, ...).
var changeKinds = [...]struct{ op, name string }{
	labelAdd:       {"add", "label_add"},
	labelReplace:   {"replace", "label_replace"},
	labelDelete:    {"delete", "label_delete"},
	nexthopAdd:     {"add", "nexthop_add"},
	nexthopReplace: {"replace", "nexthop_replace"},
	groupAdd:       {"add", "group_add"},
	groupReplace:   {"replace", "group_replace"},
	routeAdd:       {"add", "route_add"},
	routeReplace:   {"replace", "route_replace"},
	routeDelete:    {"delete", "route_delete"},
	throwAdd:       {"add", "throw_add"},
	throwDelete:    {"delete", "throw_delete"},
	groupGC:        {"delete", "group_delete"},
	nexthopGC:      {"delete", "nexthop_delete"},
}

// gone reports whether c deletes: "no such object" then counts as done.
func (c change) gone() bool {
	switch c.kind {
	case labelDelete, routeDelete, throwDelete, groupGC, nexthopGC:
		return true
	}
	return false
}

// reconcile is one pass: read the kernel if the cache cannot be trusted,
// resolve the desired table, diff, program the difference, then collect the
// garbage nothing uses any more. Called with f.mu held.
//
// A pass is scoped when it can be: the producer said what changed
// (Change), the last pass left the kernel as wanted (the cache is
// trusted: no error, no change behind lsrd's back), the interfaces are the
// same, and no previous run's state waits for its sweep. It then resolves
// and diffs only what changed (diffScoped). Otherwise it goes over
// everything; the periodic resync makes one at least every resync
// interval.
func (f *FIB) reconcile(ctx context.Context) error {
	start := time.Now()
	changed, sweep := f.takeNext()
	if sweep != "" {
		f.sweepAsked = sweep // kept until a pass gets as far as the sweep
	}
	defer f.publishStatus()
	if f.dirty.Swap(false) {
		f.stale = true
	}
	// What was resolved before holds only if this pass gets that far.
	scoped := changed != nil && f.wantValid && !f.stale
	f.wantValid = false
	f.sent, f.kernelTime = 0, 0
	if f.stale {
		f.obs.Resync()
		have, err := f.readKernel(ctx)
		if err != nil {
			f.obs.Error("read")
			return err
		}
		f.have, f.stale = have, false
		f.rulesKnown = false
		if !f.adopted {
			f.adoptState()
		}
	}
	links, err := f.readLinks(ctx)
	if err != nil {
		f.obs.Error("read")
		return err
	}
	ifindex := func(name string) (int, bool) {
		idx, ok := links[name]
		return idx, ok
	}
	scoped = scoped && f.keep == nil && f.sweepAsked == "" && maps.Equal(links, f.links)
	alloc := &idAllocator{block: f.own.block, next: f.nextID, used: f.have.usedIDs}
	var p *plan
	if scoped {
		var moved, fallen int
		p, f.wantErrs, moved, fallen = planScoped(&f.want, f.wantErrs, f.have, f.desired, changed, ifindex, f.ingress.table != 0, alloc)
		f.obs.Rides(moved, fallen)
		f.scopedPasses++
	} else {
		f.want, f.wantErrs = resolve(f.desired, ifindex, f.ingress.table != 0)
		f.fullPasses++
	}
	errs := slices.Clone(f.wantErrs) // the pass's own errors join them
	f.links, f.wantValid, f.lastScoped = links, true, scoped
	want := f.want
	if f.sweepAsked != "" {
		if f.keep != nil {
			f.log.Info("netlinkfib: sweeping stale kernel routes after convergence", "routes", f.keep.stale(want, f.have),
				"reason", f.sweepAsked, "after", time.Since(f.keep.at).Round(time.Millisecond))
			f.keep = nil
		}
		f.sweepAsked = ""
	}
	if !scoped {
		p = diff(f.keep.holdDowngrades(want, f.have), f.have, alloc, f.keep)
	}
	f.nextID = alloc.next
	errs = append(errs, p.conflicts...)

	errs = append(errs, f.program(ctx, p, changes(p))...)
	// Garbage only once the routes have moved: deleting an object the
	// kernel still routes through deletes those routes with it. What the
	// cache says is referenced (after this pass's successes) is kept.
	var gc []change
	for _, id := range p.groupDelete {
		if !f.have.referenced(id) {
			gc = append(gc, change{kind: groupGC, i: id})
		}
	}
	errs = append(errs, f.program(ctx, p, gc)...)
	gc = nil
	for _, id := range p.nexthopDelete {
		if !f.have.referenced(id) {
			gc = append(gc, change{kind: nexthopGC, i: id})
		}
	}
	errs = append(errs, f.program(ctx, p, gc)...)

	if err := f.syncRules(want); err != nil {
		errs = append(errs, err)
	}
	f.staleCount = f.keep.stale(want, f.have)
	for _, e := range errs {
		f.obs.Error(errorKind(e))
	}
	if len(errs) > 0 {
		// A request the kernel refused may be half done, and a prefix
		// another protocol holds may be freed without a word to lsrd:
		// read it all back next time. An entry that could not be
		// resolved never reached the kernel: the cache stays trusted
		// (a change of interfaces brings a full pass for it).
		if slices.ContainsFunc(errs, func(e *ItemError) bool { return e.Op != "resolve" }) {
			f.stale = true
		}
		errs.sort()
		f.log.Warn("netlinkfib: kernel changes failed", "count", len(errs), "first", errs[0].Error())
	}
	f.programmed(errs)
	entries := len(f.desired.LFIB) + len(f.desired.FTN) + len(f.desired.Throws)
	if scoped {
		entries = changed.len()
	}
	f.obs.Pass(scoped, entries, time.Since(start))
	if !p.empty() {
		f.log.Debug("netlinkfib: reconciled", "labels+", len(p.labelAdd), "labels~", len(p.labelReplace),
			"labels-", len(p.labelDelete), "nexthops+", len(p.nexthopAdd), "nexthops~", len(p.nexthopReplace),
			"groups+", len(p.groupAdd), "groups~", len(p.groupReplace), "routes+", len(p.routeAdd),
			"routes~", len(p.routeReplace), "routes-", len(p.routeDelete), "errors", len(errs))
	}
	return errs.orNil()
}

// planScoped resolves what sc names into want (errs are want's resolve
// errors, brought up to date and returned), moves the routes of sc's rides
// with their LSPs in place where it can (ridesInPlace: moved and fallen
// count the rides of each kind), and plans the rest per entry
// (diffScoped): a scoped pass's work before the kernel. The scope grows by
// the routes of the rides that could not move in place.
func planScoped(want *desiredState, errs Errors, have *kernelState, t *fib.Table, sc *scope, ifindex func(string) (int, bool), ingress bool, alloc *idAllocator) (p *plan, _ Errors, moved, fallen int) {
	errs = resolveScoped(want, errs, t, sc, ifindex, ingress)
	rewrites, rest, moved, fallen := ridesInPlace(want, have, t, sc, ifindex)
	if len(rest.prefixes) > 0 {
		errs = resolveScoped(want, errs, t, rest, ifindex, ingress)
		sc.add(rest)
	}
	p = diffScoped(*want, have, alloc, sc)
	p.nexthopReplace = append(rewrites, p.nexthopReplace...)
	return p, errs, moved, fallen
}

// program sends changes, of plan p, as one pipelined batch and applies each
// success to the cache.
func (f *FIB) program(ctx context.Context, p *plan, cs []change) Errors {
	if len(cs) == 0 {
		return nil
	}
	f.sent += len(cs)
	f.total += uint64(len(cs))
	start := time.Now()
	defer func() { f.kernelTime += time.Since(start) }()
	const batch = 4096 // requests serialized at a time
	var errs Errors
	reqs := make([]*nl.NetlinkRequest, 0, min(len(cs), batch))
	for from := 0; from < len(cs); from += batch {
		part := cs[from:min(from+batch, len(cs))]
		reqs = reqs[:0]
		for _, c := range part {
			reqs = append(reqs, f.request(p, c))
		}
		results, took := f.c.execute(ctx, reqs)
		clear(reqs) // the requests' buffers go with the batch
		for i, err := range results {
			c := part[i]
			if err != nil && c.gone() && (errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH)) {
				err = nil // already gone: the goal is reached
			}
			kind := changeKinds[c.kind]
			if err != nil {
				f.obs.Operation(kind.name, "error", took[i])
				errs = append(errs, itemError(p, c, kind.op, err))
				continue
			}
			f.obs.Operation(kind.name, "ok", took[i])
			f.done(p, c)
		}
	}
	return errs
}

// changes lists a plan's requests, in the order of the plan's fields.
func changes(p *plan) []change {
	cs := make([]change, 0, len(p.labelAdd)+len(p.labelReplace)+len(p.labelDelete)+
		len(p.nexthopAdd)+len(p.nexthopReplace)+len(p.groupAdd)+len(p.groupReplace)+
		len(p.routeAdd)+len(p.routeReplace)+len(p.routeDelete)+len(p.throwAdd)+len(p.throwDelete))
	add := func(kind changeKind, n int) {
		for i := range n {
			cs = append(cs, change{kind: kind, i: uint32(i)})
		}
	}
	// Throws first: they make way for the ingress routes that cover them.
	add(throwAdd, len(p.throwAdd))
	add(labelAdd, len(p.labelAdd))
	add(labelReplace, len(p.labelReplace))
	add(labelDelete, len(p.labelDelete))
	add(nexthopAdd, len(p.nexthopAdd))
	add(nexthopReplace, len(p.nexthopReplace))
	add(groupAdd, len(p.groupAdd))
	add(groupReplace, len(p.groupReplace))
	add(routeAdd, len(p.routeAdd))
	add(routeReplace, len(p.routeReplace))
	add(routeDelete, len(p.routeDelete))
	add(throwDelete, len(p.throwDelete))
	return cs
}

// request builds c's netlink request.
func (f *FIB) request(p *plan, c change) *nl.NetlinkRequest {
	switch c.kind {
	case labelAdd:
		return labelRouteRequest(f.own.proto, p.labelAdd[c.i], flagsAdd)
	case labelReplace:
		return labelRouteRequest(f.own.proto, p.labelReplace[c.i], flagsReplace)
	case labelDelete:
		return labelRouteDeleteRequest(f.own.proto, p.labelDelete[c.i])
	case nexthopAdd:
		return nexthopRequest(f.own.proto, p.nexthopAdd[c.i], flagsAdd)
	case nexthopReplace:
		return nexthopRequest(f.own.proto, p.nexthopReplace[c.i], flagsReplace)
	case groupAdd:
		return groupRequest(f.own.proto, p.groupAdd[c.i], flagsAdd)
	case groupReplace:
		return groupRequest(f.own.proto, p.groupReplace[c.i], flagsReplace)
	case routeAdd:
		r := p.routeAdd[c.i]
		return prefixRouteRequest(f.targetOf(r), r, flagsAdd)
	case routeReplace:
		r := p.routeReplace[c.i]
		return prefixRouteRequest(f.targetOf(r), r, flagsReplace)
	case routeDelete:
		r := p.routeDelete[c.i]
		return prefixRouteDeleteRequest(f.targetOf(r), r.prefix)
	case throwAdd:
		return throwRouteRequest(f.ingress, p.throwAdd[c.i], flagsAdd)
	case throwDelete:
		return prefixRouteDeleteRequest(f.ingress, p.throwDelete[c.i])
	default: // groupGC, nexthopGC
		return nexthopDeleteRequest(c.i)
	}
}

// targetOf is where r lives: the ingress table or the main target, and for
// an adopted route of the legacy protocol, that protocol.
func (f *FIB) targetOf(r prefixRoute) routeTarget {
	t := f.target
	if r.ingress {
		t = f.ingress
	}
	if r.legacy {
		t.proto = f.own.legacy
	}
	return t
}

// done applies what the kernel accepted to the cached state.
func (f *FIB) done(p *plan, c change) {
	have := f.have
	switch c.kind {
	case labelAdd:
		r := p.labelAdd[c.i]
		have.labels[r.in] = r
	case labelReplace:
		r := p.labelReplace[c.i]
		have.labels[r.in] = r
		delete(have.legacyLabels, r.in)
	case labelDelete:
		delete(have.labels, p.labelDelete[c.i])
		delete(have.legacyLabels, p.labelDelete[c.i])
	case nexthopAdd:
		o := p.nexthopAdd[c.i]
		have.nexthops[o.id] = o.hop
		have.usedIDs[o.id] = true
	case nexthopReplace:
		o := p.nexthopReplace[c.i]
		have.nexthops[o.id] = o.hop
	case groupAdd:
		g := p.groupAdd[c.i]
		have.setGroup(g.id, g.members)
		have.usedIDs[g.id] = true
	case groupReplace:
		g := p.groupReplace[c.i]
		have.setGroup(g.id, g.members)
	case routeAdd, routeReplace:
		r := p.routeAdd
		if c.kind == routeReplace {
			r = p.routeReplace
		}
		have.setRoute(r[c.i].prefix, r[c.i].nhid)
		if r[c.i].ingress {
			have.ingress[r[c.i].prefix] = true
		} else {
			delete(have.ingress, r[c.i].prefix)
		}
		delete(have.legacyRoutes, r[c.i].prefix)
	case routeDelete:
		// A route that moved tables was added in the other one first:
		// the cache then holds the new route, which stays.
		r := p.routeDelete[c.i]
		if have.ingress[r.prefix] == r.ingress {
			have.deleteRoute(r.prefix)
			delete(have.ingress, r.prefix)
			delete(have.legacyRoutes, r.prefix)
		}
	case throwAdd:
		have.throws[p.throwAdd[c.i]] = true
	case throwDelete:
		delete(have.throws, p.throwDelete[c.i])
	default: // groupGC, nexthopGC
		have.deleteObject(c.i)
	}
}

// itemError is the error of change c of plan p, naming its object.
func itemError(p *plan, c change, op string, err error) *ItemError {
	switch c.kind {
	case labelAdd:
		return labelError(p.labelAdd[c.i].in, op, err)
	case labelReplace:
		return labelError(p.labelReplace[c.i].in, op, err)
	case labelDelete:
		return labelError(p.labelDelete[c.i], op, err)
	case routeAdd:
		return routeError(p.routeAdd[c.i], op, err)
	case routeReplace:
		return routeError(p.routeReplace[c.i], op, err)
	case routeDelete:
		return prefixError(p.routeDelete[c.i].prefix, "", op, err)
	}
	var item string
	switch c.kind {
	case nexthopAdd:
		o := p.nexthopAdd[c.i]
		item = nexthopItem(o.id, o.hop)
	case nexthopReplace:
		o := p.nexthopReplace[c.i]
		item = nexthopItem(o.id, o.hop)
	case groupAdd:
		item = groupItem(p.groupAdd[c.i])
	case groupReplace:
		item = groupItem(p.groupReplace[c.i])
	case throwAdd:
		item = "throw " + p.throwAdd[c.i].String()
	case throwDelete:
		item = "throw " + p.throwDelete[c.i].String()
	case groupGC:
		item = "nexthop group " + strconv.FormatUint(uint64(c.i), 10)
	default: // nexthopGC
		item = "nexthop " + strconv.FormatUint(uint64(c.i), 10)
	}
	return &ItemError{Item: item, Op: op, Err: err}
}

func nexthopItem(id uint32, h hop) string {
	return "nexthop " + strconv.FormatUint(uint64(id), 10) + " (" + h.String() + ")"
}

func groupItem(g groupObject) string {
	s := "nexthop group " + strconv.FormatUint(uint64(g.id), 10) + " ("
	for i, m := range g.members {
		if i > 0 {
			s += "/"
		}
		s += strconv.FormatUint(uint64(m), 10)
	}
	return s + ")"
}

func routeError(r prefixRoute, op string, err error) *ItemError {
	return prefixError(r.prefix, "nexthop "+strconv.FormatUint(uint64(r.nhid), 10), op, err)
}

// Status is api.FIBStatus, the control API's wire type.
type Status = api.FIBStatus

// Status reports the cached view of lsrd's kernel state, for lsrctl and
// metrics, as of the end of the last pass: it never waits for one.
func (f *FIB) Status() Status {
	s := f.status.Load()
	if s == nil {
		return Status{Stale: true}
	}
	out := *s
	out.Stale = out.Stale || f.dirty.Load()
	return out
}

// publishStatus replaces the view Status returns; called with f.mu held.
func (f *FIB) publishStatus() {
	f.status.Store(&Status{Labels: len(f.have.labels), Prefixes: len(f.have.routes), Nexthops: len(f.have.nexthops),
		Groups: len(f.have.groups), Stale: f.stale, LastPassRequests: f.sent, Requests: f.total,
		LastPassKernelTime: f.kernelTime, AwaitingSweep: f.keep != nil, StaleRoutes: f.staleCount,
		ScopedPasses: f.scopedPasses, FullPasses: f.fullPasses, LastPassScoped: f.lastScoped})
}
