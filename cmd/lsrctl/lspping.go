package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/spf13/cobra"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/ctl"
	"github.com/lsrd/lsrd/lspping"
)

// addLSPPing adds "ping mpls" and "traceroute mpls" (RFC 8029) to root.
func (a *app) addLSPPing(root *cobra.Command) {
	var req api.LSPPingRequest
	ping := group("ping", "Send echo requests")
	pingMPLS := &cobra.Command{
		Use:   "mpls PREFIX",
		Short: "LSP ping an LDP FEC: echo requests down its LSP, answered by the egress (RFC 8029)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.lspPing(cmd.Context(), args[0], req, false)
		},
	}
	pingMPLS.Flags().IntVarP(&req.Count, "count", "c", 3, "echo requests to send")
	pingMPLS.Flags().IntVar(&req.IntervalMS, "interval-ms", 1000, "milliseconds between them")
	pingMPLS.Flags().IntVar(&req.TimeoutMS, "wait-ms", 2000, "milliseconds to wait for each reply")
	ping.AddCommand(pingMPLS)
	trace := group("traceroute", "Trace paths")
	traceMPLS := &cobra.Command{
		Use:   "mpls PREFIX",
		Short: "LSP traceroute an LDP FEC: one echo request per label TTL, each router on the path answers (RFC 8029)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.lspPing(cmd.Context(), args[0], req, true)
		},
	}
	traceMPLS.Flags().IntVar(&req.MaxTTL, "max-ttl", 16, "the last TTL to try")
	traceMPLS.Flags().IntVar(&req.TimeoutMS, "wait-ms", 2000, "milliseconds to wait for each reply")
	trace.AddCommand(traceMPLS)
	root.AddCommand(ping, trace)
}

// errNoEgress makes lsrctl exit 1 when the egress never answered.
var errNoEgress = errors.New("no echo reply from the FEC's egress")

func (a *app) lspPing(ctx context.Context, arg string, req api.LSPPingRequest, trace bool) error {
	p, err := netip.ParsePrefix(arg)
	if err != nil {
		addr, aerr := netip.ParseAddr(arg)
		if aerr != nil {
			return usageError{fmt.Errorf("%q: not a prefix or address", arg)}
		}
		p = netip.PrefixFrom(addr, addr.BitLen())
	}
	req.FEC = p
	if !trace {
		req.MaxTTL = 0
	} else {
		req.Count, req.IntervalMS = 0, 0
	}
	check := req
	if err := check.Normalize(trace); err != nil {
		return usageError{err}
	}
	// The whole exchange may take longer than one API call's timeout.
	budget := time.Duration(check.Count*(check.IntervalMS+check.TimeoutMS)) * time.Millisecond
	if trace {
		budget = time.Duration(check.MaxTTL*check.TimeoutMS) * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, a.timeout+budget)
	defer cancel()
	path := "/v1/lsp/ping"
	if trace {
		path = "/v1/lsp/traceroute"
	}
	var v api.LSPPingView
	if err := a.client().PostJSON(ctx, path, req, &v); err != nil {
		return err
	}
	err = a.emit(v, func(w io.Writer) error {
		if trace {
			return ctl.LSPTraceroute(w, v)
		}
		return ctl.LSPPing(w, v)
	})
	if err != nil {
		return err
	}
	for _, r := range v.Results {
		if r.Replied && r.ReturnCode == lspping.RCEgress {
			return nil
		}
	}
	return errNoEgress
}
