package ldp

import (
	"bytes"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/ldp/wire"
)

// TestSessionClosedLog checks the "ldp session closed" line says what ended
// the session: the status this LSR sent, the status in the peer's
// Notification, or the transport error, and never "Success" (status code
// 0 is how the engine spells "no Notification").
func TestSessionClosedLog(t *testing.T) {
	peer := wire.LDPID{LSRID: netip.MustParseAddr("2.2.2.2")}
	for _, c := range []struct {
		name string
		// do ends the OPERATIONAL session on conn 1 with peer 2.2.2.2.
		do   func(t *testing.T, e *Engine)
		want string
	}{
		{"peer's fatal notification", func(t *testing.T, e *Engine) {
			e.Handle(t0, ConnData{Conn: 1, Data: mustPDU(t, peer, &wire.Notification{MsgID: 9, Status: wire.NewStatus(wire.StatusShutdown, 0, 0)})})
		}, `reason="notification received" status=Shutdown`},
		{"connection closed by the peer", func(t *testing.T, e *Engine) {
			e.Handle(t0, ConnClosed{Conn: 1, Err: errors.New("EOF")})
		}, `reason="transport error" err=EOF`},
		{"hold timer", func(t *testing.T, e *Engine) {
			e.Handle(t0.Add(181*time.Second), Tick{})
		}, `reason="notification sent" status="KeepAlive Timer Expired"`},
		{"undecodable PDU", func(t *testing.T, e *Engine) {
			e.Handle(t0, ConnData{Conn: 1, Data: []byte{0, 2, 0, 6, 2, 2, 2, 2, 0, 0}})
		}, `reason="notification sent" status="Bad Protocol Version"`},
		{"operator clear", func(t *testing.T, e *Engine) {
			e.Handle(t0, ClearNeighbor{LSRID: peer.LSRID})
		}, `reason="notification sent" status=Shutdown`},
		{"peer's notification of status 0 is still reported as such", func(t *testing.T, e *Engine) {
			e.Handle(t0, ConnData{Conn: 1, Data: mustPDU(t, peer, &wire.Notification{MsgID: 9, Status: wire.Status{Code: wire.StatusSuccess, Fatal: true}})})
		}, `reason="notification received" status=Success`},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, logs := loggedSession(t)
			c.do(t, e)
			line := closedLine(logs.String())
			if line == "" {
				t.Fatalf("no session closed line in:\n%s", logs.String())
			}
			if !strings.Contains(line, "lsr-id=2.2.2.2 "+c.want) || !strings.HasSuffix(strings.TrimSpace(line), "from=OPERATIONAL") {
				t.Errorf("log line\n%s\nwant it to name lsr-id=2.2.2.2 %s and end with the state it left", line, c.want)
			}
			if strings.Count(line, "msg=") != 1 {
				t.Errorf("log line with more than one msg key: %s", line)
			}
			if !strings.Contains(c.want, "Success") && strings.Contains(line, "Success") {
				t.Errorf("log line says Success: %s", line)
			}
		})
	}
}

// TestSessionClosedLogInit covers the sessions that end before OPERATIONAL:
// a rejected Initialization and one that cannot be read.
func TestSessionClosedLogInit(t *testing.T) {
	self := wire.LDPID{LSRID: netip.MustParseAddr("1.1.1.1")}
	for _, c := range []struct {
		name string
		init wire.Message
		want string
	}{
		{"bad protocol version", &wire.Initialization{MsgID: 1, Session: wire.CommonSessionParams{ProtocolVersion: 2, KeepAliveTime: 180, ReceiverID: self}},
			`reason="notification sent" status="Bad Protocol Version"`},
		{"no common session parameters", &wire.RawMessage{MsgType: wire.MsgInitialization, MsgID: 1},
			`reason="notification sent" status="Missing Message Parameters"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logs bytes.Buffer
			e, err := New(Config{
				LSRID: self.LSRID, Interfaces: []string{"eth0"}, LinkHelloHold: InfiniteHold,
				Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			}, newFakeLIB())
			if err != nil {
				t.Fatal(err)
			}
			e.Handle(t0, InterfaceUp{Name: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.12.1/24")}})
			bringUp(t, e, t0, "2.2.2.2", 1, c.init)
			line := closedLine(logs.String())
			if !strings.Contains(line, "lsr-id=2.2.2.2 "+c.want) || strings.Contains(line, "Success") {
				t.Errorf("log line\n%s\nwant lsr-id=2.2.2.2 %s", line, c.want)
			}
		})
	}
}

func closedLine(logs string) string {
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, `msg="ldp session closed"`) {
			return l
		}
	}
	return ""
}

// loggedSession is an engine (fake LIB, infinite link hellos on eth0) with
// an OPERATIONAL session with 2.2.2.2 on conn 1, and its log.
func loggedSession(t *testing.T) (*Engine, *bytes.Buffer) {
	t.Helper()
	return loggedSessionAt(t, slog.LevelInfo)
}

// loggedSessionAt is loggedSession with the log at level.
func loggedSessionAt(t *testing.T, level slog.Level) (*Engine, *bytes.Buffer) {
	t.Helper()
	logs := &bytes.Buffer{}
	e, err := New(Config{
		LSRID: netip.MustParseAddr("1.1.1.1"), Interfaces: []string{"eth0"}, LinkHelloHold: InfiniteHold,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level})),
	}, newFakeLIB())
	if err != nil {
		t.Fatal(err)
	}
	e.Handle(t0, InterfaceUp{Name: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.12.1/24")}})
	bringUp(t, e, t0, "2.2.2.2", 1)
	return e, logs
}

// TestLabelMessageDebugLog checks a label message is named in the debug
// log (the name is formatted only when the line is written) and not at all
// at the info level.
func TestLabelMessageDebugLog(t *testing.T) {
	peer := wire.LDPID{LSRID: netip.MustParseAddr("2.2.2.2")}
	m := &wire.LabelMapping{MsgID: 7, FEC: wire.FEC{wire.PrefixFEC{Prefix: netip.MustParsePrefix("10.9.0.0/16")}}, Label: 1234}
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
		e, logs := loggedSessionAt(t, level)
		e.Handle(t0, ConnData{Conn: 1, Data: mustPDU(t, peer, m)})
		want := `msg="ldp: label message in" lsr-id=2.2.2.2 message="mapping [{10.9.0.0/16}] label 1234"`
		if got := strings.Contains(logs.String(), want); got != (level == slog.LevelDebug) {
			t.Errorf("level %v: log has %q: %v; want %v. Log:\n%s", level, want, got, !got, logs.String())
		}
	}
}
