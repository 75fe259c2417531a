package zerotier

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lsrd/lsrd/internal/strictyaml"
)

// Spec is what an operator writes to describe a planet: the inputs ZeroTier's
// mkworld takes from its source code, in a small YAML file.
//
//	type: planet               # or moon; planet when absent
//	id: 0x6c737264             # world ID; any value but 0
//	timestamp: 1764000000000   # ms since the epoch; raise it for every update
//	previous-key: previous.c25519  # signs this world (default, beside the spec)
//	current-key: current.c25519    # must sign the next one (default, beside the spec)
//	roots:
//	  - identity: 3a46f1bf30:0:76e6...
//	    endpoints: ["192.0.2.10/9993", "2001:db8::10/9993"]
type Spec struct {
	Type        string     `yaml:"type"`
	ID          uint64     `yaml:"id"`
	Timestamp   uint64     `yaml:"timestamp"`
	PreviousKey string     `yaml:"previous-key"`
	CurrentKey  string     `yaml:"current-key"`
	Roots       []SpecRoot `yaml:"roots"`
}

// SpecRoot is one root server in a Spec.
type SpecRoot struct {
	// Identity is the root's identity.public (address:0:public-key).
	Identity string `yaml:"identity"`
	// Endpoints are its stable addresses as ip/port (ZeroTier's form) or ip:port.
	Endpoints []string `yaml:"endpoints"`
}

// ParseSpec reads a spec; name is used in errors. Unknown keys are rejected.
func ParseSpec(name string, b []byte) (*Spec, error) {
	var s Spec
	if err := strictyaml.Decode(name, quoteFlowEndpoints(b), &s); err != nil {
		if errors.Is(err, strictyaml.ErrEmpty) {
			return nil, fmt.Errorf("%s: empty planet spec: id, timestamp and roots are required", name)
		}
		return nil, err
	}
	if s.Type == "" {
		s.Type = "planet"
	}
	if s.PreviousKey == "" {
		s.PreviousKey = "previous.c25519"
	}
	if s.CurrentKey == "" {
		s.CurrentKey = "current.c25519"
	}
	return &s, nil
}

// quoteFlowEndpoints quotes the bare items of "endpoints: [...]" lines, so
// that the documented flow form takes IPv6 endpoints: YAML cannot read an
// unquoted item that starts with a colon, such as [::1/9993]. Line numbers
// stay as they were, for error messages.
func quoteFlowEndpoints(b []byte) []byte {
	lines := strings.Split(string(b), "\n")
	for i, line := range lines {
		key, rest, ok := strings.Cut(line, "endpoints:")
		if !ok || strings.Trim(key, " -") != "" {
			continue
		}
		rest = strings.TrimSpace(rest)
		comment := ""
		if j := strings.Index(rest, "]"); j >= 0 {
			rest, comment = rest[:j+1], rest[j+1:]
		}
		if !strings.HasPrefix(rest, "[") || !strings.HasSuffix(rest, "]") {
			continue
		}
		items := strings.Split(rest[1:len(rest)-1], ",")
		for k, it := range items {
			it = strings.TrimSpace(it)
			if it != "" && !strings.ContainsAny(it[:1], `"'`) {
				it = strconv.Quote(it)
			}
			items[k] = it
		}
		lines[i] = key + "endpoints: [" + strings.Join(items, ", ") + "]" + comment
	}
	return []byte(strings.Join(lines, "\n"))
}

func specError(field string, value any, why string) error {
	return fmt.Errorf("field %s: %v: %s", field, value, why)
}

// World returns the unsigned world the spec describes.
func (s *Spec) World() (*World, error) {
	w := &World{ID: s.ID, Timestamp: s.Timestamp}
	switch s.Type {
	case "planet":
		w.Type = WorldPlanet
	case "moon":
		w.Type = WorldMoon
	default:
		return nil, specError("type", s.Type, "must be planet or moon")
	}
	if s.ID == 0 {
		return nil, specError("id", 0, "a world ID is required and may not be 0 (ZeroTier's null world)")
	}
	if s.Timestamp == 0 {
		return nil, specError("timestamp", 0, "required: milliseconds since the epoch, higher than the world it replaces")
	}
	if len(s.Roots) == 0 {
		return nil, specError("roots", "none", "a world needs at least one root")
	}
	if len(s.Roots) > MaxRoots {
		return nil, specError("roots", fmt.Sprintf("%d roots", len(s.Roots)), fmt.Sprintf("ZeroTier allows at most %d", MaxRoots))
	}
	seen := map[Address]int{}
	for i, sr := range s.Roots {
		f := fmt.Sprintf("roots[%d]", i)
		id, err := ParseIdentity(sr.Identity)
		if err != nil {
			return nil, fmt.Errorf("field %s.identity: %w", f, err)
		}
		if j, dup := seen[id.Address]; dup {
			return nil, specError(f+".identity", id.Address, fmt.Sprintf("same address as roots[%d]", j))
		}
		seen[id.Address] = i
		if len(sr.Endpoints) == 0 {
			return nil, specError(f+".endpoints", "none", "a root needs at least one stable endpoint")
		}
		if len(sr.Endpoints) > MaxEndpointsPerRoot {
			return nil, specError(f+".endpoints", fmt.Sprintf("%d endpoints", len(sr.Endpoints)), fmt.Sprintf("ZeroTier allows at most %d per root", MaxEndpointsPerRoot))
		}
		r := Root{Identity: id}
		for k, e := range sr.Endpoints {
			ep, err := ParseEndpoint(e)
			if err != nil {
				return nil, fmt.Errorf("field %s.endpoints[%d]: %w", f, k, err)
			}
			r.Endpoints = append(r.Endpoints, ep)
		}
		w.Roots = append(w.Roots, r)
	}
	return w, nil
}

// ParseEndpoint parses a root's stable endpoint written as ZeroTier writes
// it, ip/port, or as ip:port ([v6]:port).
func ParseEndpoint(s string) (netip.AddrPort, error) {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		a, err := netip.ParseAddr(s[:i])
		if err != nil || a.Zone() != "" {
			return netip.AddrPort{}, fmt.Errorf("endpoint %q: %q is not an IP address", s, s[:i])
		}
		p, err := strconv.ParseUint(s[i+1:], 10, 16)
		if err != nil || p == 0 {
			return netip.AddrPort{}, fmt.Errorf("endpoint %q: port %q: want 1-65535", s, s[i+1:])
		}
		return netip.AddrPortFrom(a, uint16(p)), nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil || ap.Port() == 0 || ap.Addr().Zone() != "" {
		return netip.AddrPort{}, fmt.Errorf("endpoint %q: want ip/port, like 192.0.2.10/9993 or 2001:db8::10/9993", s)
	}
	return ap, nil
}

// BuildResult is a world made from a spec file.
type BuildResult struct {
	World *World
	// Bytes is the world in its file form.
	Bytes []byte
	// KeysCreated is set when the key files did not exist and were generated.
	KeysCreated bool
	// PreviousKey and CurrentKey are the key files used.
	PreviousKey, CurrentKey string
}

// BuildFromSpecFile reads the spec at path, loads its key files (relative
// paths are relative to the spec's folder; generated when both are absent)
// and returns the signed world: the bytes ZeroTier's mkworld makes from the
// same inputs.
func BuildFromSpecFile(path string) (*BuildResult, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("planet spec: %w", err)
	}
	s, err := ParseSpec(path, b)
	if err != nil {
		return nil, err
	}
	w, err := s.World()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dir := filepath.Dir(path)
	rel := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	res := &BuildResult{World: w, PreviousKey: rel(s.PreviousKey), CurrentKey: rel(s.CurrentKey)}
	prev, cur, created, err := LoadOrCreateKeys(res.PreviousKey, res.CurrentKey)
	if err != nil {
		return nil, err
	}
	res.KeysCreated = created
	w.UpdateKey = cur.Public
	if err := w.Sign(prev); err != nil {
		return nil, err
	}
	if res.Bytes, err = w.Marshal(); err != nil {
		return nil, err
	}
	return res, nil
}
