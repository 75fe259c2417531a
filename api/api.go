// Package api is the schema of lsrd's control API: the envelope every answer
// comes in, its version, and the views that are not a type of another
// package (the rest are ldp.NeighborInfo, lib.Binding, lib.Stats, rib.Route
// and netlinkfib.Status as they are). lsrd serves it (package daemon) and
// lsrctl reads it (package ctl); neither has to import the other.
//
// It owns names and shapes only: no I/O, no state. docs/control-api.md
// documents every endpoint.
package api

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/lsrd/lsrd/fib"
)

// Version is the control API's version; it is part of every path (/v1/...)
// and every response.
const Version = 1

// Envelope is every answer: the data, or the error that stood in its way.
type Envelope[T any] struct {
	Version int    `json:"version"`
	Data    T      `json:"data,omitempty"`
	Error   string `json:"error,omitempty"`
}

// TableView is the desired forwarding state as the control API shows it:
// sorted lists rather than maps, so that the JSON is stable.
type TableView struct {
	LFIB []LFIBRow `json:"lfib"`
	FTN  []FTNRow  `json:"ftn"`
}

// LFIBRow is one label table entry and whether the kernel holds it.
type LFIBRow struct {
	fib.LFIBEntry
	// Installed is true once the kernel layer programmed this entry as it
	// is; false while it waits for a pass or after the kernel refused it.
	Installed bool `json:"installed"`
}

// FTNRow is one FTN entry and whether the kernel holds it.
type FTNRow struct {
	fib.FTNEntry
	Installed bool `json:"installed"`
}

// Installed tells whether the kernel holds an entry as given
// (netlinkfib.Installed).
type Installed interface {
	Label(fib.LFIBEntry) bool
	Prefix(fib.FTNEntry) bool
}

// NewTableView turns a table into its view; a nil table is an empty one. A
// nil in marks nothing installed.
func NewTableView(t *fib.Table, in Installed) TableView {
	v := TableView{LFIB: []LFIBRow{}, FTN: []FTNRow{}}
	if t == nil {
		return v
	}
	for _, e := range t.LFIB {
		v.LFIB = append(v.LFIB, LFIBRow{LFIBEntry: e, Installed: in != nil && in.Label(e)})
	}
	for _, e := range t.FTN {
		v.FTN = append(v.FTN, FTNRow{FTNEntry: e, Installed: in != nil && in.Prefix(e)})
	}
	slices.SortFunc(v.LFIB, func(a, b LFIBRow) int { return cmp.Compare(a.InLabel, b.InLabel) })
	slices.SortFunc(v.FTN, func(a, b FTNRow) int {
		if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
			return c
		}
		return cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits())
	})
	return v
}

// InterfaceView is one interface as "show ldp interfaces" lists it.
type InterfaceView struct {
	Name      string         `json:"name"`
	Index     int            `json:"index"`
	MTU       int            `json:"mtu"`
	Addresses []netip.Prefix `json:"addresses"`
	// State is up, down, or missing: a configured LDP interface the
	// kernel does not have (Index and MTU 0).
	State     string `json:"state"`
	LDP       bool   `json:"ldp"`        // configured for basic discovery
	MPLSInput bool   `json:"mpls_input"` // lsrd enabled net.mpls.conf.<if>.input
	// IGPSync is LDP-IGP synchronisation on an LDP interface (RFC 5443):
	// achieved, not-achieved or no-peer (ldp.InterfaceSync).
	IGPSync string `json:"igp_sync,omitempty"`
}

// InterfaceView states.
const (
	InterfaceUp      = "up"
	InterfaceDown    = "down"
	InterfaceMissing = "missing"
)

// VersionView is GET /v1/version: the running daemon's build.
type VersionView struct {
	Version   string    `json:"version"`
	GoVersion string    `json:"go_version"`
	Started   time.Time `json:"started"`
}

// LogLevel is GET and POST /v1/log-level: debug, info, warn or error.
type LogLevel struct {
	Level string `json:"level"`
}

// RunningConfig is GET /v1/config: the configuration lsrd runs, defaults
// filled in and passwords redacted, as YAML.
type RunningConfig struct {
	Path string `json:"path"`
	YAML string `json:"yaml"`
}
