package zerotier

import (
	"strings"
	"testing"
	"time"
)

func TestCheckNetwork(t *testing.T) {
	e := Expect{MaxLabelDepth: 2, PayloadMTU: 1500}
	good := Network{ID: "8056c2e21c123456", Status: StatusOK, MTU: 2800, PortDeviceName: "ztmjfnbvsk",
		MulticastSubscriptions: []MulticastSubscription{{MAC: "01:00:5E:00:00:02"}}}
	for _, f := range CheckNetwork(&good, e, Local{}) {
		if f.Severity != SeverityOK {
			t.Errorf("healthy network: %+v", f)
		}
	}
	cases := []struct {
		name  string
		edit  func(*Network)
		check string
		sev   Severity
		want  string
	}{
		{"access denied", func(n *Network) { n.Status = StatusAccessDenied }, CheckStatus, SeverityError, "authorize this member"},
		{"waiting", func(n *Network) { n.Status = StatusRequestingConfig }, CheckStatus, SeverityWarning, "waiting for its configuration"},
		{"port error", func(n *Network) { n.Status = StatusPortError; n.PortError = -1 }, CheckStatus, SeverityError, "PORT_ERROR -1"},
		{"no device", func(n *Network) { n.PortDeviceName = "" }, CheckDevice, SeverityError, "no device"},
		{"mtu", func(n *Network) { n.MTU = 1500 }, CheckMTU, SeverityError, "MTU 1500 is below 1508"},
		{"mtu exact", func(n *Network) { n.MTU = 1508 }, CheckMTU, SeverityOK, "0 bytes to spare"},
		{"no 224.0.0.2", noLDPGroup, CheckMulticast, SeverityWarning, "224.0.0.2 (01:00:5e:00:00:02) is neither joined on ztmjfnbvsk nor among"},
	}
	for _, c := range cases {
		n := good
		c.edit(&n)
		var found bool
		for _, f := range CheckNetwork(&n, e, Local{}) {
			if f.Check == c.check {
				found = true
				if f.Severity != c.sev || !strings.Contains(f.Message, c.want) {
					t.Errorf("%s: %+v, want %s with %q", c.name, f, c.sev, c.want)
				}
			}
		}
		if !found {
			t.Errorf("%s: no %s finding", c.name, c.check)
		}
	}
}

func noLDPGroup(n *Network) {
	n.MulticastSubscriptions = []MulticastSubscription{{MAC: "01:00:5e:00:00:01"}}
}

// ZeroTier One lists a subscription only with its next network config
// refresh: the kernel's membership is enough until the grace runs out, LDP
// starting on the device is no reason to warn, and a network that is not OK
// gets no multicast finding at all.
func TestCheckMulticast(t *testing.T) {
	e := Expect{MaxLabelDepth: 2, PayloadMTU: 1500, MulticastGrace: time.Minute}
	n := Network{ID: "8056c2e21c123456", Status: StatusOK, MTU: 2800, PortDeviceName: "ztmjfnbvsk"}
	noLDPGroup(&n)
	multicast := func(n *Network, l Local) *Finding {
		for _, f := range CheckNetwork(n, e, l) {
			if f.Check == CheckMulticast {
				return &f
			}
		}
		return nil
	}
	for _, c := range []struct {
		local Local
		sev   Severity
		want  string
	}{
		{Local{Starting: true}, SeverityOK, "LDP is starting on ztmjfnbvsk"},
		{Local{JoinedFor: 59 * time.Second}, SeverityOK, "after its next network config refresh"},
		{Local{JoinedFor: 61 * time.Second}, SeverityWarning, "joined on ztmjfnbvsk for 1m1s, but still not among"},
		{Local{}, SeverityWarning, "neither joined"},
	} {
		f := multicast(&n, c.local)
		if f == nil || f.Severity != c.sev || !strings.Contains(f.Message, c.want) {
			t.Errorf("%+v: %+v, want %s %q", c.local, f, c.sev, c.want)
		}
	}
	denied := n
	denied.Status = StatusAccessDenied
	if f := multicast(&denied, Local{}); f != nil {
		t.Errorf("a network that is not OK got a multicast finding: %+v", f)
	}
}

func TestCheckPlanetStatus(t *testing.T) {
	earth := &Status{PlanetWorldID: EarthWorldID, PlanetWorldTimestamp: 1567191349589}
	mine := &Status{PlanetWorldID: 0x6c737264, PlanetWorldTimestamp: 1764000000000}
	for _, c := range []struct {
		s    *Status
		e    Expect
		sev  Severity
		want string
	}{
		{earth, Expect{}, SeverityWarning, "fell back to Earth"},
		{mine, Expect{}, SeverityOK, "no planet expected"},
		{earth, Expect{PlanetID: 0x6c737264}, SeverityError, "ZeroTier's public Earth, expected 1819505252 (0x6c737264): zerotier-one falls back to Earth"},
		{mine, Expect{PlanetID: 0x6c737264}, SeverityOK, "expected planet"},
		{mine, Expect{PlanetID: 0x6c737264, PlanetTimestamp: 1764000000001}, SeverityWarning, "expected timestamp 1764000000001"},
	} {
		f := CheckPlanetStatus(c.s, c.e)
		if f.Check != CheckPlanet || f.Severity != c.sev || !strings.Contains(f.Message, c.want) {
			t.Errorf("%+v with %+v: %+v, want %s %q", c.s, c.e, f, c.sev, c.want)
		}
	}
	if w := Worst([]Finding{{Severity: SeverityOK}, {Severity: SeverityWarning}}); w != SeverityWarning {
		t.Errorf("Worst = %s", w)
	}
}

func TestCheckProbes(t *testing.T) {
	if _, ok := CheckProbes("n", nil); ok {
		t.Error("a finding without probes")
	}
	for _, c := range []struct {
		ps   []Probe
		sev  Severity
		want string
	}{
		{[]Probe{{Neighbor: "2.2.2.2", Address: "10.1.0.2", IP: true, Labelled: true}}, SeverityOK, "labelled LSP pings reach 2.2.2.2"},
		{[]Probe{{Neighbor: "2.2.2.2", Address: "10.1.0.2", IP: true}, {Neighbor: "3.3.3.3", IP: true, Labelled: true}}, SeverityError, "do not reach 2.2.2.2 (10.1.0.2), though plain IP does"},
		{[]Probe{{Neighbor: "2.2.2.2"}}, SeverityOK, "no neighbour answers LSP ping (2.2.2.2)"},
	} {
		f, ok := CheckProbes("n", c.ps)
		if !ok || f.Check != CheckDataplane || f.Severity != c.sev || !strings.Contains(f.Message, c.want) {
			t.Errorf("%+v: %+v, want %s %q", c.ps, f, c.sev, c.want)
		}
	}
}
