package daemon

import (
	"context"
	"net/netip"

	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/bgp"
	"github.com/lsrd/lsrd/ldp"
)

// serveControl answers the control API on the configured Unix socket until
// ctx ends. The socket is created mode 0600 (root only): it can reset
// sessions and reload the configuration.
func (d *Daemon) serveControl(ctx context.Context) error {
	path := d.cfg.Control.Socket
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("control socket %s: %w", path, err)
	}
	// A socket file left by a crashed lsrd would make bind fail.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("control socket %s: %w", path, err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("control socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return fmt.Errorf("control socket %s: %w", path, err)
	}
	srv := &http.Server{Handler: d.controlMux(), ReadHeaderTimeout: 5 * time.Second}
	close(d.controlUp) // accepted connections queue until Serve takes them
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	err = srv.Serve(l)
	os.Remove(path)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (d *Daemon) controlMux() *http.ServeMux {
	mux := http.NewServeMux()
	// Each answer is read on the goroutine that owns the state it shows:
	// the speaker's for LDP, the daemon's for the RIB and forwarding.
	get := func(path string, owner func(context.Context, func()) error, read func() any) {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			var data any
			err := owner(r.Context(), func() { data = read() })
			reply(w, data, err)
		})
	}
	// LDP's neighbours and counts come from the view the speaker
	// publishes; the bindings, too large to publish, are read on its
	// goroutine through its liveness lane (one piece of work at most).
	get("/v1/ldp/neighbors", direct, func() any { return d.freshLDP().Neighbors })
	get("/v1/ldp/bindings", d.sp.Call, func() any { return d.lib.Bindings() })
	get("/v1/ldp/stats", direct, func() any { return d.freshLDP().LIB })
	// The forwarding as handed to the kernel layer, read there: built on
	// the parent's goroutine, a large table would stall it.
	get("/v1/lfib", direct, func() any { return d.kfib.TableView() })
	get("/v1/rib", d.call, func() any { return d.rib.Routes() })
	get("/v1/interfaces", d.call, func() any { return d.interfaceViews() })
	get("/v1/fib/status", direct, func() any { return d.kfib.Status() }) // the kernel layer's own lock
	// The provider edge's state is the parent's (empty without VRFs).
	get("/v1/vrfs", d.call, func() any {
		if d.vpn == nil {
			return []api.VRF{}
		}
		return d.vpn.st.View()
	})
	get("/v1/bgp/vpn", d.call, func() any {
		if d.vpn == nil {
			return []api.VPNRoute{}
		}
		return d.vpn.st.Routes()
	})
	// The BGP speaker is safe for concurrent use; GoBGP answers itself.
	mux.HandleFunc("GET /v1/bgp/neighbors", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := d.bgpRequest(w, r); !ok {
			return
		}
		ns, err := d.bgp.Neighbors(r.Context())
		reply(w, ns, err)
	})
	mux.HandleFunc("GET /v1/bgp/routes", func(w http.ResponseWriter, r *http.Request) {
		prefix, ok := d.bgpRequest(w, r)
		if !ok {
			return
		}
		rs, err := d.bgp.Routes(r.Context(), prefix)
		reply(w, rs, err)
	})
	// A neighbour's Adj-RIB-In (?table=in, the default) or Adj-RIB-Out
	// (?table=out).
	mux.HandleFunc("GET /v1/bgp/neighbors/{addr}/routes", func(w http.ResponseWriter, r *http.Request) {
		prefix, ok := d.bgpRequest(w, r)
		if !ok {
			return
		}
		addr, ok := bgpNeighbor(w, r)
		if !ok {
			return
		}
		var out bool
		switch t := r.URL.Query().Get("table"); t {
		case "", "in":
		case "out":
			out = true
		default:
			replyStatus(w, http.StatusBadRequest, nil, fmt.Errorf("table %q: want in or out", t))
			return
		}
		rs, err := d.bgp.AdjRoutes(r.Context(), addr, out, prefix)
		replyBGP(w, rs, err)
	})
	// ?soft=in|out|both for a soft reset; none for a hard one.
	mux.HandleFunc("POST /v1/bgp/neighbors/{addr}/reset", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := d.bgpRequest(w, r); !ok {
			return
		}
		addr, ok := bgpNeighbor(w, r)
		if !ok {
			return
		}
		soft := r.URL.Query().Get("soft")
		err := d.bgp.Reset(r.Context(), addr, soft)
		replyBGP(w, api.BGPReset{Neighbor: addr, Soft: soft}, err)
	})
	mux.HandleFunc("GET /v1/zerotier", func(w http.ResponseWriter, r *http.Request) {
		// ?probe=1: LSP-ping the neighbours on ZeroTier networks now and
		// grade the data plane before answering.
		if r.URL.Query().Get("probe") == "1" {
			if err := d.ztProbeNow(r.Context()); err != nil {
				reply(w, nil, err)
				return
			}
		}
		reply(w, d.ZeroTierView(), nil)
	})
	mux.HandleFunc("POST /v1/ldp/neighbors/{id}/clear", func(w http.ResponseWriter, r *http.Request) {
		id, err := netip.ParseAddr(r.PathValue("id"))
		if err != nil {
			replyStatus(w, http.StatusBadRequest, nil, fmt.Errorf("neighbor %q: not an LSR ID (an IPv4 address)", r.PathValue("id")))
			return
		}
		var known bool
		for _, n := range d.freshLDP().Neighbors {
			known = known || n.LSRID == id
		}
		if !known {
			replyStatus(w, http.StatusNotFound, nil, fmt.Errorf("neighbor %s: unknown", id))
			return
		}
		err = d.sp.Post(r.Context(), ldp.ClearNeighbor{LSRID: id})
		reply(w, map[string]string{"cleared": id.String()}, err)
	})
	mux.HandleFunc("POST /v1/lsp/ping", d.handleLSPPing(false))
	mux.HandleFunc("POST /v1/lsp/traceroute", d.handleLSPPing(true))
	mux.HandleFunc("GET /v1/config", func(w http.ResponseWriter, r *http.Request) {
		var b []byte
		var err error
		if cerr := d.call(r.Context(), func() { b, err = d.cfg.Redacted() }); cerr != nil {
			err = cerr
		}
		reply(w, api.RunningConfig{Path: d.opt.ConfigPath, YAML: string(b)}, err)
	})
	mux.HandleFunc("GET /v1/version", func(w http.ResponseWriter, r *http.Request) {
		reply(w, api.VersionView{Version: d.opt.Version, GoVersion: runtime.Version(), Started: d.started}, nil)
	})
	mux.HandleFunc("GET /v1/log-level", func(w http.ResponseWriter, r *http.Request) {
		reply(w, api.LogLevel{Level: d.logLevel()}, nil)
	})
	mux.HandleFunc("POST /v1/log-level", func(w http.ResponseWriter, r *http.Request) {
		var req api.LogLevel
		if err := decodeBody(r, &req); err != nil {
			replyStatus(w, http.StatusBadRequest, nil, err)
			return
		}
		switch req.Level {
		case "debug", "info", "warn", "error":
		default:
			replyStatus(w, http.StatusBadRequest, nil, fmt.Errorf("level %q: must be debug, info, warn or error", req.Level))
			return
		}
		if d.opt.LogLevel == nil {
			replyStatus(w, http.StatusConflict, nil, errors.New("this lsrd's log level is fixed"))
			return
		}
		d.setLogLevel(req.Level, "control API (until the next reload or restart)")
		reply(w, api.LogLevel{Level: d.logLevel()}, nil)
	})
	// Anything else is answered in the API's envelope too.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		replyStatus(w, http.StatusNotFound, nil, fmt.Errorf("%s %s: no such endpoint (docs/control-api.md lists them)", r.Method, r.URL.Path))
	})
	mux.HandleFunc("POST /v1/reload", func(w http.ResponseWriter, r *http.Request) {
		err := d.Reload(r.Context())
		reply(w, map[string]bool{"reloaded": err == nil}, err)
	})
	return mux
}

var errNoBGP = errors.New("bgp is not configured (no bgp section)")

// reply writes the envelope; an error is the daemon's (500).
func reply(w http.ResponseWriter, data any, err error) {
	replyStatus(w, http.StatusInternalServerError, data, err)
}

// replyStatus writes the envelope with errCode when err is not nil.
func replyStatus(w http.ResponseWriter, errCode int, data any, err error) {
	w.Header().Set("Content-Type", "application/json")
	resp := api.Envelope[any]{Version: api.Version, Data: data}
	if err != nil {
		resp.Data = nil
		resp.Error = err.Error()
		w.WriteHeader(errCode)
	}
	// Compact: indenting took as long as encoding, on every poll of a
	// large table. lsrctl -o json prints answers indented.
	json.NewEncoder(w).Encode(resp)
}

// logLevel is the log's level now, in the configuration's words.
func (d *Daemon) logLevel() string {
	if d.opt.LogLevel == nil {
		return d.cfg.LogLevel
	}
	return strings.ToLower(d.opt.LogLevel.Level().String())
}

// bgpRequest answers 404 when BGP is not configured and 400 for a bad
// ?prefix=; else it returns the prefix (zero without one).
func (d *Daemon) bgpRequest(w http.ResponseWriter, r *http.Request) (netip.Prefix, bool) {
	if d.bgp == nil {
		replyStatus(w, http.StatusNotFound, nil, errNoBGP)
		return netip.Prefix{}, false
	}
	q := r.URL.Query().Get("prefix")
	if q == "" {
		return netip.Prefix{}, true
	}
	prefix, err := netip.ParsePrefix(q)
	if err != nil {
		replyStatus(w, http.StatusBadRequest, nil, fmt.Errorf("prefix %q: %w", q, err))
		return netip.Prefix{}, false
	}
	return prefix.Masked(), true
}

// bgpNeighbor reads {addr}, answering 400 when it is not an address.
func bgpNeighbor(w http.ResponseWriter, r *http.Request) (netip.Addr, bool) {
	addr, err := netip.ParseAddr(r.PathValue("addr"))
	if err != nil {
		replyStatus(w, http.StatusBadRequest, nil, fmt.Errorf("neighbor %q: not an address", r.PathValue("addr")))
		return netip.Addr{}, false
	}
	return addr, true
}

// replyBGP is reply, with 404 for a neighbour that is not configured and 400
// for a bad soft reset direction.
func replyBGP(w http.ResponseWriter, data any, err error) {
	switch {
	case errors.Is(err, bgp.ErrUnknownNeighbor):
		replyStatus(w, http.StatusNotFound, nil, err)
	case errors.Is(err, bgp.ErrBadSoftReset):
		replyStatus(w, http.StatusBadRequest, nil, err)
	default:
		reply(w, data, err)
	}
}
