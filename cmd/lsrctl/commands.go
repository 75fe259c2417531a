package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/ctl"
	"github.com/lsrd/lsrd/internal/version"
)

// app is one lsrctl invocation: the command tree and the global flags.
type app struct {
	root           *cobra.Command
	stdout         io.Writer
	socket, output string
	timeout        time.Duration
	peer, fec      string
	detail         bool
	label          string
	soft, vrf      string
	// ran is set once cobra accepted the command line: an error after that
	// comes from lsrd or the connection (exit 1), before it from usage (2).
	ran bool
	now func() time.Time
}

func newApp(stdout, stderr io.Writer) *app {
	a := &app{stdout: stdout, now: time.Now}
	socket := os.Getenv("LSRD_SOCKET")
	if socket == "" {
		socket = ctl.DefaultSocket
	}
	root := &cobra.Command{
		Use:           "lsrctl",
		Short:         "Inspect and control a running lsrd through its control socket",
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.NoArgs,
		RunE:          needSubcommand,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			a.ran = true
			if a.output != "table" && a.output != "json" {
				return usageError{fmt.Errorf("-o %q: want table or json", a.output)}
			}
			return nil
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.PersistentFlags().StringVar(&a.socket, "socket", socket, "lsrd's control socket (env LSRD_SOCKET)")
	root.PersistentFlags().StringVarP(&a.output, "output", "o", "table", "output format: table or json")
	root.PersistentFlags().DurationVar(&a.timeout, "timeout", 10*time.Second, "give up on lsrd after this long")
	a.root = root

	show := group("show", "Show lsrd's state")
	showLDP := group("ldp", "Show LDP sessions, adjacencies, bindings and interfaces")
	showFIB := group("fib", "Show the kernel FIB layer")
	clear := group("clear", "Reset state in lsrd")
	clearLDP := group("ldp", "Reset LDP state")
	root.AddCommand(show, clear)
	show.AddCommand(showLDP, showFIB)
	clear.AddCommand(clearLDP)

	neighbors := a.leaf("neighbors", "LDP neighbours and their sessions", a.showNeighbors)
	neighbors.Aliases = []string{"neighbor", "neighbours"}
	neighbors.Flags().StringVar(&a.peer, "peer", "", "only the neighbour with this LSR ID")
	neighbors.Flags().BoolVar(&a.detail, "detail", false, "everything about each session: endpoints, authentication, timers, parameters, capabilities, messages, adjacencies")
	discovery := a.leaf("discovery", "LDP Hello adjacencies", a.showDiscovery)
	discovery.Flags().StringVar(&a.peer, "peer", "", "only the adjacencies of the neighbour with this LSR ID")
	bindings := a.leaf("bindings", "label bindings (the LIB)", a.showBindings)
	bindings.Aliases = []string{"binding"}
	bindings.Flags().StringVar(&a.peer, "peer", "", "only labels from the neighbour with this LSR ID")
	bindings.Flags().StringVar(&a.fec, "fec", "", "only this FEC or the FECs containing this prefix or address")
	bindings.Flags().StringVar(&a.label, "label", "", "only bindings with this local or remote label")
	bindings.Flags().BoolVar(&a.detail, "detail", false, "per FEC: the local label, the neighbours it was advertised to, every neighbour's label")
	showLDP.AddCommand(neighbors, discovery, bindings,
		a.leaf("interfaces", "interfaces, LDP and MPLS input", a.showInterfaces),
		a.leaf("stats", "LIB counters", a.showStats))

	lfib := a.leaf("lfib", "the label table (LFIB) and the FTN lsrd wants in the kernel", a.showLFIB)
	lfib.Flags().StringVar(&a.fec, "fec", "", "only FTN entries for this prefix or containing it")
	lfib.Flags().StringVar(&a.label, "label", "", "only LFIB entries for this incoming label")
	rib := a.leaf("rib", "the routes lsrd knows", a.showRIB)
	rib.Flags().StringVar(&a.fec, "fec", "", "only routes for this prefix or containing it")
	show.AddCommand(lfib, rib)
	a.addZeroTier(root, show)
	show.AddCommand(a.leaf("running-config", "the configuration lsrd runs: defaults filled in, passwords redacted", a.showRunningConfig))
	a.addLSPPing(root)
	showFIB.AddCommand(a.leaf("status", "what the kernel FIB layer has programmed", a.showFIBStatus))
	showBGP := group("bgp", "Show the BGP speaker's neighbours and routes")
	show.AddCommand(showBGP)
	bgpNeighbors := a.leaf("neighbors", "BGP neighbours and their sessions", a.showBGPNeighbors)
	bgpNeighbors.Aliases = []string{"neighbor", "neighbours"}
	bgpNeighbors.Flags().StringVar(&a.peer, "peer", "", "only the neighbour with this address")
	bgpNeighbors.Flags().BoolVar(&a.detail, "detail", false, "everything about each session: endpoints, timers, capabilities, messages, counts per family")
	bgpRoutes := a.leaf("routes", "BGP paths, best first", a.showBGPRoutes)
	bgpRoutes.Aliases = []string{"route"}
	bgpRoutes.Flags().StringVar(&a.peer, "peer", "", "only paths from the neighbour with this address")
	bgpRoutes.Flags().StringVar(&a.fec, "fec", "", "only this prefix or the prefixes containing this address")
	bgpRoutes.Flags().StringVar(&a.label, "label", "", "only labelled-unicast paths with this label")
	received := a.adjLeaf("received-routes", "paths a neighbour sent, before the import policy (its Adj-RIB-In)", "in")
	received.Aliases = []string{"adj-in"}
	advertised := a.adjLeaf("advertised-routes", "paths sent to a neighbour, after the export policy (its Adj-RIB-Out)", "out")
	advertised.Aliases = []string{"adj-out"}
	bgpVPN := a.leaf("vpn", "VPN routes (VPNv4, VPNv6): received, with the VRFs importing them, and exported", a.showBGPVPN)
	bgpVPN.Flags().StringVar(&a.vrf, "vrf", "", "only routes this VRF imports")
	showBGP.AddCommand(bgpNeighbors, bgpRoutes, received, advertised, bgpVPN)
	vrf := a.leaf("vrf", "VRFs: table, RD, route targets, label and route counts", a.showVRF)
	vrf.Aliases = []string{"vrfs"}
	show.AddCommand(vrf)
	clearBGP := &cobra.Command{
		Use:   "bgp NEIGHBOR",
		Short: "Reset the BGP session with a neighbour: hard (Cease, it re-forms) or --soft",
		Args:  exactArgs(1),
		RunE:  a.clearBGP,
	}
	clearBGP.Flags().StringVar(&a.soft, "soft", "", "soft reset instead: in (re-apply the import policy), out (send every path again) or both")
	clear.AddCommand(clearBGP)

	clearNeighbor := &cobra.Command{
		Use:   "neighbor LSR-ID",
		Short: "Close the LDP session with a neighbour (it re-forms)",
		Args:  exactArgs(1),
		RunE:  a.clearNeighbor,
	}
	clearNeighbor.Aliases = []string{"neighbour"}
	clearLDP.AddCommand(clearNeighbor)

	root.AddCommand(&cobra.Command{
		Use: "reload", Short: "Make lsrd re-read its configuration", Args: exactArgs(0), RunE: a.reload,
	}, &cobra.Command{
		Use: "version", Short: "Print lsrctl's version and the running lsrd's", Args: exactArgs(0),
		RunE: a.version,
	}, &cobra.Command{
		Use:   "log-level [debug|info|warn|error]",
		Short: "Show lsrd's log level, or change it until the next reload or restart",
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cobra.RangeArgs(0, 1)(cmd, args); err != nil {
				return usageError{err}
			}
			return nil
		},
		ValidArgs: []string{"debug", "info", "warn", "error"},
		RunE:      a.logLevel,
	})
	return a
}

// group is a command that only holds subcommands.
func group(use, short string) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs, RunE: needSubcommand}
}

func needSubcommand(cmd *cobra.Command, _ []string) error {
	return usageError{fmt.Errorf("%s: missing subcommand", cmd.CommandPath())}
}

// exactArgs is cobra.ExactArgs as a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

func (a *app) leaf(use, short string, run func(context.Context, *ctl.Client, ctl.Filter) error) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := a.filter()
			if err != nil {
				return usageError{err}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), a.timeout)
			defer cancel()
			return run(ctx, a.client(), f)
		}}
}

func (a *app) client() *ctl.Client { return ctl.NewClient(a.socket, a.timeout) }

// filter reads --peer, --fec and --label.
func (a *app) filter() (ctl.Filter, error) {
	var f ctl.Filter
	var err error
	if a.peer != "" {
		if f.Peer, err = ctl.ParsePeer(a.peer); err != nil {
			return f, err
		}
	}
	if a.fec != "" {
		if f.FEC, err = ctl.ParseFEC(a.fec); err != nil {
			return f, err
		}
	}
	if a.label != "" {
		if f.Label, err = ctl.ParseLabel(a.label); err != nil {
			return f, err
		}
		f.HasLabel = true
	}
	return f, nil
}

// emit writes v as indented JSON with -o json, else calls table.
func (a *app) emit(v any, table func(io.Writer) error) error {
	if a.output == "json" {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	return table(a.stdout)
}

func (a *app) neighbors(ctx context.Context, c *ctl.Client, f ctl.Filter) ([]api.LDPNeighbor, error) {
	var ns []api.LDPNeighbor
	if _, err := c.GetInto(ctx, "/v1/ldp/neighbors", &ns); err != nil {
		return nil, err
	}
	ns = f.Neighbors(ns)
	if f.Peer.IsValid() && len(ns) == 0 {
		return nil, fmt.Errorf("no LDP neighbour %s (lsrctl show ldp neighbors lists them)", f.Peer)
	}
	return ns, nil
}

func (a *app) showNeighbors(ctx context.Context, c *ctl.Client, f ctl.Filter) error {
	ns, err := a.neighbors(ctx, c, f)
	if err != nil {
		return err
	}
	if a.detail {
		return a.emit(ns, func(w io.Writer) error { return ctl.NeighborDetail(w, ns, a.now()) })
	}
	return a.emit(ns, func(w io.Writer) error { return ctl.Neighbors(w, ns, a.now()) })
}

func (a *app) showDiscovery(ctx context.Context, c *ctl.Client, f ctl.Filter) error {
	ns, err := a.neighbors(ctx, c, f)
	if err != nil {
		return err
	}
	return a.emit(ns, func(w io.Writer) error { return ctl.Discovery(w, ns, a.now()) })
}

func (a *app) showBindings(ctx context.Context, c *ctl.Client, f ctl.Filter) error {
	var bs []api.LDPBinding
	if _, err := c.GetInto(ctx, "/v1/ldp/bindings", &bs); err != nil {
		return err
	}
	bs = f.Bindings(bs)
	if err := ctl.NoMatch(f, len(bs), "LDP binding", "show ldp bindings"); err != nil {
		return err
	}
	if a.detail {
		return a.emit(bs, func(w io.Writer) error { return ctl.BindingDetail(w, bs) })
	}
	return a.emit(bs, func(w io.Writer) error { return ctl.Bindings(w, bs) })
}

func (a *app) showInterfaces(ctx context.Context, c *ctl.Client, _ ctl.Filter) error {
	var is []api.InterfaceView
	if _, err := c.GetInto(ctx, "/v1/interfaces", &is); err != nil {
		return err
	}
	return a.emit(is, func(w io.Writer) error { return ctl.Interfaces(w, is) })
}

func (a *app) showStats(ctx context.Context, c *ctl.Client, _ ctl.Filter) error {
	var s api.LIBStats
	if _, err := c.GetInto(ctx, "/v1/ldp/stats", &s); err != nil {
		return err
	}
	return a.emit(s, func(w io.Writer) error { return ctl.Stats(w, s) })
}

func (a *app) showLFIB(ctx context.Context, c *ctl.Client, f ctl.Filter) error {
	var v api.TableView
	if _, err := c.GetInto(ctx, "/v1/lfib", &v); err != nil {
		return err
	}
	v = f.Table(v)
	if err := ctl.NoMatch(f, len(v.LFIB)+len(v.FTN), "LFIB or FTN entry", "show lfib"); err != nil {
		return err
	}
	return a.emit(v, func(w io.Writer) error { return ctl.LFIB(w, v) })
}

func (a *app) showRIB(ctx context.Context, c *ctl.Client, f ctl.Filter) error {
	raw, err := c.Get(ctx, "/v1/rib")
	if err != nil {
		return err
	}
	rs, err := ctl.DecodeRoutes(raw)
	if err != nil {
		return err
	}
	rs = f.Routes(rs)
	if err := ctl.NoMatch(f, len(rs), "route", "show rib"); err != nil {
		return err
	}
	return a.emit(rs, func(w io.Writer) error { return ctl.RIB(w, rs) })
}

func (a *app) showFIBStatus(ctx context.Context, c *ctl.Client, _ ctl.Filter) error {
	var s api.FIBStatus
	if _, err := c.GetInto(ctx, "/v1/fib/status", &s); err != nil {
		return err
	}
	return a.emit(s, func(w io.Writer) error { return ctl.FIBStatus(w, s) })
}

func (a *app) showBGPNeighbors(ctx context.Context, c *ctl.Client, f ctl.Filter) error {
	var ns []api.BGPNeighbor
	if _, err := c.GetInto(ctx, "/v1/bgp/neighbors", &ns); err != nil {
		return err
	}
	ns = f.BGPNeighbors(ns)
	if f.Peer.IsValid() && len(ns) == 0 {
		return fmt.Errorf("no BGP neighbour %s (lsrctl show bgp neighbors lists them)", f.Peer)
	}
	if a.detail {
		return a.emit(ns, func(w io.Writer) error { return ctl.BGPNeighborDetail(w, ns, a.now()) })
	}
	return a.emit(ns, func(w io.Writer) error { return ctl.BGPNeighbors(w, ns) })
}

func (a *app) showBGPRoutes(ctx context.Context, c *ctl.Client, f ctl.Filter) error {
	var rs []api.BGPRoute
	if _, err := c.GetInto(ctx, "/v1/bgp/routes", &rs); err != nil {
		return err
	}
	rs = f.BGPRoutes(rs)
	if err := ctl.NoMatch(f, len(rs), "BGP path", "show bgp routes"); err != nil {
		return err
	}
	return a.emit(rs, func(w io.Writer) error { return ctl.BGPRoutes(w, rs) })
}

func (a *app) showVRF(ctx context.Context, c *ctl.Client, _ ctl.Filter) error {
	var vs []api.VRF
	if _, err := c.GetInto(ctx, "/v1/vrfs", &vs); err != nil {
		return err
	}
	return a.emit(vs, func(w io.Writer) error { return ctl.VRFs(w, vs) })
}

func (a *app) showBGPVPN(ctx context.Context, c *ctl.Client, _ ctl.Filter) error {
	var rs []api.VPNRoute
	if _, err := c.GetInto(ctx, "/v1/bgp/vpn", &rs); err != nil {
		return err
	}
	if a.vrf != "" {
		rs = slices.DeleteFunc(rs, func(r api.VPNRoute) bool { return !slices.Contains(r.VRFs, a.vrf) })
	}
	return a.emit(rs, func(w io.Writer) error { return ctl.VPNRoutes(w, rs) })
}

// adjLeaf is "show bgp received-routes|advertised-routes NEIGHBOR".
func (a *app) adjLeaf(use, short, table string) *cobra.Command {
	c := &cobra.Command{Use: use + " NEIGHBOR", Short: short, Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := netip.ParseAddr(args[0])
			if err != nil {
				return usageError{fmt.Errorf("neighbor %q: not an address", args[0])}
			}
			f, err := a.filter()
			if err != nil {
				return usageError{err}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), a.timeout)
			defer cancel()
			var rs []api.BGPRoute
			if _, err := a.client().GetInto(ctx, "/v1/bgp/neighbors/"+url.PathEscape(addr.String())+"/routes?table="+table, &rs); err != nil {
				return err
			}
			rs = f.BGPRoutes(rs)
			return a.emit(rs, func(w io.Writer) error { return ctl.BGPRoutes(w, rs) })
		}}
	c.Flags().StringVar(&a.fec, "fec", "", "only this prefix or the prefixes containing this address")
	c.Flags().StringVar(&a.label, "label", "", "only labelled-unicast paths with this label")
	return c
}

func (a *app) clearBGP(cmd *cobra.Command, args []string) error {
	addr, err := netip.ParseAddr(args[0])
	if err != nil {
		return usageError{fmt.Errorf("neighbor %q: not an address", args[0])}
	}
	switch a.soft {
	case "", "in", "out", "both":
	default:
		return usageError{fmt.Errorf("--soft %q: want in, out or both", a.soft)}
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), a.timeout)
	defer cancel()
	path := "/v1/bgp/neighbors/" + url.PathEscape(addr.String()) + "/reset"
	if a.soft != "" {
		path += "?soft=" + a.soft
	}
	raw, err := a.client().Post(ctx, path)
	if err != nil {
		return err
	}
	var v api.BGPReset
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("lsrd's answer to clear bgp %s: %w", addr, err)
	}
	return a.emit(v, func(w io.Writer) error {
		if v.Soft == "" {
			_, err := fmt.Fprintf(w, "reset the BGP session with %s (it re-forms)\n", addr)
			return err
		}
		_, err := fmt.Fprintf(w, "soft reset (%s) of the BGP session with %s\n", v.Soft, addr)
		return err
	})
}

func (a *app) clearNeighbor(cmd *cobra.Command, args []string) error {
	id, err := ctl.ParsePeer(args[0])
	if err != nil {
		return usageError{fmt.Errorf("neighbor %q: not an LSR ID (an IPv4 address)", args[0])}
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), a.timeout)
	defer cancel()
	raw, err := a.client().Post(ctx, "/v1/ldp/neighbors/"+url.PathEscape(id.String())+"/clear")
	if err != nil {
		return err
	}
	var v map[string]string
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("lsrd's answer to clear neighbor %s: %w", id, err)
	}
	return a.emit(v, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "cleared the session with neighbor %s\n", id)
		return err
	})
}

func (a *app) reload(cmd *cobra.Command, _ []string) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), a.timeout)
	defer cancel()
	raw, err := a.client().Post(ctx, "/v1/reload")
	if err != nil {
		return err
	}
	var v map[string]bool
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("lsrd's answer to reload: %w", err)
	}
	return a.emit(v, func(w io.Writer) error {
		_, err := fmt.Fprintln(w, "lsrd reloaded its configuration")
		return err
	})
}

// version prints lsrctl's version and, when lsrd answers, the daemon's.
func (a *app) version(cmd *cobra.Command, _ []string) error {
	v := map[string]string{"lsrctl": version.Of(stamped)}
	ctx, cancel := context.WithTimeout(cmd.Context(), a.timeout)
	defer cancel()
	var d api.VersionView
	_, err := a.client().GetInto(ctx, "/v1/version", &d)
	if err == nil {
		v["lsrd"] = d.Version
	}
	return a.emit(v, func(w io.Writer) error {
		fmt.Fprintln(w, "lsrctl", v["lsrctl"])
		if err != nil {
			_, err := fmt.Fprintln(w, "lsrd   (not reached:", err.Error()+")")
			return err
		}
		_, err := fmt.Fprintf(w, "lsrd   %s (%s, started %s)\n", d.Version, d.GoVersion, d.Started.Format(time.RFC3339))
		return err
	})
}

// logLevel shows or sets lsrd's log level.
func (a *app) logLevel(cmd *cobra.Command, args []string) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), a.timeout)
	defer cancel()
	var v api.LogLevel
	var err error
	if len(args) == 1 {
		err = a.client().PostJSON(ctx, "/v1/log-level", api.LogLevel{Level: args[0]}, &v)
	} else {
		_, err = a.client().GetInto(ctx, "/v1/log-level", &v)
	}
	if err != nil {
		return err
	}
	return a.emit(v, func(w io.Writer) error {
		_, err := fmt.Fprintln(w, "log level:", v.Level)
		return err
	})
}

func (a *app) showRunningConfig(ctx context.Context, c *ctl.Client, _ ctl.Filter) error {
	var v api.RunningConfig
	if _, err := c.GetInto(ctx, "/v1/config", &v); err != nil {
		return err
	}
	return a.emit(v, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "# %s, as lsrd runs it (defaults filled in, passwords redacted)\n%s", v.Path, v.YAML)
		return err
	})
}
