package netlinkfib

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// change is one kernel request and what it means for the cached state when
// the kernel accepts it.
type change struct {
	req  func() *nl.NetlinkRequest // built when sent: 100,000 at once would be 100 MB
	op   string                    // add, replace, delete
	kind string                    // object and op, for Observer.Operation: label_add, nexthop_replace, ...
	item func() string             // formatted only for an error
	ok   func()
	gone bool // a delete: "no such object" counts as done
}

// reconcile is one pass: read the kernel if the cache cannot be trusted,
// resolve the desired table, diff, program the difference, then collect the
// garbage nothing uses any more. Called with f.mu held.
func (f *FIB) reconcile(ctx context.Context) error {
	if f.dirty.Swap(false) {
		f.stale = true
	}
	f.sent, f.kernelTime = 0, 0
	if f.stale {
		f.obs.Resync()
		have, err := f.readKernel(ctx)
		if err != nil {
			f.obs.Error("read")
			return err
		}
		f.have, f.stale = have, false
	}
	links, err := f.readLinks(ctx)
	if err != nil {
		f.obs.Error("read")
		return err
	}
	want, errs := resolve(f.desired, func(name string) (int, bool) {
		idx, ok := links[name]
		return idx, ok
	})
	alloc := &idAllocator{next: f.nextID, used: f.have.usedIDs}
	p := diff(want, f.have, alloc)
	f.nextID = alloc.next
	errs = append(errs, p.conflicts...)

	errs = append(errs, f.program(ctx, f.changes(p))...)
	// Garbage only once the routes have moved: deleting an object the
	// kernel still routes through deletes those routes with it. What the
	// cache says is referenced (after this pass's successes) is kept.
	ref := f.have.referenced()
	var gc []change
	for _, id := range p.groupDelete {
		if !ref[id] {
			gc = append(gc, f.nexthopDelete(id, true))
		}
	}
	errs = append(errs, f.program(ctx, gc)...)
	ref, gc = f.have.referenced(), nil
	for _, id := range p.nexthopDelete {
		if !ref[id] {
			gc = append(gc, f.nexthopDelete(id, false))
		}
	}
	errs = append(errs, f.program(ctx, gc)...)

	for _, e := range errs {
		f.obs.Error(errorKind(e))
	}
	if len(errs) > 0 {
		f.stale = true // what failed may be half done: read it back next time
		errs.sort()
		f.log.Warn("netlinkfib: kernel changes failed", "count", len(errs), "first", errs[0].Error())
	}
	if !p.empty() {
		f.log.Debug("netlinkfib: reconciled", "labels+", len(p.labelAdd), "labels~", len(p.labelReplace),
			"labels-", len(p.labelDelete), "nexthops+", len(p.nexthopAdd), "nexthops~", len(p.nexthopReplace),
			"groups+", len(p.groupAdd), "groups~", len(p.groupReplace), "routes+", len(p.routeAdd),
			"routes~", len(p.routeReplace), "routes-", len(p.routeDelete), "errors", len(errs))
	}
	return errs.orNil()
}

// program sends changes as one pipelined batch and applies each success to
// the cache.
func (f *FIB) program(ctx context.Context, cs []change) Errors {
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
			reqs = append(reqs, c.req())
		}
		results, took := f.c.execute(ctx, reqs)
		for i, err := range results {
			c := part[i]
			if err != nil && c.gone && (errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH)) {
				err = nil // already gone: the goal is reached
			}
			if err != nil {
				f.obs.Operation(c.kind, "error", took[i])
				errs = append(errs, &ItemError{Item: c.item(), Op: c.op, Err: err})
				continue
			}
			f.obs.Operation(c.kind, "ok", took[i])
			c.ok()
		}
	}
	return errs
}

// changes turns a plan into requests, in the order of the plan's fields.
func (f *FIB) changes(p *plan) []change {
	have := f.have
	var cs []change
	for _, r := range p.labelAdd {
		cs = append(cs, change{req: func() *nl.NetlinkRequest { return labelRouteRequest(r, flagsAdd) }, op: "add", kind: "label_add", item: func() string { return "label " + r.in.String() },
			ok: func() { have.labels[r.in] = r }})
	}
	for _, r := range p.labelReplace {
		cs = append(cs, change{req: func() *nl.NetlinkRequest { return labelRouteRequest(r, flagsReplace) }, op: "replace", kind: "label_replace", item: func() string { return "label " + r.in.String() },
			ok: func() { have.labels[r.in] = r }})
	}
	for _, in := range p.labelDelete {
		cs = append(cs, change{req: func() *nl.NetlinkRequest { return labelRouteDeleteRequest(in) }, op: "delete", kind: "label_delete", item: func() string { return "label " + in.String() }, gone: true,
			ok: func() { delete(have.labels, in) }})
	}
	for _, o := range p.nexthopAdd {
		cs = append(cs, change{req: func() *nl.NetlinkRequest { return nexthopRequest(o, flagsAdd) }, op: "add", kind: "nexthop_add", item: func() string { return nexthopItem(o.id, o.hop) },
			ok: func() { have.nexthops[o.id] = o.hop; have.usedIDs[o.id] = true }})
	}
	for _, o := range p.nexthopReplace {
		cs = append(cs, change{req: func() *nl.NetlinkRequest { return nexthopRequest(o, flagsReplace) }, op: "replace", kind: "nexthop_replace", item: func() string { return nexthopItem(o.id, o.hop) },
			ok: func() { have.nexthops[o.id] = o.hop }})
	}
	for _, g := range p.groupAdd {
		cs = append(cs, change{req: func() *nl.NetlinkRequest { return groupRequest(g, flagsAdd) }, op: "add", kind: "group_add", item: func() string { return groupItem(g) },
			ok: func() { have.groups[g.id] = g.members; have.usedIDs[g.id] = true }})
	}
	for _, g := range p.groupReplace {
		cs = append(cs, change{req: func() *nl.NetlinkRequest { return groupRequest(g, flagsReplace) }, op: "replace", kind: "group_replace", item: func() string { return groupItem(g) },
			ok: func() { have.groups[g.id] = g.members }})
	}
	for _, r := range p.routeAdd {
		cs = append(cs, change{req: func() *nl.NetlinkRequest { return prefixRouteRequest(f.target, r, flagsAdd) }, op: "add", kind: "route_add", item: func() string { return routeItem(r) },
			ok: func() { have.routes[r.prefix] = r.nhid }})
	}
	for _, r := range p.routeReplace {
		cs = append(cs, change{req: func() *nl.NetlinkRequest { return prefixRouteRequest(f.target, r, flagsReplace) }, op: "replace", kind: "route_replace", item: func() string { return routeItem(r) },
			ok: func() { have.routes[r.prefix] = r.nhid }})
	}
	for _, pfx := range p.routeDelete {
		cs = append(cs, change{req: func() *nl.NetlinkRequest { return prefixRouteDeleteRequest(f.target, pfx) }, op: "delete", kind: "route_delete", item: func() string { return "prefix " + pfx.String() }, gone: true,
			ok: func() { delete(have.routes, pfx) }})
	}
	return cs
}

func (f *FIB) nexthopDelete(id uint32, group bool) change {
	have := f.have
	item := "nexthop " + strconv.FormatUint(uint64(id), 10)
	if group {
		item = "nexthop group " + strconv.FormatUint(uint64(id), 10)
	}
	return change{req: func() *nl.NetlinkRequest { return nexthopDeleteRequest(id) }, op: "delete", kind: "nexthop_delete", item: func() string { return item }, gone: true,
		ok: func() { delete(have.nexthops, id); delete(have.groups, id); delete(have.usedIDs, id) }}
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

func routeItem(r prefixRoute) string {
	return "prefix " + r.prefix.String() + " (nexthop " + strconv.FormatUint(uint64(r.nhid), 10) + ")"
}

// Status is a snapshot of what the FIB believes it has programmed.
type Status struct {
	Labels   int  `json:"labels"`   // MPLS label routes
	Prefixes int  `json:"prefixes"` // IP routes
	Nexthops int  `json:"nexthops"` // single nexthop objects
	Groups   int  `json:"groups"`   // nexthop groups
	Stale    bool `json:"stale"`
	// Requests the last pass sent to the kernel: 0 when it found nothing
	// to do, 1 for a relabel of an LSP however many prefixes use it.
	LastPassRequests int `json:"last_pass_requests"`
	// Requests sent to the kernel since start, every pass together.
	Requests uint64 `json:"requests"`
	// Time the last pass spent sending requests and reading the answers
	// (the rest is reading the kernel and diffing).
	LastPassKernelTime time.Duration `json:"last_pass_kernel_ns"`
}

// Status reports the cached view of lsrd's kernel state, for lsrctl and
// metrics.
func (f *FIB) Status() Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return Status{Labels: len(f.have.labels), Prefixes: len(f.have.routes), Nexthops: len(f.have.nexthops),
		Groups: len(f.have.groups), Stale: f.stale || f.dirty.Load(), LastPassRequests: f.sent, Requests: f.total,
		LastPassKernelTime: f.kernelTime}
}
