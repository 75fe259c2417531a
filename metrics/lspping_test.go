package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lsrd/lsrd/oam"
)

func TestLSPPingCollector(t *testing.T) {
	running := true
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewLSPPingCollector(func() (oam.Stats, bool) {
		return oam.Stats{RequestsAnswered: 5, RequestsDropped: 2, Malformed: 1, ProbesSent: 7, RepliesReceived: 6}, running
	}))
	want := `
# HELP lsrd_lsp_ping_requests_total MPLS echo requests this router answered, or dropped over the responder's rate limit.
# TYPE lsrd_lsp_ping_requests_total counter
lsrd_lsp_ping_requests_total{result="answered"} 5
lsrd_lsp_ping_requests_total{result="rate-limited"} 2
# HELP lsrd_lsp_ping_probes_sent_total Echo requests this router sent (lsrctl ping/traceroute mpls, the ZeroTier data-plane check).
# TYPE lsrd_lsp_ping_probes_sent_total counter
lsrd_lsp_ping_probes_sent_total 7
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "lsrd_lsp_ping_requests_total", "lsrd_lsp_ping_probes_sent_total"); err != nil {
		t.Error(err)
	}
	running = false
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 0 {
		t.Errorf("%d series while LSP ping is off (%v)", n, err)
	}
}
