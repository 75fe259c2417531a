package api

import (
	"fmt"
	"net/netip"
)

// LSPPingRequest asks lsrd to send LSP pings (POST /v1/lsp/ping) or an LSP
// traceroute (POST /v1/lsp/traceroute) for an LDP FEC (RFC 8029).
type LSPPingRequest struct {
	FEC netip.Prefix `json:"fec"`
	// Count is how many pings (3; at most 100); IntervalMS the time between
	// them (1000).
	Count      int `json:"count,omitempty"`
	IntervalMS int `json:"interval_ms,omitempty"`
	// TimeoutMS is how long each probe waits for its reply (2000).
	TimeoutMS int `json:"timeout_ms,omitempty"`
	// MaxTTL is traceroute's last TTL (16; at most 64).
	MaxTTL int `json:"max_ttl,omitempty"`
}

// Normalize checks the request and fills in the defaults.
func (r *LSPPingRequest) Normalize(trace bool) error {
	if !r.FEC.IsValid() {
		return fmt.Errorf("fec: a prefix is required, like 3.3.3.3/32")
	}
	r.FEC = r.FEC.Masked()
	if !r.FEC.Addr().Is4() {
		return fmt.Errorf("fec %s: only IPv4 FECs are probed", r.FEC)
	}
	def := func(v *int, d, lo, hi int, name string) error {
		if *v == 0 {
			*v = d
		}
		if *v < lo || *v > hi {
			return fmt.Errorf("%s %d: must be between %d and %d", name, *v, lo, hi)
		}
		return nil
	}
	if err := def(&r.Count, 3, 1, 100, "count"); err != nil {
		return err
	}
	if err := def(&r.IntervalMS, 1000, 10, 60000, "interval_ms"); err != nil {
		return err
	}
	if err := def(&r.TimeoutMS, 2000, 10, 60000, "timeout_ms"); err != nil {
		return err
	}
	if trace {
		return def(&r.MaxTTL, 16, 1, 64, "max_ttl")
	}
	return nil
}

// LSPPath is where lsrd's echo requests for a FEC leave: the next hop, its
// interface and the labels pushed (none when the next hop is the egress).
type LSPPath struct {
	NextHop   netip.Addr `json:"next_hop"`
	Interface string     `json:"interface"`
	Labels    []uint32   `json:"labels"`
}

// LSPPingView is the answer: the path and one result per probe (per TTL
// for traceroute).
type LSPPingView struct {
	FEC     netip.Prefix    `json:"fec"`
	Path    LSPPath         `json:"path"`
	Results []LSPPingResult `json:"results"`
}
