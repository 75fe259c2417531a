package ctl

import (
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/zerotier"
)

func TestZeroTierTable(t *testing.T) {
	v := api.ZeroTierView{Enabled: true, API: "http://127.0.0.1:9993", Reachable: true, Updated: time.Unix(1, 0),
		Node:   &api.ZeroTierNode{Address: "a1b2c3d4e5", Version: "1.14.2", Online: true, PlanetWorldID: 149604618, PlanetWorldTimestamp: 1567191349589},
		Planet: &zerotier.Finding{Check: "planet", Severity: "error", Message: "node uses planet 149604618 (0x8eac90a), expected 1819505252 (0x6c737264)"},
		Networks: []api.ZeroTierNetworkView{
			{ID: "8056c2e21c123456", ConfiguredAs: "8056c2e21c123456", Status: "OK", Device: "ztmjfnbvsk", MTU: 1400,
				Addresses: []string{"10.147.17.5/24"}, LDPInterface: "ztmjfnbvsk", MulticastLDPSubscribed: true,
				Findings: []zerotier.Finding{{Check: "status", Severity: "ok", Message: "fine"}, {Check: "mtu", Severity: "error", Message: "MTU 1400 is below 1508"}}},
			{ID: "1111111111111111", ConfiguredAs: "1111111111111111", Error: "network 1111111111111111 unknown (404)",
				Findings: []zerotier.Finding{{Check: "status", Severity: "error", Message: "network 1111111111111111 unknown (404)"}}},
		}}
	var b strings.Builder
	if err := ZeroTier(&b, v); err != nil {
		t.Fatal(err)
	}
	golden(t, "zerotier", b.String(), `
ZeroTier One:  http://127.0.0.1:9993  reachable
Node:          a1b2c3d4e5             version 1.14.2           online
Planet:        149604618 (0x8eac90a)  timestamp 1567191349589  NOT THE EXPECTED PLANET

NETWORK           CONFIGURED AS     STATUS   DEVICE      MTU   MTU HEADROOM  224.0.0.2   LDP ON      ADDRESSES
8056c2e21c123456  8056c2e21c123456  OK       ztmjfnbvsk  1400  TOO SMALL     subscribed  ztmjfnbvsk  10.147.17.5/24
1111111111111111  1111111111111111  UNKNOWN  -           -     -             -           -           -

SEVERITY  NETWORK           CHECK   FINDING
error     -                 planet  node uses planet 149604618 (0x8eac90a), expected 1819505252 (0x6c737264)
error     8056c2e21c123456  mtu     MTU 1400 is below 1508
error     1111111111111111  status  network 1111111111111111 unknown (404)
`)
	b.Reset()
	ZeroTier(&b, api.ZeroTierView{})
	if !strings.Contains(b.String(), "ZeroTier is not watched") {
		t.Errorf("disabled: %q", b.String())
	}
}
