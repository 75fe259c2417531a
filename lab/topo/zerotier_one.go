package topo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/lsrd/lsrd/internal/checkout"
)

// The real ZeroTier One: nodes in routers' namespaces over an underlay of
// the lab's own, on a private planet made by lsrctl, with networks created,
// configured and authorised on a self-hosted controller (the root node's
// embedded controller), joined by network ID as operators join them.

// ZeroTierOneBinary finds zerotier-one: $ZEROTIER_ONE, else
// ../shared/zerotier-one/zerotier-one beside the checkout, else on PATH.
func ZeroTierOneBinary() (string, error) {
	if b := os.Getenv("ZEROTIER_ONE"); b != "" {
		return b, nil
	}
	if root, err := checkout.Root(); err == nil {
		b := filepath.Join(root, "..", "shared", "zerotier-one", "zerotier-one")
		if _, err := os.Stat(b); err == nil {
			return b, nil
		}
	}
	if b, err := exec.LookPath("zerotier-one"); err == nil {
		return b, nil
	}
	return "", errors.New("zerotier-one not found: set ZEROTIER_ONE, put it in ../shared/zerotier-one/ beside the checkout, or install it on PATH")
}

// ZTPlanet is a private ZeroTier planet in the lab: one root node, which is
// also the controller, on an underlay segment every node attaches to.
type ZTPlanet struct {
	lab      *Lab
	bin      string
	dir      string
	ID       uint64
	File     string // the planet file (world.bin), made by lsrctl
	Underlay *Segment
	Root     *ZTNode
	next     int // last underlay host number given
}

// ZTNode is one zerotier-one process in a router's namespace.
type ZTNode struct {
	planet *ZTPlanet
	Router *Router
	Home   string // its home directory
	Token  string // the local API's token file (authtoken.secret)
	ID     string // its 10-hex-digit ZeroTier address
	proc   *process
	client *http.Client
}

// ZTPlanetID is the world ID of the lab's private planet.
const ZTPlanetID = 0x6c737264

// ZeroTierPlanet makes a private planet whose root runs in a router of its
// own ("ztroot") on the underlay 192.168.200.0/24, and starts that root.
// The test fails at once, saying why, when zerotier-one is missing.
func (l *Lab) ZeroTierPlanet() *ZTPlanet {
	t := l.t
	t.Helper()
	bin, err := ZeroTierOneBinary()
	if err != nil {
		t.Fatalf("topo: %v", err)
	}
	lsrctl, err := checkout.Binary("lsrctl")
	if err != nil {
		t.Fatalf("topo: %v", err)
	}
	p := &ZTPlanet{lab: l, bin: bin, dir: t.TempDir(), ID: ZTPlanetID}
	// Not "zt...": zerotier-one never sends over devices named like its own.
	p.Underlay = l.Segment("wan", 1500)
	root := l.Router("ztroot")
	rootHome := filepath.Join(p.dir, "ztroot")
	if err := os.MkdirAll(rootHome, 0o700); err != nil {
		t.Fatalf("topo: %v", err)
	}
	// The root's identity comes first: the planet names it.
	idtool := filepath.Join(p.dir, "zerotier-idtool")
	if err := os.Symlink(bin, idtool); err != nil {
		t.Fatalf("topo: %v", err)
	}
	l.mustHost(idtool, "generate", filepath.Join(rootHome, "identity.secret"), filepath.Join(rootHome, "identity.public"))
	pub, err := os.ReadFile(filepath.Join(rootHome, "identity.public"))
	if err != nil {
		t.Fatalf("topo: %v", err)
	}
	addr := p.attach(root)
	spec := filepath.Join(p.dir, "planet.yaml")
	// Endpoints quoted, as docs/zerotier.md writes them (an IPv6 one must be).
	specText := fmt.Sprintf("id: %#x\ntimestamp: %d\nroots:\n  - identity: %s\n    endpoints: [\"%s/9993\"]\n",
		p.ID, time.Now().UnixMilli(), strings.TrimSpace(string(pub)), addr)
	if err := os.WriteFile(spec, []byte(specText), 0o600); err != nil {
		t.Fatalf("topo: %v", err)
	}
	p.File = filepath.Join(p.dir, "planet")
	l.mustHost(lsrctl, "zerotier", "planet", "create", "--spec", spec, "-o", p.File)
	p.Root = p.start(root, rootHome)
	return p
}

// attach puts r on the underlay and returns its address there.
func (p *ZTPlanet) attach(r *Router) string {
	p.lab.t.Helper()
	p.next++
	addr := fmt.Sprintf("192.168.200.%d", p.next)
	p.Underlay.Attach(r, addr+"/24")
	return addr
}

// Node starts a ZeroTier node in r, attached to the underlay, on the
// private planet, and waits until it is online.
func (p *ZTPlanet) Node(r *Router) *ZTNode {
	p.lab.t.Helper()
	return p.Nodes(r)[0]
}

// Nodes is Node for several routers, started together and then waited for.
func (p *ZTPlanet) Nodes(rs ...*Router) []*ZTNode {
	p.lab.t.Helper()
	var ns []*ZTNode
	for _, r := range rs {
		p.attach(r)
		home := filepath.Join(p.dir, r.Name)
		if err := os.MkdirAll(home, 0o700); err != nil {
			p.lab.t.Fatalf("topo: %v", err)
		}
		ns = append(ns, p.launch(r, home, nil))
	}
	for _, n := range ns {
		n.waitOnline(true)
	}
	return ns
}

// NodeOnPlanetFile starts a node in r, attached to the underlay, whose
// planet file holds planet instead of the private planet (a damaged copy,
// say), and waits only for its API to answer: such a node looks for other
// roots and may never be online.
func (p *ZTPlanet) NodeOnPlanetFile(r *Router, planet []byte) *ZTNode {
	p.lab.t.Helper()
	p.attach(r)
	home := filepath.Join(p.dir, r.Name)
	if err := os.MkdirAll(home, 0o700); err != nil {
		p.lab.t.Fatalf("topo: %v", err)
	}
	n := p.launch(r, home, planet)
	n.waitOnline(false)
	return n
}

// start launches a node and waits for it.
func (p *ZTPlanet) start(r *Router, home string) *ZTNode {
	p.lab.t.Helper()
	n := p.launch(r, home, nil)
	n.waitOnline(true)
	return n
}

// launch writes the planet (the private one when planet is nil) and local
// settings into home and runs zerotier-one there, in r's namespace.
func (p *ZTPlanet) launch(r *Router, home string, planet []byte) *ZTNode {
	t := p.lab.t
	t.Helper()
	if planet == nil {
		var err error
		if planet, err = os.ReadFile(p.File); err != nil {
			t.Fatalf("topo: %v", err)
		}
	}
	if err := os.WriteFile(filepath.Join(home, "planet"), planet, 0o644); err != nil {
		t.Fatalf("topo: %v", err)
	}
	// Nothing outside the lab: no UPnP/NAT-PMP, no TCP relay.
	local := `{"settings":{"portMappingEnabled":false,"allowTcpFallbackRelay":false,"allowSecondaryPort":false}}`
	if err := os.WriteFile(filepath.Join(home, "local.conf"), []byte(local), 0o644); err != nil {
		t.Fatalf("topo: %v", err)
	}
	n := &ZTNode{planet: p, Router: r, Home: home, Token: filepath.Join(home, "authtoken.secret")}
	var err error
	n.proc, err = r.startProcess("zerotier-one", filepath.Join(home, "zerotier-one.log"), p.bin, "-p9993", home)
	if err != nil {
		t.Fatalf("topo: %s: %v", r.Name, err)
	}
	n.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) { return r.DialContext(ctx, addr) },
	}}
	t.Cleanup(func() {
		if err := n.proc.stop(10 * time.Second); err != nil {
			t.Logf("topo: %s: %v", r.Name, err)
		}
		if t.Failed() {
			t.Logf("topo: %s: zerotier-one log:\n%s", r.Name, n.proc.logText())
		}
	})
	return n
}

// waitOnline waits until the node answers on its API and, with online
// and unless it is the root, is online (reaches the root).
func (n *ZTNode) waitOnline(online bool) {
	t := n.planet.lab.t
	t.Helper()
	var st struct {
		Address string `json:"address"`
		Online  bool   `json:"online"`
	}
	Eventually(t, 60*time.Second, n.Router.Name+": zerotier-one online on the private planet", func() error {
		if err := n.proc.exited(); err != nil {
			return err
		}
		if err := n.API(http.MethodGet, "/status", nil, &st); err != nil {
			return err
		}
		if online && !st.Online && n.planet.Root != nil {
			return fmt.Errorf("node %s not online yet", st.Address)
		}
		return nil
	})
	n.ID = st.Address
}

// API calls the node's local service API (127.0.0.1:9993 in its namespace)
// with its token; in, when not nil, is sent as JSON; out, when not nil,
// receives the JSON answer.
func (n *ZTNode) API(method, path string, in, out any) error {
	tok, err := os.ReadFile(n.Token)
	if err != nil {
		return err
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://127.0.0.1:9993"+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("X-ZT1-Auth", strings.TrimSpace(string(tok)))
	resp, err := n.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: zerotier-one %s %s: %w", n.Router.Name, method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: zerotier-one %s %s: %s: %s", n.Router.Name, method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// LSRDConfig is the zerotier: section of an lsrd configuration that talks
// to this node, polling every second.
func (n *ZTNode) LSRDConfig() string {
	return fmt.Sprintf("zerotier:\n  api: http://127.0.0.1:9993\n  authtoken: %s\n  poll-interval: 1s\n  expected-planet:\n    id: %#x\n",
		n.Token, n.planet.ID)
}

// ZTNetwork is a network on the planet's controller.
type ZTNetwork struct {
	planet *ZTPlanet
	Name   string
	ID     uint64
	Prefix string // the managed route every member's address is in
}

// ZT rule sets for ZTNetwork.SetRules, as the controller's JSON has them.
var (
	// ZTAcceptAll is the controller's default: every frame passes.
	ZTAcceptAll = []map[string]any{{"type": "ACTION_ACCEPT"}}
	// ZTIPOnly is ZeroTier Central's default rule set: IPv4, ARP and IPv6
	// only, so labelled frames (0x8847) are dropped.
	ZTIPOnly = []map[string]any{
		{"type": "MATCH_ETHERTYPE", "not": true, "or": false, "etherType": 0x0800},
		{"type": "MATCH_ETHERTYPE", "not": true, "or": false, "etherType": 0x0806},
		{"type": "MATCH_ETHERTYPE", "not": true, "or": false, "etherType": 0x86dd},
		{"type": "ACTION_DROP"},
		{"type": "ACTION_ACCEPT"},
	}
	// ZTIPAndMPLS is ZTIPOnly with MPLS unicast and multicast let through,
	// as docs/zerotier.md tells operators to write it.
	ZTIPAndMPLS = []map[string]any{
		{"type": "MATCH_ETHERTYPE", "not": true, "or": false, "etherType": 0x0800},
		{"type": "MATCH_ETHERTYPE", "not": true, "or": false, "etherType": 0x0806},
		{"type": "MATCH_ETHERTYPE", "not": true, "or": false, "etherType": 0x86dd},
		{"type": "MATCH_ETHERTYPE", "not": true, "or": false, "etherType": 0x8847},
		{"type": "MATCH_ETHERTYPE", "not": true, "or": false, "etherType": 0x8848},
		{"type": "ACTION_DROP"},
		{"type": "ACTION_ACCEPT"},
	}
)

// Network creates a private network on the controller whose members get
// addresses in prefix (e.g. "10.1.0.0/24"), with ZeroTier's default MTU
// and accept-all rules.
func (p *ZTPlanet) Network(name, prefix string) *ZTNetwork {
	t := p.lab.t
	t.Helper()
	var created struct {
		ID string `json:"id"`
	}
	cfg := map[string]any{"name": name, "private": true, "routes": []map[string]any{{"target": prefix, "via": nil}},
		"v4AssignMode": map[string]any{"zt": false}, "rules": ZTAcceptAll}
	if err := p.Root.API(http.MethodPost, "/controller/network/"+p.Root.ID+"______", cfg, &created); err != nil {
		t.Fatalf("topo: creating network %s: %v", name, err)
	}
	var id uint64
	if _, err := fmt.Sscanf(created.ID, "%016x", &id); err != nil {
		t.Fatalf("topo: controller's network ID %q: %v", created.ID, err)
	}
	return &ZTNetwork{planet: p, Name: name, ID: id, Prefix: prefix}
}

// Hex is the network ID as ZeroTier writes it.
func (w *ZTNetwork) Hex() string { return fmt.Sprintf("%016x", w.ID) }

// Configure posts fields of the network's configuration (e.g. "mtu",
// "rules") to the controller.
func (w *ZTNetwork) Configure(fields map[string]any) {
	t := w.planet.lab.t
	t.Helper()
	if err := w.planet.Root.API(http.MethodPost, "/controller/network/"+w.Hex(), fields, nil); err != nil {
		t.Fatalf("topo: configuring network %s: %v", w.Hex(), err)
	}
}

// SetRules replaces the network's flow rules.
func (w *ZTNetwork) SetRules(rules []map[string]any) { w.Configure(map[string]any{"rules": rules}) }

// Join has n join the network and the controller authorise it with address
// ip (no prefix length: the network's route gives it), then waits until the
// network is OK on n with ip on its device, and returns the device's name.
func (w *ZTNetwork) Join(n *ZTNode, ip string) string {
	w.planet.lab.t.Helper()
	w.join(n, ip)
	return w.wait(n, ip)
}

// join has n join the network and the controller authorise it.
func (w *ZTNetwork) join(n *ZTNode, ip string) {
	t := w.planet.lab.t
	t.Helper()
	if err := n.API(http.MethodPost, "/network/"+w.Hex(), map[string]any{}, nil); err != nil {
		t.Fatalf("topo: %s joining %s: %v", n.Router.Name, w.Hex(), err)
	}
	w.Authorize(n, true, ip)
}

// wait waits until the network is OK on n with ip on its device, and
// returns the device's name.
func (w *ZTNetwork) wait(n *ZTNode, ip string) string {
	t := w.planet.lab.t
	t.Helper()
	var dev string
	Eventually(t, 60*time.Second, n.Router.Name+": network "+w.Hex()+" OK with "+ip, func() error {
		var st struct {
			Status string   `json:"status"`
			Device string   `json:"portDeviceName"`
			Addrs  []string `json:"assignedAddresses"`
		}
		if err := n.API(http.MethodGet, "/network/"+w.Hex(), nil, &st); err != nil {
			return err
		}
		if st.Status != "OK" || st.Device == "" {
			return fmt.Errorf("status %s, device %q", st.Status, st.Device)
		}
		out, err := n.Router.Try("ip", "-4", "addr", "show", "dev", st.Device)
		if err != nil || !strings.Contains(out, "inet "+ip+"/") {
			return fmt.Errorf("%s has not %s yet: %s", st.Device, ip, out)
		}
		dev = st.Device
		return nil
	})
	return dev
}

// Authorize sets n's membership: authorised or not, with the addresses
// given (none keeps them as they are).
func (w *ZTNetwork) Authorize(n *ZTNode, ok bool, ips ...string) {
	t := w.planet.lab.t
	t.Helper()
	m := map[string]any{"authorized": ok}
	if len(ips) > 0 {
		m["ipAssignments"] = ips
	}
	if err := w.planet.Root.API(http.MethodPost, "/controller/network/"+w.Hex()+"/member/"+n.ID, m, nil); err != nil {
		t.Fatalf("topo: authorising %s on %s: %v", n.Router.Name, w.Hex(), err)
	}
}
