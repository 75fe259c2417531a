package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/ldp/fec"
	"github.com/lsrd/lsrd/lspping"
	"github.com/lsrd/lsrd/oam"
)

// startLSPPing opens LSP ping's sockets and serves them until ctx ends, in
// wg. A router that cannot (no CAP_NET_RAW, port 3503 taken) runs without
// it and says so once.
func (d *Daemon) startLSPPing(ctx context.Context, wg *sync.WaitGroup) {
	svc, err := oam.Listen(d.log, oamState{d})
	if err != nil {
		d.log.Warn("lsp ping: responder and prober unavailable", "err", err)
		return
	}
	d.oam = svc
	wg.Add(1)
	go func() {
		defer wg.Done()
		svc.Run(ctx)
		svc.Close()
	}()
}

// oamState answers the responder: labels and FECs from the LIB (on the
// speaker's goroutine), next hops from the forwarding table (on the
// daemon's).
type oamState struct{ d *Daemon }

// oamWait bounds one lookup: a responder must not queue behind a busy
// speaker for long.
const oamWait = time.Second

func (s oamState) Label(in uint32) (oam.LabelInfo, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), oamWait)
	defer cancel()
	var f fec.FEC
	var bound, ok bool
	if s.d.sp.Call(ctx, func() { f, bound, ok = s.d.lib.FECOfLabel(fib.Label(in)) }) != nil || !ok {
		return oam.LabelInfo{}, false
	}
	info := oam.LabelInfo{FEC: f.Prefix(), Bound: bound}
	var nhs []fib.NextHop
	_ = s.d.call(ctx, func() {
		if e, ok := s.d.fwd.label(fib.Label(in)); ok {
			nhs = slices.Clone(e.NextHops)
		}
	})
	for _, nh := range nhs {
		info.Downstream = append(info.Downstream, oamDownstream(nh))
	}
	return info, true
}

func (s oamState) Egress(p netip.Prefix) bool {
	ctx, cancel := context.WithTimeout(context.Background(), oamWait)
	defer cancel()
	var egress bool
	_ = s.d.sp.Call(ctx, func() { _, egress, _ = s.d.lib.Binding(fec.Prefix(p)) })
	return egress || ownHost(p)
}

// ownHost: p is a host prefix of one of this router's addresses.
func ownHost(p netip.Prefix) bool {
	if !p.IsSingleIP() {
		return false
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap() == p.Addr() {
				return true
			}
		}
	}
	return false
}

func oamDownstream(nh fib.NextHop) oam.Downstream {
	ds := oam.Downstream{NextHop: nh.Addr, Ifname: nh.Ifname}
	if ifi, err := net.InterfaceByName(nh.Ifname); err == nil {
		ds.MTU = ifi.MTU
	}
	for _, l := range nh.Labels {
		if l != fib.LabelImplicitNull {
			ds.Labels = append(ds.Labels, uint32(l))
		}
	}
	return ds
}

// lspPath is where an echo request for a FEC leaves this router: its LDP
// forwarding entry's first next hop and labels, or, for a FEC whose next hop
// is its egress (no label to push), the route's first next hop.
func (d *Daemon) lspPath(ctx context.Context, p netip.Prefix) (api.LSPPath, error) {
	var path api.LSPPath
	var err error
	cerr := d.call(ctx, func() {
		if e, ok := d.fwd.entry(p); ok && len(e.NextHops) > 0 {
			nh := e.NextHops[0]
			path = api.LSPPath{NextHop: nh.Addr, Interface: nh.Ifname}
			for _, l := range nh.Labels {
				if l != fib.LabelImplicitNull {
					path.Labels = append(path.Labels, uint32(l))
				}
			}
			return
		}
		r, ok := d.rib.Best(p)
		if !ok || len(r.NextHops) == 0 || !r.NextHops[0].Addr.IsValid() {
			err = fmt.Errorf("no LSP and no route for %s", p)
			return
		}
		path = api.LSPPath{NextHop: r.NextHops[0].Addr, Interface: r.NextHops[0].Ifname}
	})
	return path, errors.Join(cerr, err)
}

// lspProbe sends one echo request for p along path.
func (d *Daemon) lspProbe(ctx context.Context, p netip.Prefix, path api.LSPPath, ttl uint8, downstream bool, timeout time.Duration) oam.Result {
	return d.oam.Send(ctx, oam.Probe{FEC: p, Src: d.cfg.RouterID, Labels: path.Labels, TTL: ttl,
		Ifname: path.Interface, NextHop: path.NextHop, Downstream: downstream, Timeout: timeout})
}

// decodeBody reads a JSON request body of at most 64 KB into v.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	return nil
}

// handleLSPPing answers POST /v1/lsp/ping and /v1/lsp/traceroute.
func (d *Daemon) handleLSPPing(trace bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req api.LSPPingRequest
		if err := decodeBody(r, &req); err != nil {
			replyStatus(w, http.StatusBadRequest, nil, err)
			return
		}
		if err := req.Normalize(trace); err != nil {
			replyStatus(w, http.StatusBadRequest, nil, err)
			return
		}
		if d.oam == nil {
			replyStatus(w, http.StatusServiceUnavailable, nil, errors.New("lsp ping is unavailable on this router (see lsrd's log at start)"))
			return
		}
		p := req.FEC
		path, err := d.lspPath(r.Context(), p)
		if err != nil {
			replyStatus(w, http.StatusNotFound, nil, err)
			return
		}
		out := api.LSPPingView{FEC: p, Path: path, Results: []oam.Result{}}
		timeout := time.Duration(req.TimeoutMS) * time.Millisecond
		if !trace {
			for i := 0; i < req.Count && r.Context().Err() == nil; i++ {
				if i > 0 {
					time.Sleep(time.Duration(req.IntervalMS) * time.Millisecond)
				}
				out.Results = append(out.Results, d.lspProbe(r.Context(), p, path, 255, false, timeout))
			}
			reply(w, out, nil)
			return
		}
		for ttl := 1; ttl <= req.MaxTTL && r.Context().Err() == nil; ttl++ {
			res := d.lspProbe(r.Context(), p, path, uint8(ttl), true, timeout)
			out.Results = append(out.Results, res)
			if res.Replied && res.ReturnCode != lspping.RCLabelSwitched {
				break // the egress, or a hop that says the path ends
			}
			if len(path.Labels) == 0 {
				break // no label: the next hop is the egress, one probe says it all
			}
		}
		reply(w, out, nil)
	}
}
