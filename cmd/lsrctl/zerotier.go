package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/ctl"
	"github.com/lsrd/lsrd/zerotier"
)

// addZeroTier adds "zerotier planet create|inspect" to root and
// "show zerotier" to show.
func (a *app) addZeroTier(root, show *cobra.Command) {
	zt := group("zerotier", "ZeroTier underlay tools: private planet files")
	planet := group("planet", "Create and inspect ZeroTier planet files (world.bin) without building mkworld")
	zt.AddCommand(planet)
	root.AddCommand(zt)

	var specPath, outPath string
	create := &cobra.Command{
		Use:   "create --spec FILE -o world.bin",
		Short: "Make a signed planet from a spec file, byte for byte as ZeroTier's mkworld does",
		Long: `Make a signed planet from a spec file, byte for byte as ZeroTier's mkworld does.

The spec is YAML:

  id: 0x6c737264            # world ID (not 0)
  timestamp: 1764000000000  # ms since the epoch; raise it for every update
  previous-key: previous.c25519  # signs this planet (default; beside the spec)
  current-key: current.c25519    # must sign the next one (default; beside the spec)
  roots:                    # 1 to 4 roots
    - identity: 3a46f1bf30:0:76e6...   # the root's identity.public
      endpoints: ["192.0.2.10/9993", "2001:db8::10/9993"]   # up to 32

When neither key file exists, one key pair is generated and written to both
(mode 0600), as mkworld does: keep them; without previous.c25519's successor
the planet can never be updated.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if specPath == "" || outPath == "" {
				return usageError{fmt.Errorf("%s: --spec FILE and -o FILE are both required", cmd.CommandPath())}
			}
			return a.planetCreate(specPath, outPath)
		},
	}
	create.Flags().StringVarP(&specPath, "spec", "s", "", "the planet spec (YAML)")
	// Named "output" so that it takes the place of the global -o/--output
	// format flag here: the command writes a file, not a table.
	create.Flags().StringVarP(&outPath, "output", "o", "", "where to write the planet (world.bin)")

	var keyPath string
	inspect := &cobra.Command{
		Use:   "inspect FILE",
		Short: "Show a planet file's roots, endpoints, timestamp and update key, and verify its signature",
		Long: `Show a planet file's roots, endpoints, timestamp and update key, and verify its
signature. Without --key the signature is checked against the planet's own
update key, which holds for a planet signed with the key it names for its next
update (mkworld's previous and current keys start equal); give --key the key
file or the earlier planet whose update key signed it otherwise.
Exit status 1 when the file does not decode or the signature does not verify.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.planetInspect(args[0], keyPath)
		},
	}
	inspect.Flags().StringVar(&keyPath, "key", "", "verify against this key file (.c25519) or the update key of this earlier planet file")
	planet.AddCommand(create, inspect)

	show.AddCommand(a.leaf("zerotier", "the ZeroTier underlay: service, planet, networks and health checks", a.showZeroTier))
}

func (a *app) showZeroTier(ctx context.Context, c *ctl.Client, _ ctl.Filter) error {
	var v api.ZeroTierView
	// The data plane is probed afresh for the operator (a second or two).
	if _, err := c.GetInto(ctx, "/v1/zerotier?probe=1", &v); err != nil {
		return err
	}
	return a.emit(v, func(w io.Writer) error { return ctl.ZeroTier(w, v) })
}

func (a *app) planetCreate(specPath, outPath string) error {
	res, err := zerotier.BuildFromSpecFile(specPath)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(outPath, res.Bytes, 0o644); err != nil {
		return err
	}
	w := res.World
	if res.KeysCreated {
		fmt.Fprintf(a.stdout, "generated a new signing key pair in %s and %s (mode 0600): keep them secret and backed up\n", res.PreviousKey, res.CurrentKey)
	}
	fmt.Fprintf(a.stdout, "wrote %s (%d bytes): %s %#x, timestamp %d, %d roots; signed with %s, updates must be signed by %s\n",
		outPath, len(res.Bytes), w.Type, w.ID, w.Timestamp, len(w.Roots), res.PreviousKey, res.CurrentKey)
	return nil
}

// writeFileAtomic writes b to a temporary file beside path and renames it,
// so that a node never reads half a planet.
func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// planetView is a planet as "zerotier planet inspect -o json" shows it.
type planetView struct {
	File           string     `json:"file"`
	Type           string     `json:"type"`
	ID             uint64     `json:"id"`
	Timestamp      uint64     `json:"timestamp"`
	Time           time.Time  `json:"time"`
	UpdateKey      string     `json:"update_key"`
	Signature      string     `json:"signature"`
	VerifiedWith   string     `json:"verified_with"`
	SignatureValid bool       `json:"signature_valid"`
	SignatureError string     `json:"signature_error,omitempty"`
	Roots          []rootView `json:"roots"`
}

type rootView struct {
	Address   string   `json:"address"`
	Identity  string   `json:"identity"`
	Endpoints []string `json:"endpoints"`
}

func (a *app) planetInspect(path, keyPath string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("planet: %w", err)
	}
	w, err := zerotier.Unmarshal(b)
	if err != nil {
		return fmt.Errorf("planet %s: %w", path, err)
	}
	key, keyName := w.UpdateKey, "its own update key"
	if keyPath != "" {
		if key, err = verificationKey(keyPath); err != nil {
			return err
		}
		keyName = keyPath
	}
	v := planetView{File: path, Type: w.Type.String(), ID: w.ID, Timestamp: w.Timestamp,
		Time:      time.UnixMilli(int64(w.Timestamp)).UTC(),
		UpdateKey: hex.EncodeToString(w.UpdateKey[:]), Signature: hex.EncodeToString(w.Signature[:]),
		VerifiedWith: keyName, Roots: []rootView{}}
	verr := w.Verify(key)
	v.SignatureValid = verr == nil
	if verr != nil {
		v.SignatureError = verr.Error()
	}
	for _, r := range w.Roots {
		rv := rootView{Address: r.Identity.Address.String(), Identity: r.Identity.String(), Endpoints: []string{}}
		for _, e := range r.Endpoints {
			rv.Endpoints = append(rv.Endpoints, fmt.Sprintf("%s/%d", e.Addr(), e.Port()))
		}
		v.Roots = append(v.Roots, rv)
	}
	if err := a.emit(v, func(out io.Writer) error { return planetTable(out, v) }); err != nil {
		return err
	}
	if verr != nil {
		return fmt.Errorf("planet %s: %w", path, verr)
	}
	return nil
}

// verificationKey reads a public key from a key file (128 bytes) or from the
// update key of a planet file.
func verificationKey(path string) (zerotier.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return zerotier.PublicKey{}, fmt.Errorf("--key: %w", err)
	}
	if len(b) == zerotier.KeyFileSize {
		kp, err := zerotier.UnmarshalKeyPair(path, b)
		if err != nil {
			return zerotier.PublicKey{}, fmt.Errorf("--key: %w", err)
		}
		return kp.Public, nil
	}
	w, err := zerotier.Unmarshal(b)
	if err != nil {
		return zerotier.PublicKey{}, fmt.Errorf("--key %s: neither a 128-byte key file nor a planet (%v)", path, err)
	}
	return w.UpdateKey, nil
}

func planetTable(out io.Writer, v planetView) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "File:\t%s\n", v.File)
	fmt.Fprintf(tw, "Type:\t%s\n", v.Type)
	fmt.Fprintf(tw, "World ID:\t%d (%#x)\n", v.ID, v.ID)
	fmt.Fprintf(tw, "Timestamp:\t%d (%s)\n", v.Timestamp, v.Time.Format(time.RFC3339))
	fmt.Fprintf(tw, "Update key:\t%s\n", v.UpdateKey)
	sig := "valid (checked with " + v.VerifiedWith + ")"
	if !v.SignatureValid {
		sig = "INVALID: " + v.SignatureError
	}
	fmt.Fprintf(tw, "Signature:\t%s\n", sig)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "\n")
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROOT\tENDPOINTS\tPUBLIC KEY")
	for _, r := range v.Roots {
		pub := strings.TrimPrefix(r.Identity, r.Address+":0:")
		fmt.Fprintf(tw, "%s\t%s\t%s...\n", r.Address, strings.Join(r.Endpoints, " "), pub[:16])
	}
	return tw.Flush()
}
