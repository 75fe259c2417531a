package zerotier

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// KeyFileSize is the length of a world signing key file as ZeroTier's mkworld
// writes it (previous.c25519, current.c25519): the public key, then the
// private key.
const KeyFileSize = PublicKeySize + PrivateKeySize

// KeyPair is a C25519 key pair: X25519 and Ed25519 together, as ZeroTier uses
// them. The private half is the X25519 private key then the Ed25519 seed.
type KeyPair struct {
	Public  PublicKey
	Private [PrivateKeySize]byte
}

// GenerateKeyPair makes a new key pair from r (crypto/rand when nil).
func GenerateKeyPair(r io.Reader) (*KeyPair, error) {
	if r == nil {
		r = rand.Reader
	}
	kp := &KeyPair{}
	if _, err := io.ReadFull(r, kp.Private[:]); err != nil {
		return nil, fmt.Errorf("generate key pair: %w", err)
	}
	pub, err := derivePublic(kp.Private)
	if err != nil {
		return nil, fmt.Errorf("generate key pair: %w", err)
	}
	kp.Public = pub
	return kp, nil
}

// derivePublic computes the public key of a private key.
func derivePublic(priv [PrivateKeySize]byte) (PublicKey, error) {
	var pub PublicKey
	x, err := ecdh.X25519().NewPrivateKey(priv[:32])
	if err != nil {
		return pub, fmt.Errorf("X25519 private key: %w", err)
	}
	copy(pub[:32], x.PublicKey().Bytes())
	ed := ed25519.NewKeyFromSeed(priv[32:])
	copy(pub[32:], ed.Public().(ed25519.PublicKey))
	return pub, nil
}

// UnmarshalKeyPair reads a key pair in the key file form; name is used in errors.
// It checks that the public key belongs to the private key.
func UnmarshalKeyPair(name string, b []byte) (*KeyPair, error) {
	if len(b) != KeyFileSize {
		return nil, fmt.Errorf("key file %s: %d bytes, want %d (64-byte public key then 64-byte private key, as mkworld writes)", name, len(b), KeyFileSize)
	}
	kp := &KeyPair{}
	copy(kp.Public[:], b[:PublicKeySize])
	copy(kp.Private[:], b[PublicKeySize:])
	pub, err := derivePublic(kp.Private)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", name, err)
	}
	if pub != kp.Public {
		return nil, fmt.Errorf("key file %s: the public key (bytes 0-63) does not belong to the private key (bytes 64-127)", name)
	}
	return kp, nil
}

// Marshal returns the key pair in the key file form.
func (kp *KeyPair) Marshal() []byte {
	return append(append([]byte(nil), kp.Public[:]...), kp.Private[:]...)
}

// ReadKeyFile reads a key pair from a file in mkworld's form.
func ReadKeyFile(path string) (*KeyPair, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	return UnmarshalKeyPair(path, b)
}

// WriteKeyFile writes kp to a new file at path, readable by its owner only.
// It never overwrites: a signing key lost is a planet that can never be
// updated.
func WriteKeyFile(path string, kp *KeyPair) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("key file: %w", err)
	}
	if _, err := f.Write(kp.Marshal()); err != nil {
		f.Close()
		return fmt.Errorf("key file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("key file %s: %w", path, err)
	}
	return nil
}

// LoadOrCreateKeys reads the previous (signing) and current (next update)
// key files. When neither exists it generates one key pair and writes it to
// both, as mkworld does for a new world; created says so. When only one
// exists it refuses rather than guess.
func LoadOrCreateKeys(previousPath, currentPath string) (previous, current *KeyPair, created bool, err error) {
	_, perr := os.Stat(previousPath)
	_, cerr := os.Stat(currentPath)
	pAbsent, cAbsent := errors.Is(perr, fs.ErrNotExist), errors.Is(cerr, fs.ErrNotExist)
	switch {
	case pAbsent && cAbsent:
		kp, err := GenerateKeyPair(nil)
		if err != nil {
			return nil, nil, false, err
		}
		if err := WriteKeyFile(previousPath, kp); err != nil {
			return nil, nil, false, err
		}
		if err := WriteKeyFile(currentPath, kp); err != nil {
			return nil, nil, false, err
		}
		return kp, kp, true, nil
	case pAbsent:
		return nil, nil, false, fmt.Errorf("key file %s is missing but %s exists: copy the key that signed the last world there (or remove both to start a new world)", previousPath, currentPath)
	case cAbsent:
		return nil, nil, false, fmt.Errorf("key file %s is missing but %s exists: put the key that must sign the next world there", currentPath, previousPath)
	}
	if previous, err = ReadKeyFile(previousPath); err != nil {
		return nil, nil, false, err
	}
	if current, err = ReadKeyFile(currentPath); err != nil {
		return nil, nil, false, err
	}
	return previous, current, false, nil
}

// digest is what ZeroTier's C25519::sign signs: the first 32 bytes of the
// SHA-512 of the message.
func digest(msg []byte) []byte {
	h := sha512.Sum512(msg)
	return h[:32]
}

// Sign signs w with kp and stores the signature in w.
func (w *World) Sign(kp *KeyPair) error {
	msg, err := w.signedMessage()
	if err != nil {
		return err
	}
	d := digest(msg)
	sig := ed25519.Sign(ed25519.NewKeyFromSeed(kp.Private[32:]), d)
	copy(w.Signature[:64], sig)
	copy(w.Signature[64:], d)
	return nil
}

// ErrBadSignature is wrapped by every error of Verify that means the
// signature does not match.
var ErrBadSignature = errors.New("signature does not verify")

// Verify checks w's signature against the public key pub. A world is signed
// by the previous world's update key; a new world's first version is usually
// signed by its own (mkworld's previous and current keys start out equal).
func (w *World) Verify(pub PublicKey) error {
	msg, err := w.signedMessage()
	if err != nil {
		return err
	}
	d := digest(msg)
	if subtle.ConstantTimeCompare(d, w.Signature[64:]) != 1 {
		return fmt.Errorf("%w: the world's contents do not match the digest it was signed over (signature bytes 64-95): the file was changed after signing", ErrBadSignature)
	}
	if !ed25519.Verify(ed25519.PublicKey(pub[32:]), d, w.Signature[:64]) {
		if bytes.Equal(pub[:], w.UpdateKey[:]) {
			return fmt.Errorf("%w: not signed by the key in its own update key field (%s, first 8 bytes): either signed by an earlier key or the signature was altered", ErrBadSignature, hex.EncodeToString(pub[:8]))
		}
		return fmt.Errorf("%w: not signed by key %s (first 8 bytes)", ErrBadSignature, hex.EncodeToString(pub[:8]))
	}
	return nil
}
