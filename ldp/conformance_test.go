package ldp

import (
	"errors"
	"flag"
	"fmt"
	"github.com/lsrd/lsrd/ldp/fec"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/ldp/lib"
	"github.com/lsrd/lsrd/ldp/wire"
	"github.com/lsrd/lsrd/rib"
)

var update = flag.Bool("update", false, "rewrite the expected actions of the conformance cases")

// t0 is the time the cases count from; "at 15s" is t0+15s.
var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// TestConformance replays every case under testdata/conformance: timed
// input events, each followed by the actions expected ("=>" lines), the LIB
// calls made and the next deadline. With -update the "=>" lines are
// rewritten from what the engine does.
//
// A case runs against a scripted fake LIB ("lib Call arg -> ..." rules,
// its calls printed as "lib ..." lines) unless it starts with "lib real
// [ordered|independent] [explicit-null] [labels=MIN-MAX]", which drives the
// real ldp/lib: the label messages it sends and the whole LFIB/FTN after
// each change (fib-changed) are then the expected output, and "show lib"
// prints its bindings. Routes come in as "at T route PREFIX via ADDR dev IF
// [via ...]" or "route PREFIX connected IF", and leave as "route-delete
// PREFIX". "show counters" prints the engine's protocol counters. An
// address list may hold runs, "FIRST-LAST" (in interface-up,
// "FIRST-LAST/LEN"), and is printed with them, so a case with thousands of
// addresses stays short.
func TestConformance(t *testing.T) {
	files, err := filepath.Glob("testdata/conformance/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no conformance cases: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := runCase(string(src))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if *update {
				if got != string(src) {
					if err := os.WriteFile(f, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				return
			}
			if got != string(src) {
				t.Errorf("%s differs (rerun with -update after checking):\n%s", f, lineDiff(string(src), got))
			}
		})
	}
}

// lineDiff shows the first differing region of two texts.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	from := max(0, i-3)
	var b strings.Builder
	fmt.Fprintf(&b, "first difference at line %d\n", i+1)
	for j := from; j < i; j++ {
		fmt.Fprintf(&b, "  %s\n", w[j])
	}
	for j := i; j < min(len(w), i+12); j++ {
		fmt.Fprintf(&b, "- %s\n", w[j])
	}
	for j := i; j < min(len(g), i+12); j++ {
		fmt.Fprintf(&b, "+ %s\n", g[j])
	}
	return b.String()
}

// runCase executes a case and returns its text with regenerated "=>" lines.
func runCase(src string) (string, error) {
	lines := strings.Split(strings.TrimRight(src, "\n"), "\n")
	var out []string
	fl := newFakeLIB()
	var labels LabelManager = fl
	var real *lib.LIB
	var e *Engine
	now := t0
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if strings.HasPrefix(line, "=>") {
			continue
		}
		out = append(out, line)
		fail := func(err error) (string, error) { return "", fmt.Errorf("line %d %q: %w", i+1, line, err) }
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "+"):
		case strings.HasPrefix(line, "config "):
			cfg, err := parseConfig(line)
			if err != nil {
				return fail(err)
			}
			if e, err = New(cfg, labels); err != nil {
				return fail(err)
			}
			eng := e
			fl.pos = func() int { return len(eng.out) }
		case strings.HasPrefix(line, "lib real"):
			// The real label decision part instead of the script: the
			// case shows what lsrd itself advertises and installs.
			if e != nil {
				return fail(errors.New("lib real must come before config"))
			}
			l, err := parseRealLIB(line)
			if err != nil {
				return fail(err)
			}
			real, labels = l, l
		case strings.HasPrefix(line, "lib "):
			if err := parseLibRule(fl, line); err != nil {
				return fail(err)
			}
		case strings.HasPrefix(line, "lib-ftn "):
			if err := parseFTNRule(fl, line); err != nil {
				return fail(err)
			}
		case line == "show lib":
			if real == nil {
				return fail(errors.New("show lib needs lib real"))
			}
			for _, g := range showLIB(real) {
				out = append(out, "=> "+g)
			}
		case line == "show counters":
			for _, g := range showCounters(e.Counters()) {
				out = append(out, "=> "+g)
			}
		case strings.HasPrefix(line, "show"):
			// Not an event: the engine's adjacencies and neighbours, for
			// what actions alone do not show.
			for _, g := range showState(e) {
				out = append(out, "=> "+g)
			}
		case strings.HasPrefix(line, "at "):
			if e == nil {
				return fail(errors.New("event before config"))
			}
			var more []string
			for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "+") {
				i++
				more = append(more, strings.TrimSpace(strings.TrimPrefix(lines[i], "+")))
				out = append(out, lines[i])
			}
			at, evs, err := parseEvent(line, more)
			if err != nil {
				return fail(err)
			}
			if at.Before(now) {
				return fail(errors.New("time runs backwards"))
			}
			now = at
			var got []string
			for _, ev := range evs {
				ncalls := len(fl.calls)
				acts := e.Handle(now, ev)
				calls := fl.calls[ncalls:]
				for j, a := range acts {
					for len(calls) > 0 && calls[0].pos <= j {
						got = append(got, calls[0].line)
						calls = calls[1:]
					}
					got = append(got, renderAction(a)...)
				}
				for _, c := range calls {
					got = append(got, c.line)
				}
			}
			if err := deadlineMismatch(e); err != nil {
				return fail(err)
			}
			if d, ok := e.NextDeadline(); ok {
				got = append(got, "deadline "+d.Sub(t0).String())
			} else {
				got = append(got, "deadline none")
			}
			for _, g := range got {
				out = append(out, "=> "+g)
			}
		default:
			return fail(errors.New("unknown directive"))
		}
	}
	return strings.Join(out, "\n") + "\n", nil
}

func parseConfig(line string) (Config, error) {
	_, m, _ := fields(line)
	k := &kvs{m: m}
	secs := func(key string) time.Duration { return time.Duration(k.uint(key, 32)) * time.Second }
	c := Config{
		LSRID:                 k.addr("lsr-id"),
		TransportAddr:         k.addr("transport"),
		TransportAddr6:        k.addr("transport6"),
		IPv4Disabled:          k.str("ipv4") == "off",
		Targets:               k.addrs("targets"),
		LinkHelloHold:         secs("link-hold"),
		LinkHelloInterval:     secs("link-interval"),
		TargetedHelloHold:     secs("targeted-hold"),
		TargetedHelloInterval: secs("targeted-interval"),
		KeepAlive:             secs("keepalive"),
		MaxPDULength:          uint16(k.uint("maxpdu", 16)),

		MaxAdjacenciesPerInterface: int(k.uint("max-adjs", 16)),
		MaxNeighbors:               int(k.uint("max-nbrs", 16)),
		MaxPendingConnections:      int(k.uint("max-pending", 16)),
		PendingConnTimeout:         secs("pending-timeout"),
		InitTimeout:                secs("init-timeout"),
		CountersLinger:             secs("linger"),

		GracefulRestart: GracefulRestart{Enabled: k.str("gr") == "on", ReconnectTime: secs("gr-reconnect"), RecoveryTime: secs("gr-recovery")},
	}
	if s := k.str("interfaces"); s != "" {
		c.Interfaces = strings.Split(s, ",")
	}
	if s := k.str("labels"); s != "" {
		// The label range as configured: a change moves the LIB's.
		var lo, hi fib.Label
		if _, err := fmt.Sscanf(s, "%d-%d", &lo, &hi); err != nil {
			return c, fmt.Errorf("labels=%s: want labels=MIN-MAX: %w", s, err)
		}
		c.LabelMin, c.LabelMax = lo, hi
	}
	if s := k.str("if-families"); s != "" {
		// if-families=IFNAME/ipv4+ipv6,...
		c.InterfaceFamilies = map[string][]Family{}
		for _, e := range strings.Split(s, ",") {
			name, fams, _ := strings.Cut(e, "/")
			for _, f := range strings.Split(fams, "+") {
				af := fec.IPv4
				if f == "ipv6" {
					af = fec.IPv6
				}
				c.InterfaceFamilies[name] = append(c.InterfaceFamilies[name], af)
			}
		}
	}
	switch k.str("prefer") {
	case "ipv4":
		c.TransportPreference = fec.IPv4
	case "ipv6":
		c.TransportPreference = fec.IPv6
	}
	switch k.str("gtsm") {
	case "off":
		c.GTSM.Disabled = true
	case "check-hellos":
		c.GTSM.CheckHellos = true
	}
	if s := k.str("gtsm-off"); s != "" {
		pfxs, err := parsePrefixes(s)
		if err != nil {
			return c, err
		}
		c.GTSM.Off = pfxs
	}
	if s := k.str("md5"); s != "" {
		// md5=PREFIX:KEY,...: TCP-MD5 keys by prefix of LSR IDs.
		for _, e := range strings.Split(s, ",") {
			ps, key, _ := strings.Cut(e, ":")
			pfx, err := netip.ParsePrefix(ps)
			if err != nil {
				return c, err
			}
			c.Auth = append(c.Auth, AuthKey{Peers: pfx, Key: key})
		}
	}
	if s := k.str("accept"); s != "" {
		for _, p := range strings.Split(s, ",") {
			pfx, err := netip.ParsePrefix(p)
			if err != nil {
				return c, err
			}
			c.AcceptTargeted = append(c.AcceptTargeted, pfx)
		}
	}
	return c, k.err
}

// parseLibRule reads "lib Call arg -> peer Message ...".
func parseLibRule(fl *fakeLIB, line string) error {
	head, tail, ok := strings.Cut(strings.TrimPrefix(line, "lib "), " -> ")
	f := strings.Fields(head)
	if !ok || len(f) != 2 {
		return errors.New(`want "lib Call arg -> peer Message"`)
	}
	peer, msgText, _ := strings.Cut(tail, " ")
	p, err := netip.ParseAddr(peer)
	if err != nil {
		return err
	}
	m, err := parseMessage(msgText)
	if err != nil {
		return err
	}
	key := f[0] + " " + f[1]
	fl.replies[key] = append(fl.replies[key], lib.Outgoing{Peer: p, Msg: m})
	return nil
}

// parseFTNRule reads "lib-ftn Call arg -> prefix nexthop ifname label".
func parseFTNRule(fl *fakeLIB, line string) error {
	head, tail, ok := strings.Cut(strings.TrimPrefix(line, "lib-ftn "), " -> ")
	f, g := strings.Fields(head), strings.Fields(tail)
	if !ok || len(f) != 2 || len(g) != 4 {
		return errors.New(`want "lib-ftn Call arg -> prefix nexthop ifname label"`)
	}
	pfx, err := netip.ParsePrefix(g[0])
	if err != nil {
		return err
	}
	nh, err := netip.ParseAddr(g[1])
	if err != nil {
		return err
	}
	var l uint32
	if _, err := fmt.Sscan(g[3], &l); err != nil {
		return err
	}
	key := f[0] + " " + f[1]
	fl.ftn[key] = append(fl.ftn[key], fib.FTNEntry{Prefix: pfx, NextHops: []fib.NextHop{{Addr: nh, Ifname: g[2], Labels: []fib.Label{fib.Label(l)}}}})
	return nil
}

// pduBytes builds the Data of a hello or conn-data event: "hex=..." or
// "pdu=LDPID" with the messages on the "+" lines.
func pduBytes(k *kvs, msgs []string) ([]byte, error) {
	if k.str("hex") != "" {
		return k.hex("hex"), k.err
	}
	p := &wire.PDU{ID: k.ldpID("pdu")}
	for _, s := range msgs {
		m, err := parseMessage(s)
		if err != nil {
			return nil, err
		}
		p.Messages = append(p.Messages, m)
	}
	if k.err != nil {
		return nil, k.err
	}
	return p.MarshalBinary()
}

// parseEvent reads "at DURATION kind args" into one or more events (a
// "data" event with split=N becomes several ConnData of N bytes).
func parseEvent(line string, more []string) (time.Time, []Event, error) {
	f := strings.Fields(line)
	if len(f) < 3 {
		return time.Time{}, nil, errors.New("want: at DURATION EVENT ...")
	}
	d, err := time.ParseDuration(f[1])
	if err != nil {
		return time.Time{}, nil, err
	}
	at := t0.Add(d)
	kind := f[2]
	_, m, flags := fields("x " + strings.Join(f[3:], " "))
	k := &kvs{m: m}
	ap := func(key string) netip.AddrPort {
		s := k.str(key)
		a, err := netip.ParseAddrPort(s)
		if err != nil && k.err == nil {
			k.err = fmt.Errorf("%s=%s: %w", key, s, err)
		}
		return a
	}
	conn := func() ConnID {
		c, err := parseConn(k.str("conn"))
		if err != nil && k.err == nil {
			k.err = err
		}
		return c
	}
	arg := ""
	if len(f) > 3 {
		arg = f[3]
	}
	var evs []Event
	switch kind {
	case "tick":
		evs = []Event{Tick{}}
	case "interface-up":
		ev := InterfaceUp{Name: arg, Index: int(k.uint("index", 16))}
		if s := k.str("addrs"); s != "" {
			pfxs, err := parsePrefixes(s)
			if err != nil {
				return at, nil, err
			}
			ev.Addrs = pfxs
		}
		evs = []Event{ev}
	case "interface-down":
		evs = []Event{InterfaceDown{Name: arg}}
	case "hello":
		data, err := pduBytes(k, more)
		if err != nil {
			return at, nil, err
		}
		ev := HelloReceived{Ifname: k.str("if"), Src: ap("src"), Dst: k.addr("dst"), Targeted: flags["targeted"], Data: data, TTL: int(k.uint("ttl", 8))}
		evs = []Event{ev}
	case "accept":
		evs = []Event{ConnAccepted{Conn: conn(), Local: ap("local"), Remote: ap("remote"), Authenticated: flags["md5"]}}
	case "established":
		evs = []Event{ConnEstablished{Conn: conn()}}
	case "failed":
		evs = []Event{ConnFailed{Conn: conn(), Err: errors.New("connection refused")}}
	case "closed":
		evs = []Event{ConnClosed{Conn: conn(), Err: errors.New("EOF")}}
	case "alive":
		evs = []Event{ConnAlive{Conn: conn()}}
	case "data":
		c := conn()
		data, err := pduBytes(k, more)
		if err != nil {
			return at, nil, err
		}
		n := int(k.uint("split", 16))
		if n <= 0 {
			n = len(data)
		}
		for len(data) > 0 {
			c2 := min(n, len(data))
			evs = append(evs, ConnData{Conn: c, Data: data[:c2]})
			data = data[c2:]
		}
	case "route":
		r, err := parseRoute(f[3:])
		if err != nil {
			return at, nil, err
		}
		evs = []Event{RouteUpdate{Route: r}}
	case "route-delete":
		pfx, err := netip.ParsePrefix(arg)
		if err != nil {
			return at, nil, err
		}
		evs = []Event{RouteDelete{Prefix: pfx}}
	case "config":
		c, err := parseConfig("config " + strings.Join(f[3:], " "))
		if err != nil {
			return at, nil, err
		}
		evs = []Event{ConfigChanged{Config: c}}
	case "clear":
		a, err := netip.ParseAddr(arg)
		if err != nil {
			return at, nil, err
		}
		evs = []Event{ClearNeighbor{LSRID: a}}
	case "forwarding-preserved":
		evs = []Event{ForwardingPreserved{Peers: k.addrs("peers")}}
	default:
		return at, nil, fmt.Errorf("unknown event %q", kind)
	}
	return at, evs, k.err
}

func showState(e *Engine) []string {
	var out []string
	for _, k := range sortedAdjKeys(e.adjs) {
		a := e.adjs[k]
		exp := "never"
		if !a.expires.IsZero() {
			exp = a.expires.Sub(t0).String()
		}
		hold := a.hold.String()
		if a.hold == InfiniteHold {
			hold = "infinite"
		}
		out = append(out, fmt.Sprintf("adjacency %s hold=%s expires=%s", k, hold, exp))
	}
	for _, id := range sortedAddrs(e.nbrs) {
		n := e.nbrs[id]
		st := "no session"
		if n.sess != nil {
			st = n.sess.state.String()
		}
		retry := ""
		if !n.retryAt.IsZero() {
			retry = " retry=" + n.retryAt.Sub(t0).String()
		}
		gr := ""
		if s := n.sess; s != nil && s.state == Operational && s.peerGR() {
			gr = fmt.Sprintf(" gr peer-reconnect=%s peer-recovery=%s", msDuration(s.peerFT.ReconnectTimeout), msDuration(s.peerFT.RecoveryTime))
		}
		if n.sess != nil && n.sess.authenticated {
			st += " md5"
		}
		if n.sess != nil && n.sess.gtsm {
			st += " gtsm"
		}
		if n.families != bitOf(fec.IPv4) {
			st += fmt.Sprintf(" families=%v", n.families.list())
		}
		out = append(out, fmt.Sprintf("neighbor %s transport=%s %s%s%s", id, n.transport, st, retry, gr))
	}
	for _, a := range sortedAddrs(e.targets) {
		out = append(out, fmt.Sprintf("target %s configured=%v", a, e.targets[a].configured))
	}
	for _, ni := range e.Neighbors() {
		if ni.GRHelper != "" {
			out = append(out, fmt.Sprintf("gr-helper %s %s until=%s stale=%d", ni.LSRID, ni.GRHelper, ni.StaleUntil.Sub(t0), ni.StaleBindings))
		}
	}
	if r := e.restart; r != nil && !r.until.IsZero() {
		out = append(out, fmt.Sprintf("gr-restarting until=%s waiting=%s", r.until.Sub(t0), joinAddrs(sortedAddrs(r.waiting))))
	}
	if len(out) == 0 {
		out = append(out, "no adjacencies")
	}
	return out
}

// parseRealLIB reads "lib real [ordered|independent] [explicit-null]
// [labels=MIN-MAX] [unrouted=N]" into a fresh *lib.LIB (ordered control, labels from 16
// up, implicit null by default).
func parseRealLIB(line string) (*lib.LIB, error) {
	cfg := lib.Config{LabelMin: 16, LabelMax: fib.MaxLabel, Control: lib.Ordered}
	for _, w := range strings.Fields(line)[2:] {
		switch {
		case w == "ordered":
			cfg.Control = lib.Ordered
		case w == "independent":
			cfg.Control = lib.Independent
		case w == "explicit-null":
			cfg.ExplicitNull = true
		case strings.HasPrefix(w, "seed="):
			// The previous run's labels: seed=PREFIX:LABEL,...
			cfg.Seed = map[fec.FEC]fib.Label{}
			for _, e := range strings.Split(strings.TrimPrefix(w, "seed="), ",") {
				ps, ls, _ := strings.Cut(e, ":")
				p, err := netip.ParsePrefix(ps)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", w, err)
				}
				var lb uint32
				if _, err := fmt.Sscanf(ls, "%d", &lb); err != nil {
					return nil, fmt.Errorf("%s: want seed=PREFIX:LABEL,...: %w", w, err)
				}
				cfg.Seed[fec.Prefix(p)] = fib.Label(lb)
			}
		case strings.HasPrefix(w, "unrouted="):
			if _, err := fmt.Sscanf(strings.TrimPrefix(w, "unrouted="), "%d", &cfg.MaxUnroutedPerPeer); err != nil {
				return nil, fmt.Errorf("%s: want unrouted=N: %w", w, err)
			}
		case strings.HasPrefix(w, "labels="):
			var lo, hi uint32
			if _, err := fmt.Sscanf(strings.TrimPrefix(w, "labels="), "%d-%d", &lo, &hi); err != nil {
				return nil, fmt.Errorf("%s: want labels=MIN-MAX: %w", w, err)
			}
			cfg.LabelMin, cfg.LabelMax = fib.Label(lo), fib.Label(hi)
		default:
			return nil, fmt.Errorf("lib real: unknown option %q", w)
		}
	}
	return lib.New(cfg)
}

// parseRoute reads "PREFIX via ADDR dev IF [via ADDR dev IF ...]" or
// "PREFIX connected IF" (a next hop without gateway: this LSR is egress).
func parseRoute(f []string) (rib.Route, error) {
	if len(f) < 3 {
		return rib.Route{}, errors.New("want: route PREFIX via ADDR dev IF ... | route PREFIX connected IF")
	}
	pfx, err := netip.ParsePrefix(f[0])
	if err != nil {
		return rib.Route{}, err
	}
	r := rib.Route{Prefix: pfx, Source: rib.SourceStatic}
	for rest := f[1:]; len(rest) > 0; {
		switch {
		case rest[0] == "connected" && len(rest) >= 2:
			r.Source = rib.SourceConnected
			r.NextHops = append(r.NextHops, rib.NextHop{Ifname: rest[1]})
			rest = rest[2:]
		case rest[0] == "via" && len(rest) >= 4 && rest[2] == "dev":
			a, err := netip.ParseAddr(rest[1])
			if err != nil {
				return r, err
			}
			r.NextHops = append(r.NextHops, rib.NextHop{Addr: a, Ifname: rest[3]})
			rest = rest[4:]
		default:
			return r, fmt.Errorf("route: cannot read %q", strings.Join(rest, " "))
		}
	}
	return r, nil
}

// showLIB lists the real LIB's bindings and counters, for what the
// actions alone do not show (a mapping kept but not used, say).
func showLIB(l *lib.LIB) []string {
	var out []string
	for _, b := range l.Bindings() {
		s := "binding " + b.FEC.String() + " local="
		if b.HasLocal {
			s += b.LocalLabel.String()
		} else {
			s += "none"
		}
		for _, r := range b.Remote {
			s += fmt.Sprintf(" %s:%s", r.Peer, r.Label)
			if r.InUse {
				s += "(in-use)"
			}
		}
		out = append(out, s)
	}
	st := l.Stats()
	out = append(out, fmt.Sprintf("stats fecs=%d labels-in-use=%d/%d starved=%d remote=%d withdrawn=%d peers=%d",
		st.FECs, st.LabelsInUse, st.LabelRange, st.Starved, st.RemoteBindings, st.Withdrawn, st.Peers))
	if st.StaleBindings > 0 || st.SeededLabels > 0 {
		out = append(out, fmt.Sprintf("stats stale=%d seeded=%d", st.StaleBindings, st.SeededLabels))
	}
	return out
}
