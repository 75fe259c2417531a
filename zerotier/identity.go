package zerotier

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Address is a ZeroTier node address: 40 bits, written as 10 hex digits.
type Address uint64

func (a Address) String() string { return fmt.Sprintf("%010x", uint64(a)) }

// check rejects the addresses ZeroTier reserves: zero and those whose first
// byte is 0xff (Address::isReserved).
func (a Address) check() error {
	if a == 0 || a>>32 == 0xff || a >= 1<<40 {
		return fmt.Errorf("address %s is reserved (zero, or first byte ff)", a)
	}
	return nil
}

// Identity is a ZeroTier node identity of type 0 (C25519): its address and
// public key. ZeroTier derives the address from the key with a memory-hard
// hash; lsrd does not recompute it, so a mistyped key with a valid address is
// only caught by the node that loads the world.
type Identity struct {
	Address Address
	Public  PublicKey
}

// String returns the identity in ZeroTier's text form, address:0:public-key.
func (id Identity) String() string {
	return id.Address.String() + ":0:" + hex.EncodeToString(id.Public[:])
}

func (id Identity) appendTo(b []byte) []byte {
	a := uint64(id.Address)
	b = append(b, byte(a>>32), byte(a>>24), byte(a>>16), byte(a>>8), byte(a))
	b = append(b, identityTypeC25519)
	b = append(b, id.Public[:]...)
	return append(b, 0) // no private key in a world
}

// ParseIdentity parses an identity as identity.public (or identity.secret)
// holds it: "address:0:public-key-hex", optionally followed by
// ":private-key-hex", which is checked for shape and then dropped (a world
// carries public identities only).
func ParseIdentity(s string) (Identity, error) {
	var id Identity
	s = strings.TrimSpace(s)
	f := strings.Split(s, ":")
	if len(f) != 3 && len(f) != 4 {
		return id, fmt.Errorf("identity %q: want address:0:public-key (3 fields separated by ':'), have %d fields", abbrev(s), len(f))
	}
	if len(f[0]) != 10 {
		return id, fmt.Errorf("identity %q: address %q: want 10 hex digits", abbrev(s), f[0])
	}
	a, err := strconv.ParseUint(f[0], 16, 64)
	if err != nil {
		return id, fmt.Errorf("identity %q: address %q is not hexadecimal", abbrev(s), f[0])
	}
	id.Address = Address(a)
	if err := id.Address.check(); err != nil {
		return id, fmt.Errorf("identity %q: %w", abbrev(s), err)
	}
	if f[1] != "0" {
		return id, fmt.Errorf("identity %q: type %q: only type 0 (C25519) exists", abbrev(s), f[1])
	}
	if err := decodeHexKey(f[2], id.Public[:]); err != nil {
		return id, fmt.Errorf("identity %q: public key: %w", abbrev(s), err)
	}
	if len(f) == 4 {
		var priv [PrivateKeySize]byte
		if err := decodeHexKey(f[3], priv[:]); err != nil {
			return id, fmt.Errorf("identity %q: private key: %w", abbrev(s), err)
		}
	}
	return id, nil
}

func decodeHexKey(s string, dst []byte) error {
	if len(s) != 2*len(dst) {
		return fmt.Errorf("want %d hex digits (%d bytes), have %d characters", 2*len(dst), len(dst), len(s))
	}
	if _, err := hex.Decode(dst, []byte(s)); err != nil {
		return fmt.Errorf("not hexadecimal: %w", err)
	}
	return nil
}

// abbrev shortens a long input for an error message.
func abbrev(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}
