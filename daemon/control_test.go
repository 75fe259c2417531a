package daemon

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/config"
)

// The control API's version, log level and unknown paths, each answered in
// the envelope.
func TestControlVersionLogLevelUnknown(t *testing.T) {
	level := new(slog.LevelVar)
	var logged strings.Builder
	log := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: level}))
	d := &Daemon{opt: Options{Version: "1.2.3", Log: log, LogLevel: level}, log: log,
		cfg: &config.Config{LogLevel: "info"}, started: time.Unix(1_800_000_000, 0)}
	srv := httptest.NewServer(d.controlMux())
	defer srv.Close()
	call := func(method, path, body string, v any) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var env api.Envelope[json.RawMessage]
		if err := json.Unmarshal(b, &env); err != nil {
			t.Fatalf("%s %s: not the envelope: %s", method, path, b)
		}
		if v != nil && env.Error == "" {
			if err := json.Unmarshal(env.Data, v); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode, env.Error
	}
	var v api.VersionView
	if code, _ := call("GET", "/v1/version", "", &v); code != 200 || v.Version != "1.2.3" || !v.Started.Equal(d.started) || v.GoVersion == "" {
		t.Errorf("version: %d %+v", code, v)
	}
	var ll api.LogLevel
	if code, _ := call("GET", "/v1/log-level", "", &ll); code != 200 || ll.Level != "info" {
		t.Errorf("log level: %d %+v", code, ll)
	}
	if code, _ := call("POST", "/v1/log-level", `{"level":"debug"}`, &ll); code != 200 || ll.Level != "debug" || level.Level() != slog.LevelDebug {
		t.Errorf("set debug: %d %+v, level %v", code, ll, level.Level())
	}
	if !strings.Contains(logged.String(), "log level changed") {
		t.Errorf("the change is not logged: %s", logged.String())
	}
	if code, msg := call("POST", "/v1/log-level", `{"level":"loud"}`, nil); code != 400 || !strings.Contains(msg, `"loud"`) {
		t.Errorf("bad level: %d %q", code, msg)
	}
	if code, msg := call("GET", "/v1/nothing", "", nil); code != 404 || !strings.Contains(msg, "GET /v1/nothing: no such endpoint") {
		t.Errorf("unknown path: %d %q", code, msg)
	}
}
