// Command lsrd is the label switch router daemon: it runs LDP with
// neighbouring LSRs, learns routes from the kernel and its configuration, and
// hands the resulting label forwarding state to the kernel layer.
//
//	lsrd [-config /etc/lsrd/lsrd.yaml] [-check] [-version]
//
// SIGHUP reloads the configuration (a bad file changes nothing); SIGTERM and
// SIGINT stop lsrd cleanly.
//
// Multipath TCP is off (Go's listeners use it by default since Go 1.24): the
// kernel refuses socket options on an MPTCP socket that routing protocols
// need (IP_TTL for GTSM on GoBGP's listener: "operation not supported"), and
// no LDP or BGP peer speaks it.
//
//go:debug multipathtcp=0
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"

	"github.com/lsrd/lsrd/config"
	"github.com/lsrd/lsrd/daemon"
	"github.com/lsrd/lsrd/internal/sdnotify"
	"github.com/lsrd/lsrd/internal/version"
)

// stamped is set at build time with -ldflags "-X main.stamped=..."; without
// it the version is the git revision (internal/version).
var stamped = "dev"

func main() {
	begun := time.Now()
	path := flag.String("config", config.DefaultPath, "configuration file")
	check := flag.Bool("check", false, "validate the configuration and exit")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println("lsrd", version.Of(stamped))
		return
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lsrd:", err)
		os.Exit(1)
	}
	if *check {
		for _, w := range cfg.Warnings {
			fmt.Printf("lsrd: %s: warning: %s\n", *path, w)
		}
		fmt.Printf("lsrd: %s: configuration is valid\n", *path)
		return
	}
	level := new(slog.LevelVar) // a reload or lsrctl log-level changes it
	level.UnmarshalText([]byte(cfg.LogLevel))
	var handler slog.Handler = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})
	if cfg.LogFormat == "json" {
		handler = slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})
	}
	log := slog.New(handler)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if path := os.Getenv("LSRD_CPU_PROFILE"); path != "" {
		defer profileCPU(log, path, os.Getenv("LSRD_CPU_PROFILE_AFTER"), os.Getenv("LSRD_CPU_PROFILE_FOR"))()
	}
	notify := func(state string) {
		if err := sdnotify.Notify(state); err != nil {
			log.Warn("telling systemd", "state", state, "err", err)
		}
	}
	d, err := daemon.New(cfg, daemon.Options{ConfigPath: *path, Log: log, LogLevel: level, Version: version.Of(stamped), Notify: notify, Begun: begun})
	if err != nil {
		log.Error("lsrd cannot start", "err", err)
		os.Exit(1)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			if err := d.Reload(ctx); err != nil {
				log.Error("SIGHUP: reload failed", "err", err)
			}
		}
	}()
	if err := d.Run(ctx); err != nil {
		log.Error("lsrd stopped", "err", err)
		os.Exit(1)
	}
}

// profileCPU writes a CPU profile of lsrd to path, a diagnostic for where
// the time goes when the metrics listener cannot answer (a lab guest
// saturated by 40 routers): from the start, or from when the Go duration
// in after has passed (lsrd at rest), until lsrd stops, or for the
// duration in forDur when it is one. It returns the function that ends it.
func profileCPU(log *slog.Logger, path, after, forDur string) func() {
	var (
		mu      sync.Mutex
		started bool
		stopped bool
		f       *os.File
	)
	begin := func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		var err error
		f, err = os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			log.Error("LSRD_CPU_PROFILE: not profiling", "path", path, "err", err)
			return
		}
		started = true
		log.Info("writing a CPU profile", "path", path, "for", forDur)
	}
	end := func() {
		mu.Lock()
		defer mu.Unlock()
		if started && !stopped {
			pprof.StopCPUProfile()
			f.Close()
		}
		stopped = true
	}
	delay, _ := time.ParseDuration(after)
	if d, err := time.ParseDuration(forDur); err == nil {
		time.AfterFunc(delay+d, end)
	}
	if delay > 0 {
		time.AfterFunc(delay, begin)
	} else {
		begin()
	}
	return end
}
