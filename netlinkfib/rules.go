package netlinkfib

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// syncRules keeps one policy rule per address family that looks up the
// ingress table before the main table, while the desired state has
// something there of that family, and none otherwise. The rules carry
// lsrd's protocol (FRA_PROTOCOL), so that lsrd only ever removes its own.
// Called with f.mu held.
func (f *FIB) syncRules(want desiredState) *ItemError {
	if f.ingress.table == 0 {
		return nil
	}
	wanted := map[int]bool{}
	note := func(p netip.Prefix) {
		if p.Addr().Is4() {
			wanted[unix.AF_INET] = true
		} else {
			wanted[unix.AF_INET6] = true
		}
	}
	for p := range want.ingress {
		note(p)
	}
	for p := range want.throws {
		note(p)
	}
	// The rules were read and made right on an earlier pass, and nothing
	// wanted changed since: only a pass that re-reads the kernel reads
	// them again (reconcile clears rulesKnown then).
	if f.rulesKnown && f.rulesWanted == [2]bool{wanted[unix.AF_INET], wanted[unix.AF_INET6]} {
		return nil
	}
	f.rulesKnown = false
	h, err := f.ruleHandle()
	if err != nil {
		return &ItemError{Item: "ingress rule", Op: "read", Err: err}
	}
	for _, fam := range []int{unix.AF_INET, unix.AF_INET6} {
		filter := &netlink.Rule{Table: int(f.ingress.table)}
		rules, err := h.RuleListFiltered(fam, filter, netlink.RT_FILTER_TABLE)
		if err != nil {
			return &ItemError{Item: "ingress rule", Op: "read", Err: err}
		}
		have := false
		for _, r := range rules {
			switch {
			case r.Protocol != f.own.proto:
			case wanted[fam] && !have && r.Priority == f.rulePriority:
				have = true
			default:
				if err := h.RuleDel(&r); err != nil {
					return &ItemError{Item: ruleItem(fam, r.Priority, r.Table), Op: "delete", Err: err}
				}
				f.log.Info("netlinkfib: removed the ingress table's rule", "family", familyName(fam), "priority", r.Priority, "table", r.Table)
			}
		}
		if wanted[fam] && !have {
			r := netlink.NewRule()
			r.Family, r.Table, r.Priority, r.Protocol = fam, int(f.ingress.table), f.rulePriority, f.own.proto
			if err := h.RuleAdd(r); err != nil {
				return &ItemError{Item: ruleItem(fam, r.Priority, r.Table), Op: "add", Err: err}
			}
			f.log.Info("netlinkfib: added the ingress table's rule", "family", familyName(fam), "priority", r.Priority, "table", r.Table)
		}
	}
	f.rulesKnown, f.rulesWanted = true, [2]bool{wanted[unix.AF_INET], wanted[unix.AF_INET6]}
	return nil
}

// ruleHandle opens, once, the netlink handle rules are managed through, in
// the FIB's namespace.
func (f *FIB) ruleHandle() (*netlink.Handle, error) {
	if f.rules != nil {
		return f.rules, nil
	}
	var h *netlink.Handle
	var err error
	if f.ns.IsOpen() {
		h, err = netlink.NewHandleAt(f.ns, unix.NETLINK_ROUTE)
	} else {
		h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
	}
	if err != nil {
		return nil, fmt.Errorf("opening a netlink handle for rules: %w", err)
	}
	f.rules = h
	return h, nil
}

func ruleItem(fam, priority, table int) string {
	return fmt.Sprintf("%s rule %d lookup %d", familyName(fam), priority, table)
}

func familyName(fam int) string {
	if fam == unix.AF_INET6 {
		return "ipv6"
	}
	return "ipv4"
}
