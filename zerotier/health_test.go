package zerotier

import (
	"strings"
	"testing"
)

func TestCheckNetwork(t *testing.T) {
	e := Expect{MaxLabelDepth: 2, PayloadMTU: 1500}
	good := Network{ID: "8056c2e21c123456", Status: StatusOK, MTU: 2800, PortDeviceName: "ztmjfnbvsk",
		MulticastSubscriptions: []MulticastSubscription{{MAC: "01:00:5E:00:00:02"}}}
	for _, f := range CheckNetwork(&good, e) {
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
		{"no 224.0.0.2", func(n *Network) { n.MulticastSubscriptions = []MulticastSubscription{{MAC: "01:00:5e:00:00:01"}} }, CheckMulticast, SeverityWarning, "224.0.0.2 (01:00:5e:00:00:02) is not among"},
	}
	for _, c := range cases {
		n := good
		c.edit(&n)
		var found bool
		for _, f := range CheckNetwork(&n, e) {
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

func TestCheckPlanetStatus(t *testing.T) {
	earth := &Status{PlanetWorldID: EarthWorldID, PlanetWorldTimestamp: 1567191349589}
	mine := &Status{PlanetWorldID: 0x6c737264, PlanetWorldTimestamp: 1764000000000}
	for _, c := range []struct {
		s    *Status
		e    Expect
		sev  Severity
		want string
	}{
		{earth, Expect{}, SeverityOK, "no planet expected"},
		{earth, Expect{PlanetID: 0x6c737264}, SeverityError, "ZeroTier's public Earth, expected 1819505252 (0x6c737264)"},
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
