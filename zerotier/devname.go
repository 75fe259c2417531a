// Package zerotier holds what lsrd knows about the ZeroTier underlay: how
// ZeroTier One names its Linux devices, its local service API (client and
// health checks), and planet files (the signed world format, made and checked
// byte for byte as ZeroTier's mkworld does).
// It never touches lsrd's routing state or the kernel; it only describes the
// overlay.
package zerotier

import (
	"fmt"
	"strconv"
	"strings"
)

// base32Alphabet is the lower-case RFC 4648 alphabet ZeroTier One uses for Linux
// device names (osdep/LinuxEthernetTap.cpp).
const base32Alphabet = "abcdefghijklmnopqrstuvwxyz234567"

// DeviceName returns the Linux device name ZeroTier One gives the tap interface of
// network nwid: "zt" followed by the base32 form of the network ID's top 40 bits
// XORed with its low 40 bits. Every member of a network gets the same name, which
// is why an operator can write the name in a config shared by all routers.
func DeviceName(nwid uint64) string {
	folded := (nwid >> 24) ^ (nwid & (1<<40 - 1))
	var b strings.Builder
	b.WriteString("zt")
	for shift := 35; shift >= 0; shift -= 5 {
		b.WriteByte(base32Alphabet[(folded>>uint(shift))&0x1f])
	}
	return b.String()
}

// ParseNetworkID parses a ZeroTier network ID written as 16 hexadecimal digits.
func ParseNetworkID(s string) (uint64, error) {
	if len(s) != 16 {
		return 0, fmt.Errorf("zerotier network ID %q: want 16 hex digits, have %d characters", s, len(s))
	}
	id, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("zerotier network ID %q: not hexadecimal", s)
	}
	return id, nil
}

// IsDeviceName reports whether name has the shape of a ZeroTier One Linux device
// name: "zt" and eight characters of the base32 alphabet.
func IsDeviceName(name string) bool {
	if len(name) != 10 || !strings.HasPrefix(name, "zt") {
		return false
	}
	for _, c := range name[2:] {
		if !strings.ContainsRune(base32Alphabet, c) {
			return false
		}
	}
	return true
}
