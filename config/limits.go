package config

import (
	"fmt"
	"time"
)

// Limits bound what other LSRs can make lsrd keep (ldp.limits). A hello,
// connection or label beyond a bound is refused before any state is kept,
// logged (at most once every 10 s per bound) and counted in
// lsrd_ldp_limit_refused_total.
type Limits struct {
	// AdjacenciesPerInterface bounds the link adjacencies of one interface,
	// so that a flood on one link cannot crowd out the others. Every LSR on
	// a ZeroTier network is a neighbour: keep it above the network's size.
	AdjacenciesPerInterface int `yaml:"adjacencies-per-interface"`
	// Neighbors bounds the LSR IDs known at once (configured targeted
	// neighbours are always admitted).
	Neighbors int `yaml:"neighbors"`
	// PendingConnections bounds the accepted connections whose peer has not
	// named itself yet.
	PendingConnections int `yaml:"pending-connections"`
	// PendingConnectionTimeout is how long a connection from an address
	// no adjacency has may wait for a hello and its first PDU;
	// InitTimeout how long any session may take to have the peer's
	// Initialization accepted.
	PendingConnectionTimeout Duration `yaml:"pending-connection-timeout"`
	InitTimeout              Duration `yaml:"init-timeout"`
	// UnroutedLabelsPerPeer bounds the labels kept from one peer for FECs
	// lsrd has no route to (liberal retention's spares); 0 keeps them all.
	// Labels for FECs with a route are always kept.
	UnroutedLabelsPerPeer *int `yaml:"unrouted-labels-per-peer"`
}

// Default bounds; see ldp.Config for why.
const (
	DefaultAdjacenciesPerInterface = 256
	DefaultNeighbors               = 1024
	DefaultPendingConnections      = 64
	DefaultUnroutedLabelsPerPeer   = 50000
)

func (l *Limits) setDefaults() {
	def := func(n *int, v int) {
		if *n == 0 {
			*n = v
		}
	}
	def(&l.AdjacenciesPerInterface, DefaultAdjacenciesPerInterface)
	def(&l.Neighbors, DefaultNeighbors)
	def(&l.PendingConnections, DefaultPendingConnections)
	if l.PendingConnectionTimeout == 0 {
		l.PendingConnectionTimeout = Duration(5 * time.Second)
	}
	if l.InitTimeout == 0 {
		l.InitTimeout = Duration(15 * time.Second)
	}
	if l.UnroutedLabelsPerPeer == nil {
		n := DefaultUnroutedLabelsPerPeer
		l.UnroutedLabelsPerPeer = &n
	}
}

func (l Limits) validate() error {
	for _, n := range []struct {
		field string
		v     int
	}{
		{"adjacencies-per-interface", l.AdjacenciesPerInterface},
		{"neighbors", l.Neighbors},
		{"pending-connections", l.PendingConnections},
	} {
		if n.v < 1 {
			return fieldError("ldp.limits."+n.field, n.v, "must be at least 1")
		}
	}
	for _, d := range []struct {
		field string
		v     Duration
	}{
		{"pending-connection-timeout", l.PendingConnectionTimeout},
		{"init-timeout", l.InitTimeout},
	} {
		if d.v.Std() < time.Second || d.v.Std() > 10*time.Minute {
			return fieldError("ldp.limits."+d.field, d.v.Std(), "must be between 1s and 10m")
		}
	}
	if n := *l.UnroutedLabelsPerPeer; n < 0 {
		return fieldError("ldp.limits.unrouted-labels-per-peer", n, fmt.Sprintf("must be 0 (no bound) or more; the default is %d", DefaultUnroutedLabelsPerPeer))
	}
	return nil
}
