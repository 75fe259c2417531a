package config

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestParseDefaults(t *testing.T) {
	c, err := Parse("lsrd.yaml", []byte(`
router-id: 2.2.2.2
ldp:
  interfaces:
    - name: ztmjfnbvsk
  targeted-neighbors:
    - address: 1.1.1.1
static-routes:
  - prefix: 3.3.3.3/32
    next-hop: 10.1.0.3
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.LDP.TransportAddress != c.RouterID {
		t.Errorf("transport address %s, want the router ID", c.LDP.TransportAddress)
	}
	if c.LDP.Timers.HelloHold.Std() != 15*time.Second || c.LDP.Timers.KeepAlive.Std() != 180*time.Second {
		t.Errorf("timers %+v, want RFC 5036 defaults", c.LDP.Timers)
	}
	if c.LDP.Labels.Min != 16 || c.LDP.Labels.Max != 1048574 || c.LDP.Labels.Control != "ordered" || c.LDP.Labels.Allocate != "host-routes" {
		t.Errorf("labels %+v", c.LDP.Labels)
	}
	if g := c.LDP.GracefulRestart; g.Enabled || g.ReconnectTime.Std() != 120*time.Second || g.RecoveryTime.Std() != 120*time.Second || g.StateFile != "/var/lib/lsrd/ldp-labels.json" {
		t.Errorf("graceful restart %+v, want off, 120s, 120s, /var/lib/lsrd/ldp-labels.json", g)
	}
	if c.Kernel.RestartSweepAfter.Std() != 120*time.Second || c.Kernel.KeepRoutesOnShutdown || c.Kernel.StopTimeout.Std() != 60*time.Second {
		t.Errorf("kernel %+v, want routes removed on shutdown within 60s and a 120s sweep timer", c.Kernel)
	}
	if k := c.Kernel; k.RouteProtocol != 234 || k.Ingress.Disabled || k.Ingress.Table != 234 || k.Ingress.RulePriority != 32000 {
		t.Errorf("kernel %+v, want protocol 234 and the ingress table 234 at rule 32000", k)
	}
	if m := c.Memory; m.GCPercent != 0 || m.IdleGCPercent != 25 || m.LimitMiB != 0 {
		t.Errorf("memory %+v, want GOGC's own target, 25 at rest and no limit", m)
	}
	c, err = Parse("lsrd.yaml", []byte("router-id: 2.2.2.2\nmemory:\n  gc-percent: 20\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Memory.IdleGCPercent != 20 {
		t.Errorf("idle-gc-percent %d under gc-percent 20, want 20", c.Memory.IdleGCPercent)
	}
}

func TestGracefulRestart(t *testing.T) {
	c, err := Parse("lsrd.yaml", []byte(`
router-id: 2.2.2.2
ldp:
  graceful-restart:
    enabled: true
    reconnect-time: 60s
    recovery-time: 90s
    state-file: /run/lsrd/labels.json
`))
	if err != nil {
		t.Fatal(err)
	}
	if g := c.LDP.GracefulRestart; !g.Enabled || g.ReconnectTime.Std() != time.Minute || g.RecoveryTime.Std() != 90*time.Second || g.StateFile != "/run/lsrd/labels.json" {
		t.Errorf("graceful restart %+v", g)
	}
}

func TestParseRejects(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown key", "router-id: 1.1.1.1\nldp:\n  interfacs: []\n", "line 3: field ldp.interfacs: unknown key; did you mean interfaces?"},
		{"missing router id", "ldp: {}\n", "field router-id: missing"},
		{"empty file", "", "router-id is required"},
		{"ipv6 router id", "router-id: 2001:db8::1\n", "field router-id: 2001:db8::1"},
		{"bad address", "router-id: 1.1.1\n", "1.1.1"},
		{"bad duration", "router-id: 1.1.1.1\nldp:\n  timers:\n    keepalive: soon\n", `"soon" is not a duration`},
		{"interval over hold", "router-id: 1.1.1.1\nldp:\n  timers:\n    hello-interval: 20s\n", "field ldp.timers.hello-interval: 20s"},
		{"hold too long", "router-id: 1.1.1.1\nldp:\n  timers:\n    hello-hold: 70000s\n", "field ldp.timers.hello-hold"},
		{"reserved label", "router-id: 1.1.1.1\nldp:\n  labels:\n    min: 3\n", "field ldp.labels.min: 3"},
		{"inverted range", "router-id: 1.1.1.1\nldp:\n  labels:\n    min: 1000\n    max: 999\n", "field ldp.labels.max: 999"},
		{"bad control", "router-id: 1.1.1.1\nldp:\n  labels:\n    control: eager\n", "field ldp.labels.control: eager"},
		{"duplicate interface", "router-id: 1.1.1.1\nldp:\n  interfaces:\n    - name: eth0\n    - name: eth0\n", "field ldp.interfaces[1].name: eth0: listed twice"},
		{"long interface", "router-id: 1.1.1.1\nldp:\n  interfaces:\n    - name: averyveryverylongname\n", "field ldp.interfaces[0].name"},
		{"host bits", "router-id: 1.1.1.1\nstatic-routes:\n  - prefix: 10.1.1.1/24\n    next-hop: 10.0.0.1\n", "did you mean 10.1.1.0/24"},
		{"no next hop", "router-id: 1.1.1.1\nstatic-routes:\n  - prefix: 10.1.1.0/24\n", "needs a next-hop"},
		{"family mismatch", "router-id: 1.1.1.1\nstatic-routes:\n  - prefix: 10.1.1.0/24\n    next-hop: 2001:db8::1\n", "address family"},
		{"bgp without AS", "router-id: 1.1.1.1\nbgp:\n  neighbors:\n    - address: 10.0.0.2\n      remote-as: 65002\n", "bgp.as"},
		{"bgp neighbour without AS", "router-id: 1.1.1.1\nbgp:\n  as: 65001\n  neighbors:\n    - address: 10.0.0.2\n", "bgp.neighbors[0].remote-as"},
		{"bgp unknown key", "router-id: 1.1.1.1\nbgp:\n  as: 65001\n  neighbours: []\n", "line 4: field bgp.neighbours: unknown key; did you mean neighbors?"},
		{"bgp bad action", "router-id: 1.1.1.1\nbgp:\n  as: 65001\n  prefix-lists:\n    - name: in\n      rules:\n        - {prefix: 10.0.0.0/8, action: allow}\n", `bgp.prefix-lists[0].rules[0].action: "allow"`},
		{"bgp unknown list", "router-id: 1.1.1.1\nbgp:\n  as: 65001\n  neighbors:\n    - address: 10.0.0.2\n      remote-as: 65002\n      import: in\n", `bgp.neighbors[0].import: no prefix list named "in"`},
		{"bgp bad le", "router-id: 1.1.1.1\nbgp:\n  as: 65001\n  prefix-lists:\n    - name: in\n      rules:\n        - {prefix: 10.0.0.0/8, le: 40}\n", "bgp.prefix-lists[0].rules[0].le: 40"},
		{"bgp restart time", "router-id: 1.1.1.1\nbgp:\n  as: 65001\n  graceful-restart:\n    enabled: true\n    restart-time: 5000s\n", "bgp.graceful-restart.restart-time: 1h23m20s is out of range"},
		{"sweep timer too short", "router-id: 1.1.1.1\nkernel:\n  restart-sweep-after: 100ms\n", "field kernel.restart-sweep-after: 100ms"},
		{"stop timeout too long", "router-id: 1.1.1.1\nkernel:\n  stop-timeout: 2h\n", "field kernel.stop-timeout: 2h0m0s: must be between 1s and 1h"},
		{"relative socket", "router-id: 1.1.1.1\ncontrol:\n  socket: lsrd.sock\n", "field control.socket"},
		{"gr reconnect too short", "router-id: 1.1.1.1\nldp:\n  graceful-restart:\n    reconnect-time: 500ms\n", "field ldp.graceful-restart.reconnect-time: 500ms"},
		{"gr recovery too long", "router-id: 1.1.1.1\nldp:\n  graceful-restart:\n    recovery-time: 2h\n", "field ldp.graceful-restart.recovery-time: 2h0m0s"},
		{"gr relative state file", "router-id: 1.1.1.1\nldp:\n  graceful-restart:\n    state-file: labels.json\n", "field ldp.graceful-restart.state-file: labels.json"},
		{"gr unknown key", "router-id: 1.1.1.1\nldp:\n  graceful-restart:\n    enable: true\n", "line 4: field ldp.graceful-restart.enable: unknown key; did you mean enabled?"},
		{"label list action", "router-id: 1.1.1.1\nldp:\n  labels:\n    prefix-list:\n      - {prefix: 10.0.0.0/8, action: allow}\n", `ldp.labels.prefix-list[0].action: "allow"`},
		{"label list ge", "router-id: 1.1.1.1\nldp:\n  labels:\n    prefix-list:\n      - {prefix: 10.0.0.0/8, ge: 40}\n", "ldp.labels.prefix-list.rules[0].ge: 40"},
		{"label list host bits", "router-id: 1.1.1.1\nldp:\n  labels:\n    prefix-list:\n      - {prefix: 10.1.0.0/8}\n", "did you mean 10.0.0.0/8"},
		{"unknown route protocol", "router-id: 1.1.1.1\nldp:\n  labels:\n    protocols: [ospff]\n", `"ospff" is not a route protocol`},
		{"kernel's route protocol", "router-id: 1.1.1.1\nkernel:\n  route-protocol: 2\n", "field kernel.route-protocol: 2"},
		{"main as ingress table", "router-id: 1.1.1.1\nkernel:\n  ingress:\n    table: 254\n", "field kernel.ingress.table: 254"},
		{"rule after main", "router-id: 1.1.1.1\nkernel:\n  ingress:\n    rule-priority: 40000\n", "field kernel.ingress.rule-priority: 40000"},
		{"negative gc percent", "router-id: 1.1.1.1\nmemory:\n  gc-percent: -5\n", "field memory.gc-percent: -5"},
		{"idle above busy", "router-id: 1.1.1.1\nmemory:\n  gc-percent: 50\n  idle-gc-percent: 80\n", "field memory.idle-gc-percent: 80"},
		{"tiny memory limit", "router-id: 1.1.1.1\nmemory:\n  limit-mib: 8\n", "field memory.limit-mib: 8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte(c.yaml))
			if err == nil {
				t.Fatalf("accepted:\n%s", c.yaml)
			}
			if !strings.HasPrefix(err.Error(), "test.yaml: ") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want the file name and %q", err, c.want)
			}
		})
	}
}

// The example shipped in docs/ must always be a valid configuration.
func TestExampleConfigLoads(t *testing.T) {
	c, err := Load("../docs/examples/lsrd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.LDP.Interfaces) != 1 || len(c.StaticRoutes) != 1 || c.Metrics.Listen == "" {
		t.Errorf("example config read as %+v", c)
	}
}

func TestBGPSection(t *testing.T) {
	c, err := Parse("test.yaml", []byte("router-id: 1.1.1.1\nbgp:\n  as: 65001\n  neighbors:\n    - address: 10.0.0.2\n      remote-as: 65002\n  networks: [1.1.1.1/32]\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := c.BGP.Speaker()
	if s.AS != 65001 || s.RouterID != c.RouterID || len(s.Neighbors) != 1 || s.Neighbors[0].RemoteAS != 65002 || len(s.Networks) != 1 {
		t.Errorf("speaker configuration %+v", s)
	}
}

func TestBGPPrefixLists(t *testing.T) {
	c, err := Parse("test.yaml", []byte(`router-id: 1.1.1.1
bgp:
  as: 65001
  prefix-lists:
    - name: customers
      rules:
        - {prefix: 198.51.100.0/24, action: deny}
        - {prefix: 198.51.100.0/22, le: 24}
  neighbors:
    - address: 10.0.0.2
      remote-as: 65002
      families: [ipv4-unicast, ipv4-labeled-unicast]
      import: customers
`))
	if err != nil {
		t.Fatal(err)
	}
	s := c.BGP.Speaker()
	if len(s.PrefixLists) != 1 || s.Neighbors[0].Import != "customers" || len(s.Neighbors[0].Families) != 2 {
		t.Fatalf("speaker configuration %+v", s)
	}
	l := s.PrefixLists[0]
	for p, want := range map[string]bool{"198.51.100.0/24": false, "198.51.101.0/24": true, "198.51.100.0/25": false, "192.0.2.0/24": false} {
		if got := l.Permits(netip.MustParsePrefix(p)); got != want {
			t.Errorf("list %s permits %s: %v, want %v", l.Name, p, got, want)
		}
	}
}

// TestVRFSpeaker checks the BGP configuration a VRF's customer sessions
// get: the global AS and router ID, no listener, each session bound to the
// VRF device in the family of its address, and the default exports with
// bgp among them.
func TestVRFSpeaker(t *testing.T) {
	c, err := Parse("vrf.yaml", []byte(`router-id: 1.1.1.1
bgp:
  as: 65001
  neighbors:
    - {address: 3.3.3.3, remote-as: 65001, families: [ipv4-vpn]}
vrfs:
  - name: red
    table: 10
    rd: "65001:1"
    rt: ["65001:1"]
    bgp:
      neighbors:
        - {address: 10.10.1.2, remote-as: 65101, password: secret}
        - {address: "2001:db8::2", remote-as: 65101}
  - {name: blue, table: 20, rd: "65001:2", rt: ["65001:2"]}
`))
	if err != nil {
		t.Fatal(err)
	}
	sc, ok := c.VRFs[0].Speaker(c.BGP)
	if !ok {
		t.Fatal("red has customer sessions, Speaker says none")
	}
	if sc.AS != 65001 || sc.RouterID != netip.MustParseAddr("1.1.1.1") || sc.ListenPort != -1 {
		t.Errorf("speaker AS %d, router ID %v, listen port %d; want 65001, 1.1.1.1, -1", sc.AS, sc.RouterID, sc.ListenPort)
	}
	want := []struct {
		addr, fam, password string
	}{{"10.10.1.2", "ipv4-unicast", "secret"}, {"2001:db8::2", "ipv6-unicast", ""}}
	if len(sc.Neighbors) != len(want) {
		t.Fatalf("neighbours %+v, want %d", sc.Neighbors, len(want))
	}
	for i, w := range want {
		n := sc.Neighbors[i]
		if n.Address.String() != w.addr || n.RemoteAS != 65101 || n.BindInterface != "red" || n.Password != w.password ||
			len(n.Families) != 1 || n.Families[0] != w.fam {
			t.Errorf("neighbour %d: %+v, want %s AS 65101 bound to red in %s", i, n, w.addr, w.fam)
		}
	}
	if _, ok := c.VRFs[1].Speaker(c.BGP); ok {
		t.Error("blue has no customer sessions, Speaker says it has")
	}
	if !c.VRFs[1].Exports("bgp") || !c.VRFs[1].Exports("static") || !c.VRFs[1].Exports("connected") {
		t.Errorf("blue's default exports %v, want connected, static and bgp", c.VRFs[1].Export)
	}
}
