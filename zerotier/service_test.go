package zerotier_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsrd/lsrd/zerotier"
	"github.com/lsrd/lsrd/zerotier/zttest"
)

const nwid = 0x8056c2e21c123456

func fakeService(t *testing.T) (*zttest.Service, *httptest.Server, *zerotier.Client) {
	t.Helper()
	svc := zttest.New("s3cr3tt0k3n")
	svc.SetNetwork(zttest.Network{ID: nwid, Name: "mpls-underlay", Addresses: []string{"10.147.17.5/24"},
		Multicast: []string{"01:00:5e:00:00:01", "01:00:5e:00:00:02"}})
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(srv.Close)
	tok, err := svc.WriteToken(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return svc, srv, zerotier.NewClient(srv.URL, tok)
}

func TestClient(t *testing.T) {
	svc, _, c := fakeService(t)
	ctx := context.Background()
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.PlanetWorldID != zerotier.EarthWorldID || !st.Online || st.Address != "a1b2c3d4e5" {
		t.Errorf("status %+v", st)
	}
	ns, err := c.Networks(ctx)
	if err != nil || len(ns) != 1 {
		t.Fatalf("networks %+v, %v", ns, err)
	}
	n, err := c.Network(ctx, nwid)
	if err != nil {
		t.Fatal(err)
	}
	if n.ID != "8056c2e21c123456" || n.Status != "OK" || n.MTU != 2800 || n.PortDeviceName != "ztmjfnbvsk" ||
		len(n.AssignedAddresses) != 1 || n.AssignedAddresses[0] != "10.147.17.5/24" || n.Name != "mpls-underlay" {
		t.Errorf("network %+v", n)
	}
	if !zerotier.MulticastSubscribed(n, zerotier.LDPMulticastMAC) {
		t.Errorf("subscriptions %+v", n.MulticastSubscriptions)
	}
	// Changes made while the service runs show in the next answer.
	svc.Update(nwid, func(n *zttest.Network) { n.Status = zerotier.StatusAccessDenied; n.Device = "ztrenamed0" })
	svc.SetPlanet(0x6c737264, 1764000000000)
	n, _ = c.Network(ctx, nwid)
	st, _ = c.Status(ctx)
	if n.Status != "ACCESS_DENIED" || n.PortDeviceName != "ztrenamed0" || st.PlanetWorldID != 0x6c737264 {
		t.Errorf("after changes: %s %s planet %d", n.Status, n.PortDeviceName, st.PlanetWorldID)
	}
}

func TestClientErrors(t *testing.T) {
	svc, srv, c := fakeService(t)
	ctx := context.Background()

	_, err := c.Network(ctx, 0x1111111111111111)
	if !errors.Is(err, zerotier.ErrNetworkUnknown) || !strings.Contains(err.Error(), "network 1111111111111111 unknown (404)") {
		t.Errorf("unknown network: %v", err)
	}
	svc.Leave(nwid)
	if _, err := c.Network(ctx, nwid); !errors.Is(err, zerotier.ErrNetworkUnknown) {
		t.Errorf("left network: %v", err)
	}

	bad := filepath.Join(t.TempDir(), "authtoken.secret")
	os.WriteFile(bad, []byte("wrong\n"), 0o600)
	c2 := zerotier.NewClient(srv.URL, bad)
	_, err = c2.Status(ctx)
	if !errors.Is(err, zerotier.ErrTokenRejected) || !strings.Contains(err.Error(), "401: token rejected (file "+bad+")") {
		t.Errorf("wrong token: %v", err)
	}

	c3 := zerotier.NewClient(srv.URL, filepath.Join(t.TempDir(), "absent"))
	if _, err := c3.Status(ctx); err == nil || !strings.Contains(err.Error(), "ZeroTier One API token") {
		t.Errorf("missing token file: %v", err)
	}

	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	c4 := zerotier.NewClient("http://"+addr, c.TokenPath)
	if _, err := c4.Status(ctx); !errors.Is(err, zerotier.ErrNotRunning) || !strings.Contains(err.Error(), "ZeroTier One not running at http://"+addr) {
		t.Errorf("nothing listening: %v", err)
	}
}

// The fake answers as ZeroTier One does: the exact field names and JSON
// types of OneService's _networkToJson and /status, "{}" bodies for 401 and
// 404, and the token accepted in the places ZeroTier One accepts it.
func TestFakeIsFaithful(t *testing.T) {
	_, srv, c := fakeService(t)
	tok, _ := os.ReadFile(c.TokenPath)
	get := func(path string, hdr map[string]string) (int, string, []byte) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), b
	}
	auth := map[string]string{"X-ZT1-Auth": string(tok)}
	for _, c := range []struct {
		path string
		hdr  map[string]string
		code int
	}{
		{"/status", nil, 401},
		{"/status", map[string]string{"X-ZT1-Auth": "nope"}, 401},
		{"/network/8056c2e21c000001", auth, 404},
		{"/bogus", auth, 404},
		{"/status?auth=" + string(tok), nil, 200},
		{"/status", map[string]string{"Authorization": "Bearer " + string(tok)}, 200},
	} {
		code, ct, body := get(c.path, c.hdr)
		if code != c.code || ct != "application/json" || (code != 200 && string(body) != "{}") {
			t.Errorf("GET %s: %d %s %q, want %d", c.path, code, ct, body, c.code)
		}
	}

	kinds := func(b []byte) map[string]string {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for k, v := range m {
			switch v.(type) {
			case string:
				out[k] = "string"
			case float64:
				out[k] = "number"
			case bool:
				out[k] = "bool"
			case []any:
				out[k] = "array"
			case map[string]any:
				out[k] = "object"
			case nil:
				out[k] = "null"
			}
		}
		return out
	}
	_, _, body := get("/network/8056c2e21c123456", auth)
	want := map[string]string{
		"id": "string", "nwid": "string", "mac": "string", "name": "string", "status": "string", "type": "string",
		"mtu": "number", "dhcp": "bool", "bridge": "bool", "broadcastEnabled": "bool", "portError": "number",
		"netconfRevision": "number", "portDeviceName": "string", "allowManaged": "bool", "allowGlobal": "bool",
		"allowDefault": "bool", "allowDNS": "bool", "assignedAddresses": "array", "routes": "array",
		"multicastSubscriptions": "array", "dns": "object",
	}
	got := kinds(body)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("network field %s: %s, want %s", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("network fields %v, want %v", got, want)
	}
	var n struct {
		Multicast []map[string]any `json:"multicastSubscriptions"`
		Routes    []map[string]any `json:"routes"`
	}
	json.Unmarshal(body, &n)
	if len(n.Multicast) == 0 || n.Multicast[0]["mac"] != "ff:ff:ff:ff:ff:ff" || n.Multicast[0]["adi"] != float64(0x0a931105) {
		t.Errorf("ARP subscription %v: want ff:ff:ff:ff:ff:ff with the IPv4 address as ADI", n.Multicast)
	}
	if len(n.Routes) != 1 || n.Routes[0]["via"] != nil || n.Routes[0]["target"] != "10.147.17.0/24" {
		t.Errorf("routes %v", n.Routes)
	}
	_, _, body = get("/status", auth)
	got = kinds(body)
	for k, v := range map[string]string{"address": "string", "publicIdentity": "string", "online": "bool",
		"version": "string", "versionMajor": "number", "clock": "number", "planetWorldId": "number",
		"planetWorldTimestamp": "number", "config": "object", "tcpFallbackActive": "bool"} {
		if got[k] != v {
			t.Errorf("status field %s: %s, want %s", k, got[k], v)
		}
	}
	_, _, body = get("/network", auth)
	if !strings.HasPrefix(string(body), "[{") {
		t.Errorf("GET /network: %s, want an array of networks", body)
	}
}

func TestKernelMulticastParses(t *testing.T) {
	if _, err := os.Stat("/proc/net/dev_mcast"); err != nil {
		t.Skip("no /proc/net/dev_mcast on this machine")
	}
	if _, err := zttest.KernelMulticast("lo"); err != nil {
		t.Fatal(err)
	}
}
