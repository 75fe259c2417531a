package daemon

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lsrd/lsrd/config"
	"github.com/lsrd/lsrd/zerotier"
	"github.com/lsrd/lsrd/zerotier/zttest"
)

// The daemon's reading of a poll, against the fake service: which devices
// LDP runs on, and what the view and findings say.
func TestZeroTierResolve(t *testing.T) {
	svc := zttest.New("tok")
	svc.SetNetwork(zttest.Network{ID: 0x8056c2e21c123456, Addresses: []string{"10.147.17.5/24"}, Multicast: []string{"01:00:5e:00:00:02"}})
	svc.SetNetwork(zttest.Network{ID: 0x0123456789abcdef, Device: "ztplain0"})
	var failNetwork atomic.Bool // the service fails mid-poll, after /status and /network
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failNetwork.Load() && strings.HasPrefix(r.URL.Path, "/network/") {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		svc.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	tok, err := svc.WriteToken(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("lsrd.yaml", []byte(`router-id: 1.1.1.1
ldp:
  interfaces:
    - name: 8056c2e21c123456
    - name: ztplain0
    - name: eth0
zerotier:
  api: `+srv.URL+`
  authtoken: `+tok+`
  expected-planet:
    id: 0x6c737264
`))
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{cfg: cfg}
	d.initZeroTier()
	resolve := func() (map[string]string, []networkFinding, string) {
		view, devices, fs := ztResolve(cfg, poll(context.Background(), d.zt.plan.Load()), nil, nil)
		var b strings.Builder
		for _, n := range view.Networks {
			b.WriteString(n.ConfiguredAs + "=" + n.LDPInterface + " ")
		}
		return devices, fs, b.String()
	}
	finding := func(fs []networkFinding, network, check string) zerotier.Finding {
		for _, f := range fs {
			if f.network == network && f.Check == check {
				return f.Finding
			}
		}
		t.Fatalf("no %s finding for %q in %+v", check, network, fs)
		return zerotier.Finding{}
	}

	devices, fs, ldpOn := resolve()
	if devices["8056c2e21c123456"] != "ztmjfnbvsk" || len(devices) != 1 {
		t.Errorf("devices %v", devices)
	}
	if ldpOn != "8056c2e21c123456=ztmjfnbvsk ztplain0=ztplain0 " {
		t.Errorf("networks watched: %s (eth0 is not a ZeroTier device and must not be listed)", ldpOn)
	}
	if f := finding(fs, "", zerotier.CheckPlanet); f.Severity != zerotier.SeverityError {
		t.Errorf("planet: %+v", f)
	}
	if f := finding(fs, "0123456789abcdef", zerotier.CheckMulticast); f.Severity != zerotier.SeverityWarning {
		t.Errorf("network without 224.0.0.2: %+v", f)
	}

	svc.Update(0x8056c2e21c123456, func(n *zttest.Network) { n.Device = "ztrenamed" })
	if devices, _, _ = resolve(); devices["8056c2e21c123456"] != "ztrenamed" {
		t.Errorf("renamed: %v", devices)
	}
	// A failing service is no verdict on the network: the poll is an error
	// as a whole, and the daemon keeps LDP where it is.
	failNetwork.Store(true)
	if view, devices, _ := ztResolve(cfg, poll(context.Background(), d.zt.plan.Load()), nil, nil); view.Reachable || devices != nil || !strings.Contains(view.Error, "status 500") {
		t.Errorf("service failing mid-poll: reachable %v, devices %v, error %q", view.Reachable, devices, view.Error)
	}
	failNetwork.Store(false)

	svc.Update(0x8056c2e21c123456, func(n *zttest.Network) { n.Status = zerotier.StatusAccessDenied })
	devices, fs, _ = resolve()
	if len(devices) != 0 || finding(fs, "8056c2e21c123456", zerotier.CheckStatus).Severity != zerotier.SeverityError {
		t.Errorf("access denied: devices %v", devices)
	}
	svc.Leave(0x8056c2e21c123456)
	devices, fs, _ = resolve()
	if f := finding(fs, "8056c2e21c123456", zerotier.CheckStatus); len(devices) != 0 || !strings.Contains(f.Message, "unknown (404)") {
		t.Errorf("left: devices %v, %+v", devices, f)
	}
	srv.Close()
	view, devices, fs := ztResolve(cfg, poll(context.Background(), d.zt.plan.Load()), nil, nil)
	if f := finding(fs, "", zerotier.CheckService); devices != nil || view.Reachable || !strings.Contains(f.Message, "ZeroTier One not running at") {
		t.Errorf("service down: %+v, %+v", view, f)
	}
}

// Without ZeroTier in the configuration the poller waits for a plan and
// asks nothing (it used to wake every second to look); a plan that a
// reload brings is polled at once, not at the poller's next look.
func TestZeroTierPlanWakesPoller(t *testing.T) {
	var asked atomic.Int64
	svc := zttest.New("tok")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		svc.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	tok, err := svc.WriteToken(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	without, err := config.Parse("lsrd.yaml", []byte("router-id: 1.1.1.1\nldp:\n  interfaces:\n    - name: eth0\n"))
	if err != nil {
		t.Fatal(err)
	}
	with, err := config.Parse("lsrd.yaml", []byte("router-id: 1.1.1.1\nldp:\n  interfaces:\n    - name: eth0\nzerotier:\n  api: "+srv.URL+"\n  authtoken: "+tok+"\n  poll-interval: 10m\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{cfg: without}
	d.initZeroTier()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		d.watchZeroTier(ctx)
		close(done)
	}()
	defer func() {
		cancel()
		<-done
	}()
	select {
	case s := <-d.zt.snaps:
		t.Fatalf("a poll without a plan: %+v", s)
	case <-time.After(1500 * time.Millisecond):
	}
	d.setZeroTierPlan(with)
	// At once: the old poller looked once a second, so half its first
	// polls came later than this.
	select {
	case s := <-d.zt.snaps:
		if s.err != nil || s.status == nil {
			t.Fatalf("poll after the plan came: %v", s.err)
		}
	case <-time.After(500 * time.Millisecond):
		t.Fatal("no poll within 500 ms of the plan (poll interval 10 min)")
	}
	if asked.Load() == 0 {
		t.Error("the service was never asked")
	}
}
