package config

import (
	"path/filepath"
	"time"
)

// GracefulRestart is LDP Graceful Restart, RFC 3478 (ldp.graceful-restart).
// Off by default: a peer without it (FRR's ldpd) sees no difference either
// way, since the FT Session TLV is sent with the U bit and ignored.
type GracefulRestart struct {
	Enabled bool `yaml:"enabled"`
	// ReconnectTime is the FT Reconnect Timeout advertised (how long
	// neighbours keep lsrd's labels when its session fails) and the
	// longest lsrd keeps a restarting neighbour's labels before it is back.
	ReconnectTime Duration `yaml:"reconnect-time"`
	// RecoveryTime is the Recovery Time advertised after a restart that
	// kept the forwarding state, and the longest lsrd keeps a returning
	// neighbour's labels not advertised again.
	RecoveryTime Duration `yaml:"recovery-time"`
	// StateFile keeps lsrd's local labels across a restart, so that each
	// FEC gets the label the kernel still forwards with. Its directory is
	// created if missing.
	StateFile string `yaml:"state-file"`
}

// Defaults of ldp.graceful-restart (ldp.DefaultGRReconnectTime says why).
const (
	DefaultGRReconnectTime = 120 * time.Second
	DefaultGRRecoveryTime  = 120 * time.Second
	DefaultGRStateFile     = "/var/lib/lsrd/ldp-labels.json"
)

func (g *GracefulRestart) setDefaults() {
	if g.ReconnectTime == 0 {
		g.ReconnectTime = Duration(DefaultGRReconnectTime)
	}
	if g.RecoveryTime == 0 {
		g.RecoveryTime = Duration(DefaultGRRecoveryTime)
	}
	if g.StateFile == "" {
		g.StateFile = DefaultGRStateFile
	}
}

func (g GracefulRestart) validate() error {
	for _, d := range []struct {
		field string
		v     Duration
	}{{"ldp.graceful-restart.reconnect-time", g.ReconnectTime}, {"ldp.graceful-restart.recovery-time", g.RecoveryTime}} {
		if v := d.v.Std(); v < time.Second || v > time.Hour || v%time.Millisecond != 0 {
			return fieldError(d.field, v, "must be between 1s and 1h, in whole milliseconds (the FT Session TLV carries milliseconds)")
		}
	}
	if !filepath.IsAbs(g.StateFile) {
		return fieldError("ldp.graceful-restart.state-file", g.StateFile, "must be an absolute path")
	}
	return nil
}
