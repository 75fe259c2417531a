package netlinkfib

import (
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// EnsureVRF makes sure the VRF device name exists with table and is up. A
// missing device is created (created true); one that exists as a VRF of
// that table is adopted as it is. Any other device of that name, or a VRF
// of another table, is an error: lsrd never repurposes a device it did not
// make.
func EnsureVRF(h *netlink.Handle, name string, table uint32) (created bool, err error) {
	l, err := h.LinkByName(name)
	var notFound netlink.LinkNotFoundError
	switch {
	case errors.As(err, &notFound):
		v := &netlink.Vrf{LinkAttrs: netlink.LinkAttrs{Name: name}, Table: table}
		if err := h.LinkAdd(v); err != nil {
			return false, fmt.Errorf("creating VRF %s (table %d): %w", name, table, err)
		}
		created = true
		if l, err = h.LinkByName(name); err != nil {
			return created, fmt.Errorf("VRF %s: %w", name, err)
		}
	case err != nil:
		return false, fmt.Errorf("VRF %s: %w", name, err)
	default:
		v, ok := l.(*netlink.Vrf)
		if !ok {
			return false, fmt.Errorf("VRF %s: a device of that name exists and is a %s, not a VRF", name, l.Type())
		}
		if v.Table != table {
			return false, fmt.Errorf("VRF %s exists with table %d, not %d: change the configuration or the device", name, v.Table, table)
		}
	}
	if l.Attrs().OperState != netlink.OperUp || l.Attrs().RawFlags&unix.IFF_UP == 0 {
		if err := h.LinkSetUp(l); err != nil {
			return created, fmt.Errorf("VRF %s: setting it up: %w", name, err)
		}
	}
	return created, nil
}

// Enslave puts the interface ifname into the VRF device vrf; nothing changes
// when it is there already.
func Enslave(h *netlink.Handle, ifname, vrf string) error {
	l, err := h.LinkByName(ifname)
	if err != nil {
		return fmt.Errorf("interface %s: %w", ifname, err)
	}
	v, err := h.LinkByName(vrf)
	if err != nil {
		return fmt.Errorf("VRF %s: %w", vrf, err)
	}
	if l.Attrs().MasterIndex == v.Attrs().Index {
		return nil
	}
	if err := h.LinkSetMasterByIndex(l, v.Attrs().Index); err != nil {
		return fmt.Errorf("putting %s into VRF %s: %w", ifname, vrf, err)
	}
	return nil
}
