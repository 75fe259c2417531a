package ctl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// fakeLSRD serves handler on a Unix socket in a temporary directory, standing
// in for lsrd's control API, and returns the socket's path.
func fakeLSRD(t *testing.T, handler http.Handler) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lsrd.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(handler)
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return path
}

func answer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

func TestClientData(t *testing.T) {
	path := fakeLSRD(t, answer(200, `{"version":1,"data":[{"fec":"1.1.1.1/32","local_label":3,"has_local":true,"remote":[]}]}`))
	var bs []struct {
		FEC string `json:"fec"`
	}
	if _, err := NewClient(path, time.Second).GetInto(context.Background(), "/v1/ldp/bindings", &bs); err != nil {
		t.Fatal(err)
	}
	if len(bs) != 1 || bs[0].FEC != "1.1.1.1/32" {
		t.Errorf("got %+v", bs)
	}
}

func TestClientErrors(t *testing.T) {
	ctx := context.Background()
	notFound := fakeLSRD(t, answer(404, `{"version":1,"error":"neighbor 9.9.9.9: unknown"}`))
	_, err := NewClient(notFound, time.Second).Post(ctx, "/v1/ldp/neighbors/9.9.9.9/clear")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 404 || err.Error() != "neighbor 9.9.9.9: unknown" {
		t.Errorf("404: %v", err)
	}

	failing := fakeLSRD(t, answer(500, `{"version":1,"error":"reading the configuration: no such file"}`))
	_, err = NewClient(failing, time.Second).Post(ctx, "/v1/reload")
	if want := "lsrd failed on POST /v1/reload (500): reading the configuration: no such file"; err == nil || err.Error() != want {
		t.Errorf("500: %v, want %s", err, want)
	}

	newer := fakeLSRD(t, answer(200, `{"version":2,"data":[]}`))
	_, err = NewClient(newer, time.Second).Get(ctx, "/v1/rib")
	if want := "lsrd answered GET /v1/rib with control API version 2; lsrctl speaks version 1"; err == nil || err.Error() != want {
		t.Errorf("version 2: %v, want %s", err, want)
	}

	garbage := fakeLSRD(t, answer(502, `<html>bad gateway</html>`))
	if _, err = NewClient(garbage, time.Second).Get(ctx, "/v1/rib"); err == nil {
		t.Error("non-JSON answer accepted")
	}

	missing := filepath.Join(t.TempDir(), "lsrd.sock")
	_, err = NewClient(missing, time.Second).Get(ctx, "/v1/rib")
	var nr *NotRunningError
	if want := "lsrd is not running (no control socket at " + missing + ")"; !errors.As(err, &nr) || err.Error() != want {
		t.Errorf("missing socket: %v, want %s", err, want)
	}

	// A socket file no process listens on: lsrd crashed.
	stale := filepath.Join(t.TempDir(), "lsrd.sock")
	l, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	if _, err := os.Stat(stale); err != nil {
		t.Fatal(err)
	}
	_, err = NewClient(stale, time.Second).Get(ctx, "/v1/rib")
	if !errors.As(err, &nr) {
		t.Errorf("stale socket: %v", err)
	}
}

// Tests run as root, who may connect to a mode 0600 socket; the mapping of
// EACCES is checked on its own.
func TestPermissionError(t *testing.T) {
	c := NewClient("/run/lsrd/lsrd.sock", time.Second)
	err := c.connError(&net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.EACCES)})
	var pe *PermissionError
	if want := "permission denied on /run/lsrd/lsrd.sock: run as root"; !errors.As(err, &pe) || err.Error() != want {
		t.Errorf("EACCES: %v, want %s", err, want)
	}
	err = c.connError(errors.New("something else"))
	if errors.As(err, &pe) || errors.As(err, new(*NotRunningError)) {
		t.Errorf("other error mapped to %T", err)
	}
}
