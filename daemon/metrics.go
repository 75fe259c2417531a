package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lsrd/lsrd/bgp"
	"github.com/lsrd/lsrd/metrics"
	"github.com/lsrd/lsrd/oam"
)

// metricSet is lsrd's registry and the instruments the daemon's parts feed
// as things happen (the kernel layer, reloads). The rest is read at scrape
// time (export).
type metricSet struct {
	reg     *prometheus.Registry
	kernel  *metrics.Kernel
	reloads *metrics.Reloads
}

func newMetricSet(version string, started time.Time) *metricSet {
	reg := metrics.NewRegistry(version)
	return &metricSet{reg: reg, kernel: metrics.NewKernel(reg), reloads: metrics.NewReloads(reg, started)}
}

// export registers the collectors that read lsrd's state at every scrape:
// the snapshot of LDP, the LIB, forwarding and the RIB, and GoBGP's
// collector when BGP is configured (b not nil).
func (m *metricSet) export(snap metrics.SnapshotFunc, b *bgp.Speaker) {
	m.reg.MustRegister(metrics.NewStateCollector(snap))
	if b != nil {
		m.reg.MustRegister(b.Collector())
	}
}

// snapshot reads what metrics export from what each part published: the
// engine's and the LIB's view (taken on demand, waiting at most a moment),
// the parent's counts (publishCounts), the kernel layer's status (its own
// lock). Nothing queues behind the parent's loop, which may be busy with a
// 100,000-route batch.
func (d *Daemon) snapshot(context.Context) (metrics.Snapshot, error) {
	var s metrics.Snapshot
	v := d.freshLDP()
	// Time in state runs to the scrape, not to the view's publication
	// (published only when something happened).
	s.Time, s.Neighbors, s.Counters, s.LIB = time.Now(), v.Neighbors, v.Counters, v.LIB
	if c := d.counts.Load(); c != nil {
		s.LFIB, s.FTN, s.RIB = c.lfib, c.ftn, c.rib
	}
	s.Kernel = d.kfib.Status()
	if d.vpn != nil {
		if v := d.vpn.view.Load(); v != nil {
			s.VRFs = *v
		}
	}
	return s, nil
}

// serveMetrics answers Prometheus scrapes on metrics.listen until ctx ends.
func (d *Daemon) serveMetrics(ctx context.Context) error {
	addr := d.cfg.Metrics.Listen
	if addr == "" {
		return nil
	}
	d.metrics.export(d.snapshot, d.bgp)
	reg := d.metrics.reg
	reg.MustRegister(metrics.NewZeroTierCollector(d.ZeroTierView))
	reg.MustRegister(metrics.NewMemoryCollector(d.mem.Stats))
	reg.MustRegister(metrics.NewLSPPingCollector(func() (oam.Stats, bool) {
		if d.oam == nil {
			return oam.Stats{}, false
		}
		return d.oam.Stats(), true
	}))
	mux := http.NewServeMux()
	// A part that cannot answer (the speaker stuck) fails its own metrics,
	// not the whole scrape: the process and kernel metrics still say why.
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry: reg, ErrorHandling: promhttp.ContinueOnError, ErrorLog: scrapeLog{d.log},
	}))
	if d.cfg.Metrics.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics.listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// scrapeLog passes promhttp's errors to lsrd's log.
type scrapeLog struct{ log *slog.Logger }

func (l scrapeLog) Println(v ...any) { l.log.Warn("metrics scrape", "err", fmt.Sprint(v...)) }
