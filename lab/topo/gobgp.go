package topo

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/anypb"
)

// GoBGPConfig describes a gobgpd peer.
type GoBGPConfig struct {
	AS        uint32
	RouterID  string
	Neighbors []BGPNeighbor
	// Routes are originated before any neighbour is configured, so that
	// the first UPDATEs (and End-of-RIB) carry them all.
	Routes []GoBGPRoute
	// Restarting starts gobgpd with the Restart State bit of graceful
	// restart set (gobgpd -r): it comes back from a restart.
	Restarting bool
}

// GoBGPRoute is an IPv4 unicast route gobgpd originates.
type GoBGPRoute struct {
	Prefix  netip.Prefix
	NextHop netip.Addr
}

func (c GoBGPConfig) render() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[global.config]\n  as = %d\n  router-id = %q\n", c.AS, c.RouterID)
	for _, n := range c.Neighbors {
		fmt.Fprintf(&b, "\n[[neighbors]]\n  [neighbors.config]\n    neighbor-address = %q\n    peer-as = %d\n", n.Address, n.AS)
		if n.Password != "" {
			fmt.Fprintf(&b, "    auth-password = %q\n", n.Password)
		}
		if n.LocalAddress != "" {
			fmt.Fprintf(&b, "  [neighbors.transport.config]\n    local-address = %q\n", n.LocalAddress)
		}
		if n.Multihop > 0 {
			fmt.Fprintf(&b, "  [neighbors.ebgp-multihop.config]\n    enabled = true\n    multihop-ttl = %d\n", n.Multihop)
		}
		if n.TTLMin != 0 {
			fmt.Fprintf(&b, "  [neighbors.ttl-security.config]\n    enabled = true\n    ttl-min = %d\n", n.TTLMin)
		}
		if n.GracefulRestart {
			fmt.Fprintf(&b, "  [neighbors.graceful-restart.config]\n    enabled = true\n    restart-time = 120\n")
		}
		fams := n.Families
		if len(fams) == 0 && n.GracefulRestart {
			// A family needs its own graceful restart tuple.
			fams = []string{"ipv4-unicast"}
		}
		for _, f := range fams {
			fmt.Fprintf(&b, "  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = %q\n", f)
			if n.GracefulRestart {
				fmt.Fprintf(&b, "    [neighbors.afi-safis.mp-graceful-restart.config]\n      enabled = true\n")
			}
		}
	}
	return b.String()
}

// GoBGP is a running gobgpd in a lab router, driven through its gRPC API.
type GoBGP struct {
	r      *Router
	proc   *process
	conn   *grpc.ClientConn
	Client api.GobgpApiClient
}

const gobgpAPI = "127.0.0.1:50051"

// StartGoBGP starts Debian's gobgpd in the router with its API on the router's
// loopback and connects to it. It is stopped when the test ends.
func (r *Router) StartGoBGP(cfg GoBGPConfig) *GoBGP {
	t := r.lab.t
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "gobgpd.toml")
	first := cfg
	if len(cfg.Routes) > 0 {
		first.Neighbors = nil
	}
	if err := os.WriteFile(conf, []byte(first.render()), 0o644); err != nil {
		t.Fatalf("topo: %s: %v", r.Name, err)
	}
	g := &GoBGP{r: r}
	var err error
	args := []string{"gobgpd", "-f", conf, "-p", "--api-hosts", gobgpAPI, "--pprof-disable"}
	if cfg.Restarting {
		args = append(args, "-r")
	}
	g.proc, err = r.startProcess("gobgpd", filepath.Join(dir, "gobgpd.log"), args...)
	if err != nil {
		t.Fatalf("topo: %s: %v", r.Name, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("topo: %s: gobgpd log:\n%s", r.Name, g.proc.logText())
		}
		g.Stop()
	})
	g.conn, err = grpc.NewClient("passthrough:///"+gobgpAPI,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			return r.DialContext(ctx, addr)
		}))
	if err != nil {
		t.Fatalf("topo: %s: gobgpd API client: %v", r.Name, err)
	}
	g.Client = api.NewGobgpApiClient(g.conn)
	Eventually(t, 30*time.Second, r.Name+": gobgpd API", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := g.Client.GetBgp(ctx, &api.GetBgpRequest{})
		return err
	})
	if len(cfg.Routes) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, rt := range cfg.Routes {
			if err := g.AddRoute(ctx, rt.Prefix, rt.NextHop); err != nil {
				t.Fatalf("topo: %v", err)
			}
		}
		// The neighbours come with gobgpd's configuration reload.
		if err := os.WriteFile(conf, []byte(cfg.render()), 0o644); err != nil {
			t.Fatalf("topo: %s: %v", r.Name, err)
		}
		g.proc.cmd.Process.Signal(syscall.SIGHUP)
		Eventually(t, 30*time.Second, r.Name+": gobgpd's neighbours from the reloaded configuration", func() error {
			for _, n := range cfg.Neighbors {
				if _, err := g.PeerState(ctx, n.Address); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g
}

// Kill ends gobgpd with SIGKILL, as a crash would: no NOTIFICATION, the
// kernel closes its sessions.
func (g *GoBGP) Kill() {
	g.proc.cmd.Process.Kill()
	g.proc.wait()
}

// Stop stops gobgpd and closes the API connection.
func (g *GoBGP) Stop() {
	if g.conn != nil {
		g.conn.Close()
		g.conn = nil
	}
	g.proc.stop(5 * time.Second)
}

// PeerState returns the session state gobgpd reports for a neighbour.
func (g *GoBGP) PeerState(ctx context.Context, addr string) (api.PeerState_SessionState, error) {
	stream, err := g.Client.ListPeer(ctx, &api.ListPeerRequest{Address: addr})
	if err != nil {
		return 0, err
	}
	resp, err := stream.Recv()
	if err != nil {
		return 0, fmt.Errorf("gobgpd in %s: neighbour %s: %w", g.r.Name, addr, err)
	}
	return resp.Peer.GetState().GetSessionState(), nil
}

// ipv4Unicast is the only family the lab's gobgpd peers carry.
var ipv4Unicast = &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}

// path is an IPv4 unicast path as gobgpd's API takes it.
func path(prefix netip.Prefix, nextHop netip.Addr) (*api.Path, error) {
	nlri, err := anypb.New(&api.IPAddressPrefix{Prefix: prefix.Addr().String(), PrefixLen: uint32(prefix.Bits())})
	if err != nil {
		return nil, err
	}
	origin, err := anypb.New(&api.OriginAttribute{Origin: 0})
	if err != nil {
		return nil, err
	}
	nh, err := anypb.New(&api.NextHopAttribute{NextHop: nextHop.String()})
	if err != nil {
		return nil, err
	}
	return &api.Path{Family: ipv4Unicast, Nlri: nlri, Pattrs: []*anypb.Any{origin, nh}}, nil
}

// AddRoute originates an IPv4 unicast route with the given next hop.
func (g *GoBGP) AddRoute(ctx context.Context, prefix netip.Prefix, nextHop netip.Addr) error {
	p, err := path(prefix, nextHop)
	if err == nil {
		_, err = g.Client.AddPath(ctx, &api.AddPathRequest{Path: p})
	}
	if err != nil {
		return fmt.Errorf("gobgpd in %s: adding %s: %w", g.r.Name, prefix, err)
	}
	return nil
}

// DeleteRoute withdraws a route AddRoute originated.
func (g *GoBGP) DeleteRoute(ctx context.Context, prefix netip.Prefix, nextHop netip.Addr) error {
	p, err := path(prefix, nextHop)
	if err == nil {
		_, err = g.Client.DeletePath(ctx, &api.DeletePathRequest{TableType: api.TableType_GLOBAL, Family: ipv4Unicast, Path: p})
	}
	if err != nil {
		return fmt.Errorf("gobgpd in %s: withdrawing %s: %w", g.r.Name, prefix, err)
	}
	return nil
}

// Prefixes lists the prefixes in gobgpd's global IPv4 unicast table.
func (g *GoBGP) Prefixes(ctx context.Context) ([]string, error) {
	var out []string
	err := g.listPaths(ctx, ipv4Unicast, func(d *api.Destination) { out = append(out, d.Prefix) })
	return out, err
}

// WaitEstablished waits until gobgpd's session with the neighbour at addr
// is Established.
func (g *GoBGP) WaitEstablished(t T, timeout time.Duration, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout+5*time.Second)
	defer cancel()
	Eventually(t, timeout, g.r.Name+": gobgpd's session with "+addr, func() error {
		st, err := g.PeerState(ctx, addr)
		if err != nil {
			return err
		}
		if st != api.PeerState_ESTABLISHED {
			return fmt.Errorf("state %v", st)
		}
		return nil
	})
}

// AddRoutes originates many IPv4 unicast routes with one next hop through
// gobgpd's AddPathStream, a thousand paths per message: 100,000 routes take
// seconds, where one AddPath call per route would take minutes.
func (g *GoBGP) AddRoutes(ctx context.Context, prefixes []netip.Prefix, nextHop netip.Addr) error {
	return g.streamPaths(ctx, prefixes, nextHop, false)
}

// WithdrawRoutes withdraws routes AddRoutes or AddRoute originated, in bulk.
func (g *GoBGP) WithdrawRoutes(ctx context.Context, prefixes []netip.Prefix, nextHop netip.Addr) error {
	return g.streamPaths(ctx, prefixes, nextHop, true)
}

func (g *GoBGP) streamPaths(ctx context.Context, prefixes []netip.Prefix, nextHop netip.Addr, withdraw bool) error {
	return g.SendPaths(ctx, len(prefixes), func(i int) (*api.Path, error) {
		ap, err := path(prefixes[i], nextHop)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", prefixes[i], err)
		}
		ap.IsWithdraw = withdraw
		return ap, nil
	})
}

// SendPaths streams n paths into gobgpd's global table through
// AddPathStream, 1,000 to a message, path(i) building the i-th as it is
// sent (a full table is never held whole on this side).
func (g *GoBGP) SendPaths(ctx context.Context, n int, path func(i int) (*api.Path, error)) error {
	stream, err := g.Client.AddPathStream(ctx)
	if err != nil {
		return fmt.Errorf("gobgpd in %s: path stream: %w", g.r.Name, err)
	}
	for i := 0; i < n; i += 1000 {
		req := &api.AddPathStreamRequest{TableType: api.TableType_GLOBAL}
		for j := i; j < min(i+1000, n); j++ {
			ap, err := path(j)
			if err != nil {
				return fmt.Errorf("gobgpd in %s: %w", g.r.Name, err)
			}
			req.Paths = append(req.Paths, ap)
		}
		if err := stream.Send(req); err != nil {
			return fmt.Errorf("gobgpd in %s: streaming paths: %w", g.r.Name, err)
		}
	}
	if _, err := stream.CloseAndRecv(); err != nil {
		return fmt.Errorf("gobgpd in %s: streaming paths: %w", g.r.Name, err)
	}
	return nil
}

// DeleteFamily withdraws every path gobgpd originated in family fam (its
// global table) with one request.
func (g *GoBGP) DeleteFamily(ctx context.Context, fam *api.Family) error {
	if _, err := g.Client.DeletePath(ctx, &api.DeletePathRequest{TableType: api.TableType_GLOBAL, Family: fam}); err != nil {
		return fmt.Errorf("gobgpd in %s: withdrawing all of %v: %w", g.r.Name, fam, err)
	}
	return nil
}

// EstablishedAt returns when gobgpd's session with the neighbour at addr
// last became Established (its uptime's start), or an error when it is not.
func (g *GoBGP) EstablishedAt(ctx context.Context, addr string) (time.Time, error) {
	stream, err := g.Client.ListPeer(ctx, &api.ListPeerRequest{Address: addr})
	if err != nil {
		return time.Time{}, err
	}
	resp, err := stream.Recv()
	if err != nil {
		return time.Time{}, fmt.Errorf("gobgpd in %s: neighbour %s: %w", g.r.Name, addr, err)
	}
	if st := resp.Peer.GetState().GetSessionState(); st != api.PeerState_ESTABLISHED {
		return time.Time{}, fmt.Errorf("gobgpd in %s: neighbour %s is %v", g.r.Name, addr, st)
	}
	up := resp.Peer.GetTimers().GetState().GetUptime()
	if up == nil {
		return time.Time{}, fmt.Errorf("gobgpd in %s: neighbour %s: no uptime", g.r.Name, addr)
	}
	return up.AsTime(), nil
}

// BestWatch records, as a stream rather than by polls, the changes of one
// prefix's best path in gobgpd's global table.
type BestWatch struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	events []string // "update from X" or "withdraw", in order
}

// WatchBest starts watching prefix's best path in gobgpd (WatchEvent,
// without the current table replayed).
func (g *GoBGP) WatchBest(prefix netip.Prefix) (*BestWatch, error) {
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := g.Client.WatchEvent(ctx, &api.WatchEventRequest{Table: &api.WatchEventRequest_Table{
		Filters: []*api.WatchEventRequest_Table_Filter{{Type: api.WatchEventRequest_Table_Filter_BEST}}}})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("gobgpd in %s: watching best paths: %w", g.r.Name, err)
	}
	w := &BestWatch{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			ev, err := stream.Recv()
			if err != nil {
				return
			}
			for _, p := range ev.GetTable().GetPaths() {
				var nlri api.IPAddressPrefix
				if p.GetNlri() == nil || p.GetNlri().UnmarshalTo(&nlri) != nil {
					continue
				}
				if got, err := netip.ParsePrefix(fmt.Sprintf("%s/%d", nlri.Prefix, nlri.PrefixLen)); err != nil || got != prefix {
					continue
				}
				what := "update from " + p.GetNeighborIp()
				if p.GetIsWithdraw() {
					what = "withdraw"
				}
				w.mu.Lock()
				w.events = append(w.events, what)
				w.mu.Unlock()
			}
		}
	}()
	return w, nil
}

// Stop ends the watch and returns what it saw.
func (w *BestWatch) Stop() []string {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.events)
}
