package bgp

import (
	"context"
	"log/slog"

	gobgplog "github.com/osrg/gobgp/v3/pkg/log"
)

// slogAdapter sends GoBGP's logs to lsrd's slog.Logger. GoBGP's Info level is
// chatty (every state change, every path), so it is logged at slog's Debug
// except for peer state changes, which operators want to see.
type slogAdapter struct {
	log *slog.Logger
}

func (a slogAdapter) attrs(fields gobgplog.Fields) []any {
	args := make([]any, 0, 2*len(fields))
	for k, v := range fields {
		args = append(args, k, v)
	}
	return args
}

func (a slogAdapter) Panic(msg string, fields gobgplog.Fields) {
	a.log.Error(msg, a.attrs(fields)...)
	panic("gobgp: " + msg)
}

// Fatal is logged as an error: a library must not exit lsrd. GoBGP calls it
// only for its gRPC listener (not used here) and an impossible message type.
func (a slogAdapter) Fatal(msg string, fields gobgplog.Fields) {
	a.log.Error(msg, a.attrs(fields)...)
}

func (a slogAdapter) Error(msg string, fields gobgplog.Fields) {
	a.log.Error(msg, a.attrs(fields)...)
}

func (a slogAdapter) Warn(msg string, fields gobgplog.Fields) {
	a.log.Warn(msg, a.attrs(fields)...)
}

func (a slogAdapter) Info(msg string, fields gobgplog.Fields) {
	level := slog.LevelDebug
	if fields["Topic"] == "Peer" {
		level = slog.LevelInfo
	}
	a.log.Log(context.Background(), level, msg, a.attrs(fields)...)
}

func (a slogAdapter) Debug(msg string, fields gobgplog.Fields) {
	a.log.Debug(msg, a.attrs(fields)...)
}

// SetLevel is ignored: the slog handler decides what is shown.
func (a slogAdapter) SetLevel(gobgplog.LogLevel) {}

func (a slogAdapter) GetLevel() gobgplog.LogLevel {
	if a.log.Enabled(context.Background(), slog.LevelDebug) {
		return gobgplog.DebugLevel
	}
	return gobgplog.InfoLevel
}
