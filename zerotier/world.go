package zerotier

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// WorldType says whether a world is a planet (the roots every node uses) or a
// moon (extra roots a node orbits on request). The values are ZeroTier's own
// (node/World.hpp) and appear on the wire.
type WorldType uint8

// World types.
const (
	WorldPlanet WorldType = 1
	WorldMoon   WorldType = 127
)

func (t WorldType) String() string {
	switch t {
	case WorldPlanet:
		return "planet"
	case WorldMoon:
		return "moon"
	}
	return fmt.Sprintf("type %d", uint8(t))
}

// Limits of ZeroTier One (node/Constants.hpp): a node refuses worlds beyond them.
const (
	MaxRoots                   = 4
	MaxEndpointsPerRoot        = 32
	PublicKeySize              = 64 // X25519 public key, then Ed25519 public key
	PrivateKeySize             = 64 // X25519 private key, then Ed25519 seed
	SignatureSize              = 96 // Ed25519 signature, then the 32 signed digest bytes
	identityTypeC25519         = 0
	endpointIPv4               = 0x04
	endpointIPv6               = 0x06
	worldHeaderSize            = 1 + 8 + 8 + PublicKeySize + SignatureSize
	signPrefix          uint64 = 0x7f7f7f7f7f7f7f7f
	signSuffix          uint64 = 0xf7f7f7f7f7f7f7f7
)

// PublicKey is a ZeroTier C25519 public key: the X25519 key (32 bytes) used
// for key agreement, then the Ed25519 key (32 bytes) used for signatures.
type PublicKey [PublicKeySize]byte

// Signature is a ZeroTier C25519 signature: 64 bytes of Ed25519 signature over
// a digest, then the 32-byte digest itself.
type Signature [SignatureSize]byte

// Root is one root server of a world and the addresses it is always reachable at.
type Root struct {
	Identity  Identity
	Endpoints []netip.AddrPort
}

// World is a ZeroTier planet or moon: the signed list of root servers nodes
// use to find each other. The planet file /var/lib/zerotier-one/planet holds
// one in the binary form Marshal writes.
type World struct {
	Type      WorldType
	ID        uint64
	Timestamp uint64 // milliseconds since the Unix epoch; a newer world replaces an older one of the same ID
	// UpdateKey is the public key that must sign the next world with this ID.
	UpdateKey PublicKey
	Signature Signature
	Roots     []Root
}

// DecodeError says where in a world's bytes decoding failed and why.
type DecodeError struct {
	Offset int
	Reason string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("world: at byte %d: %s", e.Offset, e.Reason)
}

// check reports the first way w breaks ZeroTier's limits.
func (w *World) check() error {
	if w.Type != WorldPlanet && w.Type != WorldMoon {
		return fmt.Errorf("world type %d: want 1 (planet) or 127 (moon)", uint8(w.Type))
	}
	if len(w.Roots) > MaxRoots {
		return fmt.Errorf("world has %d roots: ZeroTier allows at most %d", len(w.Roots), MaxRoots)
	}
	for i, r := range w.Roots {
		if len(r.Endpoints) > MaxEndpointsPerRoot {
			return fmt.Errorf("root %d (%s) has %d endpoints: ZeroTier allows at most %d", i+1, r.Identity.Address, len(r.Endpoints), MaxEndpointsPerRoot)
		}
		for _, ep := range r.Endpoints {
			if !ep.IsValid() || ep.Addr().Zone() != "" {
				return fmt.Errorf("root %d (%s): endpoint %q is not an IP address and port", i+1, r.Identity.Address, ep)
			}
		}
		if err := r.Identity.Address.check(); err != nil {
			return fmt.Errorf("root %d: %w", i+1, err)
		}
	}
	return nil
}

// Marshal returns w in ZeroTier's binary form, as a planet file holds it.
func (w *World) Marshal() ([]byte, error) {
	if err := w.check(); err != nil {
		return nil, err
	}
	return w.appendTo(nil, false), nil
}

// signedMessage returns the bytes the signature covers: w without its
// signature between two 8-byte markers (World::serialize with forSign).
func (w *World) signedMessage() ([]byte, error) {
	if err := w.check(); err != nil {
		return nil, err
	}
	b := binary.BigEndian.AppendUint64(nil, signPrefix)
	b = w.appendTo(b, true)
	return binary.BigEndian.AppendUint64(b, signSuffix), nil
}

func (w *World) appendTo(b []byte, forSign bool) []byte {
	b = append(b, byte(w.Type))
	b = binary.BigEndian.AppendUint64(b, w.ID)
	b = binary.BigEndian.AppendUint64(b, w.Timestamp)
	b = append(b, w.UpdateKey[:]...)
	if !forSign {
		b = append(b, w.Signature[:]...)
	}
	b = append(b, byte(len(w.Roots)))
	for _, r := range w.Roots {
		b = r.Identity.appendTo(b)
		b = append(b, byte(len(r.Endpoints)))
		for _, ep := range r.Endpoints {
			b = appendEndpoint(b, ep)
		}
	}
	if w.Type == WorldMoon {
		b = append(b, 0, 0) // length of the attached dictionary, reserved by ZeroTier
	}
	return b
}

func appendEndpoint(b []byte, ep netip.AddrPort) []byte {
	a := ep.Addr()
	if a.Is4() {
		b = append(b, endpointIPv4)
		s := a.As4()
		b = append(b, s[:]...)
	} else {
		b = append(b, endpointIPv6)
		s := a.As16()
		b = append(b, s[:]...)
	}
	return binary.BigEndian.AppendUint16(b, ep.Port())
}

// Unmarshal decodes a world in ZeroTier's binary form. It accepts exactly one
// world and nothing after it; errors are *DecodeError naming the offset.
func Unmarshal(b []byte) (*World, error) {
	d := decoder{b: b}
	w := &World{}
	t := d.u8("world type")
	if d.err == nil && t != byte(WorldPlanet) && t != byte(WorldMoon) {
		d.fail(0, fmt.Sprintf("world type %d: want 1 (planet) or 127 (moon)", t))
	}
	w.Type = WorldType(t)
	w.ID = d.u64("world ID")
	w.Timestamp = d.u64("timestamp")
	copy(w.UpdateKey[:], d.bytes(PublicKeySize, "update key"))
	copy(w.Signature[:], d.bytes(SignatureSize, "signature"))
	at := d.off
	n := int(d.u8("root count"))
	if d.err == nil && n > MaxRoots {
		d.fail(at, fmt.Sprintf("%d roots: ZeroTier allows at most %d", n, MaxRoots))
	}
	for i := 0; i < n && d.err == nil; i++ {
		w.Roots = append(w.Roots, d.root(i+1))
	}
	if w.Type == WorldMoon {
		at := d.off
		if l := d.u16("moon dictionary length"); d.err == nil && l != 0 {
			d.fail(at, fmt.Sprintf("moon carries a %d-byte dictionary: no ZeroTier version defines one", l))
		}
	}
	if d.err == nil && d.off != len(b) {
		d.fail(d.off, fmt.Sprintf("%d bytes after the end of the world", len(b)-d.off))
	}
	if d.err != nil {
		return nil, d.err
	}
	return w, nil
}

// decoder reads big-endian fields and keeps the first error.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(at int, reason string) {
	if d.err == nil {
		d.err = &DecodeError{Offset: at, Reason: reason}
	}
}

func (d *decoder) bytes(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b)-d.off < n {
		d.fail(d.off, fmt.Sprintf("truncated: %s needs %d bytes, %d left", what, n, len(d.b)-d.off))
		return nil
	}
	s := d.b[d.off : d.off+n]
	d.off += n
	return s
}

func (d *decoder) u8(what string) uint8 {
	if s := d.bytes(1, what); s != nil {
		return s[0]
	}
	return 0
}

func (d *decoder) u16(what string) uint16 {
	if s := d.bytes(2, what); s != nil {
		return binary.BigEndian.Uint16(s)
	}
	return 0
}

func (d *decoder) u64(what string) uint64 {
	if s := d.bytes(8, what); s != nil {
		return binary.BigEndian.Uint64(s)
	}
	return 0
}

func (d *decoder) root(i int) Root {
	var r Root
	what := fmt.Sprintf("root %d", i)
	at := d.off
	for _, c := range d.bytes(5, what+" address") {
		r.Identity.Address = r.Identity.Address<<8 | Address(c)
	}
	if t := d.u8(what + " identity type"); d.err == nil && t != identityTypeC25519 {
		d.fail(d.off-1, fmt.Sprintf("%s identity type %d: want 0 (C25519)", what, t))
	}
	copy(r.Identity.Public[:], d.bytes(PublicKeySize, what+" public key"))
	if l := d.u8(what + " private key length"); d.err == nil && l != 0 {
		d.fail(d.off-1, fmt.Sprintf("%s identity carries a private key (length %d): a world holds public identities only", what, l))
	}
	if d.err == nil {
		if err := r.Identity.Address.check(); err != nil {
			d.fail(at, fmt.Sprintf("%s: %v", what, err))
		}
	}
	at = d.off
	n := int(d.u8(what + " endpoint count"))
	if d.err == nil && n > MaxEndpointsPerRoot {
		d.fail(at, fmt.Sprintf("%s has %d endpoints: ZeroTier allows at most %d", what, n, MaxEndpointsPerRoot))
	}
	for k := 0; k < n && d.err == nil; k++ {
		at := d.off
		ew := fmt.Sprintf("%s endpoint %d", what, k+1)
		var a netip.Addr
		switch t := d.u8(ew + " type"); {
		case d.err != nil:
		case t == endpointIPv4:
			if s := d.bytes(4, ew+" IPv4 address"); s != nil {
				a = netip.AddrFrom4([4]byte(s))
			}
		case t == endpointIPv6:
			if s := d.bytes(16, ew+" IPv6 address"); s != nil {
				a = netip.AddrFrom16([16]byte(s))
			}
		default:
			d.fail(at, fmt.Sprintf("%s: address type 0x%02x: want 0x04 (IPv4) or 0x06 (IPv6)", ew, t))
		}
		port := d.u16(ew + " port")
		if d.err == nil {
			r.Endpoints = append(r.Endpoints, netip.AddrPortFrom(a, port))
		}
	}
	return r
}
