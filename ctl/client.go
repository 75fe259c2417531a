// Package ctl is lsrctl's side of lsrd's control API: a client for the HTTP
// API on lsrd's Unix socket, the filters lsrctl's flags select, and the
// tables lsrctl prints. It decodes the daemon's own types (api.LDPNeighbor,
// api.LDPBinding, api.TableView, api.Route, ...) so that the CLI cannot drift
// from what lsrd sends.
package ctl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/lsrd/lsrd/api"
)

// APIVersion is the control API version this client speaks.
const APIVersion = api.Version

// DefaultSocket is where lsrd listens unless configured otherwise.
const DefaultSocket = "/run/lsrd/lsrd.sock"

// Client talks to one lsrd through its control socket.
type Client struct {
	Socket string
	http   *http.Client
}

// NewClient returns a client for the control socket at path; each request
// gives up after timeout.
func NewClient(path string, timeout time.Duration) *Client {
	c := &Client{Socket: path}
	c.http = &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}}
	return c
}

// NotRunningError says there is no lsrd behind the socket: the file is
// missing, or nothing accepts connections on it.
type NotRunningError struct {
	Socket string
	Err    error
}

func (e *NotRunningError) Error() string {
	return fmt.Sprintf("lsrd is not running (no control socket at %s)", e.Socket)
}

func (e *NotRunningError) Unwrap() error { return e.Err }

// PermissionError says the socket exists but this user may not connect to it
// (it is mode 0600, root's).
type PermissionError struct {
	Socket string
	Err    error
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("permission denied on %s: run as root", e.Socket)
}

func (e *PermissionError) Unwrap() error { return e.Err }

// APIError is an error lsrd answered with: 400 (bad request), 404 (unknown
// object) or 500 (lsrd failed).
type APIError struct {
	Method, Path string
	Status       int
	Message      string
}

func (e *APIError) Error() string {
	if e.Status >= 400 && e.Status < 500 {
		return e.Message // lsrd's message names the object: "neighbor 9.9.9.9: unknown"
	}
	return fmt.Sprintf("lsrd failed on %s %s (%d): %s", e.Method, e.Path, e.Status, e.Message)
}

// envelope is every answer of the control API.
type envelope struct {
	Version int             `json:"version"`
	Data    json.RawMessage `json:"data"`
	Error   string          `json:"error"`
}

// Get fetches path (like "/v1/ldp/neighbors") and returns the answer's data,
// undecoded.
func (c *Client) Get(ctx context.Context, path string) (json.RawMessage, error) {
	return c.do(ctx, http.MethodGet, path)
}

// Post sends a POST to path (like "/v1/reload") and returns the answer's data.
func (c *Client) Post(ctx context.Context, path string) (json.RawMessage, error) {
	return c.do(ctx, http.MethodPost, path)
}

// PostJSON sends a POST to path with body encoded as JSON and decodes the
// answer's data into v.
func (c *Client) PostJSON(ctx context.Context, path string, body, v any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	raw, err := c.doBody(ctx, http.MethodPost, path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("lsrd's answer to POST %s: %w", path, err)
	}
	return nil
}

// GetInto fetches path and decodes its data into v.
func (c *Client) GetInto(ctx context.Context, path string, v any) (json.RawMessage, error) {
	raw, err := c.Get(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, fmt.Errorf("lsrd's answer to GET %s: %w", path, err)
	}
	return raw, nil
}

func (c *Client) do(ctx context.Context, method, path string) (json.RawMessage, error) {
	return c.doBody(ctx, method, path, nil)
}

func (c *Client) doBody(ctx context.Context, method, path string, reqBody io.Reader) (json.RawMessage, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://lsrd"+path, reqBody)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.connError(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading lsrd's answer to %s %s: %w", method, path, err)
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		if resp.StatusCode/100 != 2 {
			// Not an answer of the API's handlers: an lsrd without this
			// endpoint, or something else on the socket.
			return nil, fmt.Errorf("lsrd answered %s %s with %s: %q (an lsrd without this endpoint?)",
				method, path, resp.Status, truncate(string(bytes.TrimSpace(body)), 200))
		}
		return nil, fmt.Errorf("lsrd's answer to %s %s is not the control API's JSON: %w", method, path, err)
	}
	if env.Version != APIVersion {
		return nil, fmt.Errorf("lsrd answered %s %s with control API version %d; lsrctl speaks version %d", method, path, env.Version, APIVersion)
	}
	if resp.StatusCode/100 != 2 || env.Error != "" {
		msg := env.Error
		if msg == "" {
			msg = resp.Status
		}
		return nil, &APIError{Method: method, Path: path, Status: resp.StatusCode, Message: msg}
	}
	if len(bytes.TrimSpace(env.Data)) == 0 {
		env.Data = json.RawMessage("null")
	}
	return env.Data, nil
}

// connError turns a failure to reach lsrd into the error an operator can act
// on.
func (c *Client) connError(err error) error {
	switch {
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ENOTDIR):
		return &NotRunningError{Socket: c.Socket, Err: err}
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return &PermissionError{Socket: c.Socket, Err: err}
	}
	return fmt.Errorf("lsrd control socket %s: %w", c.Socket, err)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
