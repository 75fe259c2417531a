package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lsrd/lsrd/metrics"
)

// serveMetrics answers Prometheus scrapes on metrics.listen until ctx ends.
func (d *Daemon) serveMetrics(ctx context.Context) error {
	addr := d.cfg.Metrics.Listen
	if addr == "" {
		return nil
	}
	reg := metrics.NewRegistry(d.opt.Version)
	reg.MustRegister(metrics.NewZeroTierCollector(d.ZeroTierView))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
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
