package zerotier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// Defaults of ZeroTier One on Linux.
const (
	DefaultAPI       = "http://127.0.0.1:9993"
	DefaultTokenPath = "/var/lib/zerotier-one/authtoken.secret"
)

// Network statuses as ZeroTier One reports them (ZT_VirtualNetworkStatus).
const (
	StatusOK                     = "OK"
	StatusRequestingConfig       = "REQUESTING_CONFIGURATION"
	StatusAccessDenied           = "ACCESS_DENIED"
	StatusNotFound               = "NOT_FOUND"
	StatusPortError              = "PORT_ERROR"
	StatusClientTooOld           = "CLIENT_TOO_OLD"
	StatusAuthenticationRequired = "AUTHENTICATION_REQUIRED"
)

// Status is ZeroTier One's answer to GET /status: the node itself.
type Status struct {
	Address              string `json:"address"`
	PublicIdentity       string `json:"publicIdentity"`
	Online               bool   `json:"online"`
	TCPFallbackActive    bool   `json:"tcpFallbackActive"`
	VersionMajor         int    `json:"versionMajor"`
	VersionMinor         int    `json:"versionMinor"`
	VersionRev           int    `json:"versionRev"`
	Version              string `json:"version"`
	Clock                int64  `json:"clock"` // ms since the epoch
	PlanetWorldID        uint64 `json:"planetWorldId"`
	PlanetWorldTimestamp uint64 `json:"planetWorldTimestamp"`
}

// Network is one joined network as GET /network and GET /network/<id> give it.
type Network struct {
	ID               string `json:"id"` // 16 hex digits
	MAC              string `json:"mac"`
	Name             string `json:"name"`
	Status           string `json:"status"` // StatusOK and the others
	Type             string `json:"type"`   // PRIVATE or PUBLIC
	MTU              int    `json:"mtu"`
	Bridge           bool   `json:"bridge"`
	BroadcastEnabled bool   `json:"broadcastEnabled"`
	PortError        int    `json:"portError"`
	NetconfRevision  int64  `json:"netconfRevision"`
	// PortDeviceName is the Linux device, zt + 8 characters unless renamed
	// in devicemap.
	PortDeviceName string `json:"portDeviceName"`
	// AssignedAddresses are managed addresses as ip/bits.
	AssignedAddresses      []string                `json:"assignedAddresses"`
	Routes                 []NetworkRoute          `json:"routes"`
	MulticastSubscriptions []MulticastSubscription `json:"multicastSubscriptions"`
}

// NetworkRoute is a managed route of a network.
type NetworkRoute struct {
	Target string  `json:"target"`
	Via    *string `json:"via"` // null for a route on the network itself
	Flags  int     `json:"flags"`
	Metric int     `json:"metric"`
}

// MulticastSubscription is a multicast group the node subscribed to on a
// network: the group's MAC and the additional distinguishing information
// (ADI, used for ARP's 'broadcast').
type MulticastSubscription struct {
	MAC string `json:"mac"`
	ADI uint32 `json:"adi"`
}

// Errors a Client's calls wrap.
var (
	ErrNotRunning     = errors.New("ZeroTier One not running")
	ErrTokenRejected  = errors.New("token rejected")
	ErrNetworkUnknown = errors.New("network unknown")
)

// Client talks to ZeroTier One's local service API. It reads the token file
// on every request, so a reinstalled service (new token) needs no restart.
type Client struct {
	// BaseURL is the service's address, DefaultAPI unless configured.
	BaseURL string
	// TokenPath is the file holding the API token (authtoken.secret).
	TokenPath string
	// HTTP makes the requests; a client with a 5 s timeout when nil.
	HTTP *http.Client
}

// NewClient returns a client of the service at baseURL with the token in
// tokenPath; empty values take ZeroTier One's defaults.
func NewClient(baseURL, tokenPath string) *Client {
	if baseURL == "" {
		baseURL = DefaultAPI
	}
	if tokenPath == "" {
		tokenPath = DefaultTokenPath
	}
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), TokenPath: tokenPath,
		HTTP: &http.Client{Timeout: 5 * time.Second}}
}

// Status returns the node's status (GET /status).
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var s Status
	if err := c.get(ctx, "/status", &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Networks returns the networks the node joined (GET /network).
func (c *Client) Networks(ctx context.Context) ([]Network, error) {
	var ns []Network
	if err := c.get(ctx, "/network", &ns); err != nil {
		return nil, err
	}
	return ns, nil
}

// Network returns one joined network (GET /network/<id>); an error wrapping
// ErrNetworkUnknown when the node has not joined it.
func (c *Client) Network(ctx context.Context, nwid uint64) (*Network, error) {
	var n Network
	id := fmt.Sprintf("%016x", nwid)
	if err := c.get(ctx, "/network/"+id, &n); err != nil {
		if errors.Is(err, errNotFound) {
			return nil, fmt.Errorf("%w: network %s unknown (404) to ZeroTier One at %s: this node has not joined it (zerotier-cli join %s)", ErrNetworkUnknown, id, c.BaseURL, id)
		}
		return nil, err
	}
	return &n, nil
}

var errNotFound = errors.New("404")

func (c *Client) token() (string, error) {
	b, err := os.ReadFile(c.TokenPath)
	if err != nil {
		return "", fmt.Errorf("ZeroTier One API token: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("ZeroTier One API token: %s is empty", c.TokenPath)
	}
	return t, nil
}

func (c *Client) get(ctx context.Context, path string, v any) error {
	tok, err := c.token()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+path, nil)
	if err != nil {
		return fmt.Errorf("ZeroTier One API %s: %w", c.BaseURL, err)
	}
	req.Header.Set("X-ZT1-Auth", tok)
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return fmt.Errorf("%w at %s (%v)", ErrNotRunning, c.BaseURL, op.Err)
		}
		return fmt.Errorf("ZeroTier One API GET %s%s: %w", c.BaseURL, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("ZeroTier One API GET %s%s: %w", c.BaseURL, path, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return fmt.Errorf("ZeroTier One at %s: 401: %w (file %s)", c.BaseURL, ErrTokenRejected, c.TokenPath)
	case http.StatusNotFound:
		return fmt.Errorf("ZeroTier One at %s: GET %s: %w", c.BaseURL, path, errNotFound)
	default:
		return fmt.Errorf("ZeroTier One at %s: GET %s: status %d", c.BaseURL, path, resp.StatusCode)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("ZeroTier One at %s: GET %s: %w", c.BaseURL, path, err)
	}
	return nil
}
