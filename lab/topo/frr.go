package topo

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// FRRConfig describes an FRR router; Render turns it into an integrated
// frr.conf.
type FRRConfig struct {
	RouterID string
	// Static routes, each "PREFIX NEXTHOP" as in FRR's "ip route" command.
	Static []string
	LDP    *FRRLDP
	BGP    *FRRBGP
	OSPF   *FRROSPF
	// Extra is appended verbatim, for what the fields do not cover.
	Extra string
	// Daemons are started besides those the fields call for, e.g. bgpd
	// for a "router bgp" given in Extra.
	Daemons []string
}

// FRRLDP is the "mpls ldp" part of an FRR router's config.
type FRRLDP struct {
	TransportAddress string   // defaults to the router ID
	Interfaces       []string // interfaces with basic discovery
	Targeted         []string // targeted neighbours (extended discovery)
	ExplicitNull     bool     // advertise explicit-null instead of implicit-null for local FECs
	// Global lines go under "mpls ldp" as they are (timers: "discovery
	// hello holdtime 10", "neighbor 2.2.2.2 session holdtime 15").
	Global []string
	// NoIPv4 leaves the IPv4 address family out (an IPv6-only LSR).
	NoIPv4 bool
	// IPv6 runs LDP over IPv6 (RFC 7552): "address-family ipv6" with
	// this transport address and these interfaces.
	IPv6 *FRRLDPIPv6
}

// FRRLDPIPv6 is the "address-family ipv6" part of "mpls ldp".
type FRRLDPIPv6 struct {
	TransportAddress string
	Interfaces       []string
}

// FRROSPF is an OSPFv2 instance in area 0, as FRR's docs configure it: the
// interfaces point-to-point with fast timers (hello 1 s, dead 4 s), the
// loopback passive.
type FRROSPF struct {
	Interfaces []string
	// Cost sets an interface's cost (default 10).
	Cost map[string]int
}

// FRRBGP is the "router bgp" part of an FRR router's config.
type FRRBGP struct {
	AS        uint32
	Neighbors []BGPNeighbor
	Networks  []string // prefixes to originate
}

// BGPNeighbor is one BGP peer of a router under test.
type BGPNeighbor struct {
	Address string
	AS      uint32
	// LocalAddress and Multihop (gobgpd only): the session runs between
	// loopbacks, more than one hop apart.
	LocalAddress string
	Multihop     uint8
	// Families (gobgpd only) are GoBGP's names, e.g. "ipv4-unicast",
	// "ipv4-labelled-unicast"; none means IPv4 unicast.
	Families []string
	// GracefulRestart (gobgpd only) enables graceful restart (RFC 4724)
	// with a tuple for each family.
	GracefulRestart bool
	// TTLMin (gobgpd only) turns on the TTL security check (RFC 5082):
	// packets from the neighbour must arrive with at least this TTL.
	TTLMin uint8
	// Password (gobgpd only) turns on TCP-MD5 (RFC 2385).
	Password string
}

// Render returns the integrated configuration for a router named name.
func (c FRRConfig) Render(name string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("frr defaults traditional")
	w("hostname %s", name)
	w("log file %s informational", filepath.Join(frrRunDir(name), "frr.log"))
	w("!")
	for _, s := range c.Static {
		if strings.Contains(strings.Fields(s)[0], ":") {
			w("ipv6 route %s", s)
		} else {
			w("ip route %s", s)
		}
	}
	if l := c.LDP; l != nil {
		ta := l.TransportAddress
		if ta == "" {
			ta = c.RouterID
		}
		w("mpls ldp")
		w(" router-id %s", c.RouterID)
		for _, g := range l.Global {
			w(" %s", g)
		}
		if !l.NoIPv4 {
			w(" address-family ipv4")
			w("  discovery transport-address %s", ta)
			if l.ExplicitNull {
				w("  label local advertise explicit-null")
			}
			for _, n := range l.Targeted {
				w("  neighbor %s targeted", n)
			}
			for _, i := range l.Interfaces {
				w("  interface %s", i)
			}
			w(" exit-address-family")
		}
		if v6 := l.IPv6; v6 != nil {
			w(" address-family ipv6")
			w("  discovery transport-address %s", v6.TransportAddress)
			for _, i := range v6.Interfaces {
				w("  interface %s", i)
			}
			w(" exit-address-family")
		}
		w("exit")
	}
	if g := c.BGP; g != nil {
		w("router bgp %d", g.AS)
		w(" bgp router-id %s", c.RouterID)
		w(" no bgp ebgp-requires-policy")
		for _, n := range g.Neighbors {
			w(" neighbor %s remote-as %d", n.Address, n.AS)
		}
		w(" address-family ipv4 unicast")
		for _, n := range g.Networks {
			w("  network %s", n)
		}
		w(" exit-address-family")
		w("exit")
	}
	if o := c.OSPF; o != nil {
		for _, i := range o.Interfaces {
			w("interface %s", i)
			w(" ip ospf area 0")
			w(" ip ospf network point-to-point")
			w(" ip ospf hello-interval 1")
			w(" ip ospf dead-interval 4")
			if cost, ok := o.Cost[i]; ok {
				w(" ip ospf cost %d", cost)
			}
			w("exit")
		}
		w("interface lo")
		w(" ip ospf area 0")
		w(" ip ospf passive")
		w("exit")
		w("router ospf")
		w(" ospf router-id %s", c.RouterID)
		w(" timers throttle spf 0 50 500")
		w("exit")
	}
	b.WriteString(c.Extra)
	return b.String()
}

// FRR is a running FRR router in a lab namespace.
type FRR struct {
	r       *Router
	daemons []string
}

func frrRunDir(name string) string  { return filepath.Join("/run/frr", name) }
func frrConfDir(name string) string { return filepath.Join("/etc/frr", name) }

// StartFRR starts zebra and staticd, and ldpd, bgpd and ospfd when the config has them, in
// the router, each with FRR's path space named after the router so that several
// FRR routers share the guest. They are stopped when the test ends, and their
// log is printed if it failed.
func (r *Router) StartFRR(cfg FRRConfig) *FRR {
	t := r.lab.t
	t.Helper()
	daemons := []string{"zebra", "staticd"}
	if cfg.LDP != nil {
		daemons = append(daemons, "ldpd")
	}
	if cfg.BGP != nil {
		daemons = append(daemons, "bgpd")
	}
	if cfg.OSPF != nil {
		daemons = append(daemons, "ospfd")
	}
	for _, d := range cfg.Daemons {
		if !slices.Contains(daemons, d) {
			daemons = append(daemons, d)
		}
	}
	f := &FRR{r: r}
	uid, gid := frrIDs(t)
	conf := filepath.Join(frrConfDir(r.Name), "frr.conf")
	for _, d := range []string{frrConfDir(r.Name), frrRunDir(r.Name)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("topo: %s: %v", r.Name, err)
		}
		if err := os.Chown(d, uid, gid); err != nil {
			t.Fatalf("topo: %s: %v", r.Name, err)
		}
	}
	if err := os.WriteFile(conf, []byte(cfg.Render(r.Name)), 0o644); err != nil {
		t.Fatalf("topo: %s: %v", r.Name, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("topo: %s: FRR config:\n%s\nFRR log (tail):\n%s", r.Name, cfg.Render(r.Name), f.LogTail(60))
		}
		f.Stop()
		os.RemoveAll(frrConfDir(r.Name))
		os.RemoveAll(frrRunDir(r.Name))
	})
	// Each daemon starts with an empty config and vtysh then hands every
	// daemon its own part of the integrated file, as FRR's own init does.
	// vtysh.conf only has to exist: without it vtysh complains on every call.
	empty := filepath.Join(frrConfDir(r.Name), "empty.conf")
	for _, p := range []string{empty, filepath.Join(frrConfDir(r.Name), "vtysh.conf")} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatalf("topo: %s: %v", r.Name, err)
		}
	}
	for _, d := range daemons {
		// zebra reads the namespace's routes and addresses before it
		// daemonizes: minutes at a benchmark's 50,000 under emulation.
		if _, err := r.TryFor(15*time.Minute, "/usr/lib/frr/"+d, "-d", "-N", r.Name, "-f", empty); err != nil {
			t.Fatalf("topo: %s: starting FRR %s: %v\nlog:\n%s", r.Name, d, err, f.LogTail(30))
		}
		f.daemons = append(f.daemons, d)
		if d == "zebra" {
			// The other daemons register with zebra at start; give its socket
			// time to appear rather than racing it.
			Eventually(t, StartWait(), r.Name+": zebra's API socket", func() error {
				_, err := os.Stat(filepath.Join(frrRunDir(r.Name), "zserv.api"))
				return err
			})
		}
	}
	if out, err := f.Vtysh("", "-f", conf); err != nil {
		t.Fatalf("topo: %s: applying FRR config: %v\n%s", r.Name, err, out)
	}
	return f
}

func frrIDs(t T) (int, int) {
	u, err := user.Lookup("frr")
	if err != nil {
		t.Fatalf("topo: FRR's user: %v (install frr)", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return uid, gid
}

// Vtysh runs one vtysh command against this router and returns its output.
// Extra arguments go to vtysh itself; an empty command sends none.
func (f *FRR) Vtysh(command string, args ...string) (string, error) {
	argv := append([]string{"vtysh", "-N", f.r.Name}, args...)
	if command != "" {
		argv = append(argv, "-c", command)
	}
	return f.r.lab.host(argv...)
}

// VtyshJSON runs a "... json" show command and decodes its output into v.
func (f *FRR) VtyshJSON(command string, v any) error {
	out, err := f.Vtysh(command)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		return fmt.Errorf("%s: vtysh %q: %w: %.200s", f.r.Name, command, err, out)
	}
	return nil
}

// LogTail returns the last n lines of the router's FRR log.
func (f *FRR) LogTail(n int) string {
	b, err := os.ReadFile(filepath.Join(frrRunDir(f.r.Name), "frr.log"))
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Stop stops the daemons, newest first, and waits until they are gone.
func (f *FRR) Stop() {
	for i := len(f.daemons) - 1; i >= 0; i-- {
		pidFile := filepath.Join(frrRunDir(f.r.Name), f.daemons[i]+".pid")
		if err := stopPIDFile(pidFile); err != nil {
			f.r.lab.t.Logf("topo: %s: stopping %s: %v", f.r.Name, f.daemons[i], err)
		}
	}
	f.daemons = nil
}

// stopPIDFile sends SIGTERM to the process named in a pid file, and SIGKILL if
// it has not gone five seconds later.
func stopPIDFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return stopPID(pid)
}

func stopPID(pid int) error {
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		return err
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if !alive(pid) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	return fmt.Errorf("pid %d ignored SIGTERM for 5s and was killed", pid)
}

// alive reports whether pid is a running process. A zombie counts as gone: in
// the guest, daemons that double-forked are reparented to an init that does
// not reap them.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	if i := strings.LastIndexByte(string(b), ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z'
	}
	return true
}

// LDPNeighbor is the part of FRR's "show mpls ldp neighbor json" the lab reads.
type LDPNeighbor struct {
	NeighborID string `json:"neighborId"`
	State      string `json:"state"`
	UpTime     string `json:"upTime"` // hh:mm:ss in the session's current state, or e.g. "1d02h03m"
}

// LDPNeighbors returns the router's LDP neighbours as FRR reports them.
func (f *FRR) LDPNeighbors() ([]LDPNeighbor, error) {
	var v struct {
		Neighbors []LDPNeighbor `json:"neighbors"`
	}
	err := f.VtyshJSON("show mpls ldp neighbor json", &v)
	return v.Neighbors, err
}

// WaitLDPOperational waits until the router has an OPERATIONAL LDP session
// with each of the given LSR IDs.
func (f *FRR) WaitLDPOperational(t T, timeout time.Duration, peers ...string) {
	t.Helper()
	for _, p := range peers {
		Eventually(t, timeout, f.r.Name+": LDP session with "+p, func() error {
			ns, err := f.LDPNeighbors()
			if err != nil {
				return err
			}
			for _, n := range ns {
				if n.NeighborID == p && n.State == "OPERATIONAL" {
					return nil
				}
			}
			return fmt.Errorf("neighbours %+v", ns)
		})
	}
}

// LDPBinding is one row of FRR's "show mpls ldp binding json": the labels
// this router and one neighbour bound to a FEC.
type LDPBinding struct {
	Prefix      string `json:"prefix"`
	NeighborID  string `json:"neighborId"`
	LocalLabel  string `json:"localLabel"`  // a number, "imp-null", "exp-null" or "-"
	RemoteLabel string `json:"remoteLabel"` // likewise
	InUse       int    `json:"inUse"`
}

// LDPBindings returns the router's LDP label bindings.
func (f *FRR) LDPBindings() ([]LDPBinding, error) {
	var v struct {
		Bindings []LDPBinding `json:"bindings"`
	}
	err := f.VtyshJSON("show mpls ldp binding json", &v)
	return v.Bindings, err
}

// FRRLabel turns FRR's way of writing a label into its number: implicit-null
// is 3 and explicit-null 0 (RFC 3032); ok is false for "-" (no label).
func FRRLabel(s string) (label uint32, ok bool) {
	switch s {
	case "imp-null":
		return 3, true
	case "exp-null":
		return 0, true
	}
	n, err := strconv.ParseUint(s, 10, 20)
	return uint32(n), err == nil
}
