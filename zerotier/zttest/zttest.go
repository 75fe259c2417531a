// Package zttest is a stand-in for ZeroTier One's local service API, for
// tests on machines where ZeroTier One cannot be installed (the host tests
// and the kernel lab).
//
// It answers GET /status, /network and /network/<id> with the field names,
// JSON types, status codes and bodies ZeroTier One 1.x's OneService gives
// (401 with "{}" without the right token, 404 with "{}" for an unknown
// network), written independently of package zerotier's decoding types so
// that a test of the client checks both against each other. Tests change
// the node's planet and a network's status, device, addresses and multicast
// subscriptions while it serves. It implements reading only: no join, leave
// or controller endpoints.
package zttest

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lsrd/lsrd/zerotier"
)

// Network is a joined network as the fake reports it.
type Network struct {
	ID     uint64
	Name   string
	Status string // "OK" when empty
	MTU    int    // 2800 when 0
	// Device is portDeviceName: zerotier.DeviceName(ID) when empty.
	Device string
	// Addresses are assigned addresses as ip/bits.
	Addresses []string
	// Multicast are the group MACs the node subscribed to, used when the
	// service has no multicast source.
	Multicast []string
	PortError int
}

// Service is a fake ZeroTier One service. Its methods are safe to call while
// it serves.
type Service struct {
	token string

	mu        sync.Mutex
	address   string
	online    bool
	planetID  uint64
	planetTS  uint64
	nets      map[uint64]*Network
	mcastFrom func(device string) []string
	requests  int
}

// New returns a service that accepts token, on ZeroTier's public planet
// (Earth) until SetPlanet says otherwise.
func New(token string) *Service {
	return &Service{token: token, address: "a1b2c3d4e5", online: true,
		planetID: zerotier.EarthWorldID, planetTS: 1567191349589, nets: map[uint64]*Network{}}
}

// WriteToken writes authtoken.secret into dir, as ZeroTier One does (mode
// 0600), and returns its path.
func (s *Service) WriteToken(dir string) (string, error) {
	p := filepath.Join(dir, "authtoken.secret")
	if err := os.WriteFile(p, []byte(s.token), 0o600); err != nil {
		return "", fmt.Errorf("zttest: %w", err)
	}
	return p, nil
}

// SetNetwork joins n or replaces it.
func (s *Service) SetNetwork(n Network) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nets[n.ID] = &n
}

// Update changes a joined network in place; false when it is not joined.
func (s *Service) Update(id uint64, f func(*Network)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.nets[id]
	if ok {
		f(n)
	}
	return ok
}

// Leave forgets a network: later requests for it get 404.
func (s *Service) Leave(id uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.nets, id)
}

// SetPlanet sets the planet the node reports using.
func (s *Service) SetPlanet(id, timestamp uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.planetID, s.planetTS = id, timestamp
}

// SetMulticastSource makes the service read a network's multicast
// subscriptions from f(device) (group MACs), as ZeroTier One reads the
// kernel's memberships of its device, instead of Network.Multicast.
func (s *Service) SetMulticastSource(f func(device string) []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mcastFrom = f
}

// Requests returns how many requests the service answered.
func (s *Service) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Serve answers on l until the returned stop function is called.
func (s *Service) Serve(l net.Listener) (stop func()) {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	}
}

// Handler returns the service's HTTP handler.
func (s *Service) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

// authorized accepts the token where ZeroTier One does: the X-ZT1-Auth
// header, the auth URL parameter, or a bearer token.
func (s *Service) authorized(r *http.Request) bool {
	return r.Header.Get("X-ZT1-Auth") == s.token ||
		r.URL.Query().Get("auth") == s.token ||
		r.Header.Get("Authorization") == "Bearer "+s.token
}

func (s *Service) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	code, body := s.answer(r)
	// ZeroTier One answers every API request as JSON; an error is "{}".
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if body == nil {
		w.Write([]byte("{}"))
		return
	}
	b, _ := json.Marshal(body)
	w.Write(b)
}

func (s *Service) answer(r *http.Request) (int, any) {
	if r.Method != http.MethodGet {
		return http.StatusBadRequest, nil // this fake only reads
	}
	if !s.authorized(r) {
		return http.StatusUnauthorized, nil
	}
	ps := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(ps) == 1 && ps[0] == "status":
		return http.StatusOK, s.statusJSON()
	case len(ps) == 1 && ps[0] == "network":
		ids := make([]uint64, 0, len(s.nets))
		for id := range s.nets {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		out := []any{}
		for _, id := range ids {
			out = append(out, s.networkJSON(s.nets[id]))
		}
		return http.StatusOK, out
	case len(ps) == 2 && ps[0] == "network":
		id, err := zerotier.ParseNetworkID(ps[1])
		if err != nil {
			return http.StatusNotFound, nil
		}
		n, ok := s.nets[id]
		if !ok {
			return http.StatusNotFound, nil
		}
		return http.StatusOK, s.networkJSON(n)
	}
	return http.StatusNotFound, nil
}

func (s *Service) statusJSON() map[string]any {
	return map[string]any{
		"address":              s.address,
		"publicIdentity":       s.address + ":0:" + strings.Repeat("0f", 64),
		"online":               s.online,
		"tcpFallbackActive":    false,
		"versionMajor":         1,
		"versionMinor":         14,
		"versionRev":           2,
		"versionBuild":         0,
		"version":              "1.14.2",
		"clock":                time.Now().UnixMilli(),
		"config":               map[string]any{"settings": map[string]any{"primaryPort": 9993, "portMappingEnabled": true, "softwareUpdate": "disable", "softwareUpdateChannel": "release"}},
		"planetWorldId":        s.planetID,
		"planetWorldTimestamp": s.planetTS,
	}
}

func (s *Service) networkJSON(n *Network) map[string]any {
	status, mtu, dev := n.Status, n.MTU, n.Device
	if status == "" {
		status = zerotier.StatusOK
	}
	if mtu == 0 {
		mtu = 2800
	}
	if dev == "" {
		dev = zerotier.DeviceName(n.ID)
	}
	id := fmt.Sprintf("%016x", n.ID)
	addrs := []any{}
	mcast := []any{}
	routes := []any{}
	for _, a := range n.Addresses {
		addrs = append(addrs, a)
		if p, err := netip.ParsePrefix(a); err == nil && p.Addr().Is4() {
			// ZeroTier's ARP: broadcast with the address as ADI.
			a4 := p.Addr().As4()
			mcast = append(mcast, map[string]any{"mac": "ff:ff:ff:ff:ff:ff", "adi": binary.BigEndian.Uint32(a4[:])})
			routes = append(routes, map[string]any{"target": p.Masked().String(), "via": nil, "flags": 0, "metric": 0})
		}
	}
	groups := n.Multicast
	if s.mcastFrom != nil {
		groups = s.mcastFrom(dev)
	}
	for _, m := range groups {
		mcast = append(mcast, map[string]any{"mac": m, "adi": 0})
	}
	return map[string]any{
		"id":                     id,
		"nwid":                   id,
		"mac":                    "32:" + id[0:2] + ":" + id[2:4] + ":a1:b2:c3",
		"name":                   n.Name,
		"status":                 status,
		"type":                   "PRIVATE",
		"mtu":                    mtu,
		"dhcp":                   false,
		"bridge":                 false,
		"broadcastEnabled":       true,
		"portError":              n.PortError,
		"netconfRevision":        3,
		"portDeviceName":         dev,
		"allowManaged":           true,
		"allowGlobal":            false,
		"allowDefault":           false,
		"allowDNS":               false,
		"assignedAddresses":      addrs,
		"routes":                 routes,
		"multicastSubscriptions": mcast,
		"dns":                    map[string]any{"domain": "", "servers": []any{}},
	}
}

// KernelMulticast reads the group MACs the kernel holds for device in the
// calling thread's network namespace (zerotier.KernelMulticast).
func KernelMulticast(device string) ([]string, error) {
	return zerotier.KernelMulticast(device)
}
