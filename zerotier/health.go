package zerotier

import (
	"fmt"
	"strings"
	"time"
)

// Severity grades a Finding.
type Severity string

// Severities, from fine to broken.
const (
	SeverityOK      Severity = "ok"
	SeverityWarning Severity = "warning"
	SeverityError   Severity = "error"
)

// Checks that produce findings.
const (
	CheckService   = "service"
	CheckStatus    = "status"
	CheckDevice    = "device"
	CheckMTU       = "mtu"
	CheckMulticast = "multicast"
	CheckPlanet    = "planet"
)

// Finding is the outcome of one health check.
type Finding struct {
	Check    string   `json:"check"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

// LabelSize is the size of one MPLS label stack entry (RFC 3032).
const LabelSize = 4

// LDPMulticastMAC is the Ethernet group of 224.0.0.2 (all routers), where
// LDP's link hellos go (RFC 5036 2.4.1; RFC 1112 6.4 maps the address).
const LDPMulticastMAC = "01:00:5e:00:00:02"

// EarthWorldID is the ID of ZeroTier's public planet.
const EarthWorldID = 149604618

// Expect is what the operator expects of the underlay.
type Expect struct {
	// PlanetID, when not 0, is the planet every node must use.
	PlanetID uint64
	// PlanetTimestamp, when not 0, is the planet revision expected.
	PlanetTimestamp uint64
	// MaxLabelDepth is the deepest label stack lsrd may push.
	MaxLabelDepth int
	// PayloadMTU is the largest IP packet that must cross the network
	// labelled.
	PayloadMTU int
	// MulticastGrace is how long the kernel's membership of 224.0.0.2 on a
	// device is enough before ZeroTier One lists the subscription too: it
	// refreshes that list only with a network config update, about every
	// 60 s (DefaultMulticastGrace when 0).
	MulticastGrace time.Duration
}

// DefaultMulticastGrace is Expect.MulticastGrace's default: two of ZeroTier
// One's network config refreshes.
const DefaultMulticastGrace = 2 * time.Minute

// Local is what this node's own kernel says about a network's device.
type Local struct {
	// Starting is true while LDP is only now starting on the device (the
	// network just became OK): it has not joined 224.0.0.2 yet.
	Starting bool
	// JoinedFor is how long the device has held 224.0.0.2's group in the
	// kernel, as lsrd saw it; 0 when it does not.
	JoinedFor time.Duration
}

// CheckNetwork grades a network: its status, its device, its MTU against
// the label stack, and, on a network that is OK, whether LDP's hello group
// reaches this node (local says what the kernel holds).
func CheckNetwork(n *Network, e Expect, local Local) []Finding {
	var fs []Finding
	add := func(check string, sev Severity, format string, args ...any) {
		fs = append(fs, Finding{Check: check, Severity: sev, Message: fmt.Sprintf(format, args...)})
	}
	switch n.Status {
	case StatusOK:
		add(CheckStatus, SeverityOK, "network %s is OK", n.ID)
	case StatusRequestingConfig:
		add(CheckStatus, SeverityWarning, "network %s is waiting for its configuration from the controller", n.ID)
	case StatusAccessDenied:
		add(CheckStatus, SeverityError, "network %s: ACCESS_DENIED: authorize this member on the controller", n.ID)
	case StatusNotFound:
		add(CheckStatus, SeverityError, "network %s: NOT_FOUND: its controller does not know it (typo in the ID, or controller lost its state)", n.ID)
	case StatusPortError:
		add(CheckStatus, SeverityError, "network %s: PORT_ERROR %d: ZeroTier One could not create its device", n.ID, n.PortError)
	case StatusClientTooOld:
		add(CheckStatus, SeverityError, "network %s: CLIENT_TOO_OLD: upgrade ZeroTier One", n.ID)
	case StatusAuthenticationRequired:
		add(CheckStatus, SeverityError, "network %s: AUTHENTICATION_REQUIRED: the network wants SSO login", n.ID)
	default:
		add(CheckStatus, SeverityError, "network %s: status %q", n.ID, n.Status)
	}
	if n.PortDeviceName == "" {
		add(CheckDevice, SeverityError, "network %s has no device yet", n.ID)
	} else {
		add(CheckDevice, SeverityOK, "network %s is device %s", n.ID, n.PortDeviceName)
	}
	need := e.PayloadMTU + LabelSize*e.MaxLabelDepth
	if n.MTU < need {
		add(CheckMTU, SeverityError, "network %s MTU %d is below %d (%d-byte IP packets under %d labels of %d bytes): labelled packets that large will be dropped; raise the network's MTU on the controller (2800 is ZeroTier's default)",
			n.ID, n.MTU, need, e.PayloadMTU, e.MaxLabelDepth, LabelSize)
	} else {
		add(CheckMTU, SeverityOK, "network %s MTU %d fits %d-byte IP packets under %d labels (%d bytes to spare)", n.ID, n.MTU, e.PayloadMTU, e.MaxLabelDepth, n.MTU-need)
	}
	if n.Status == StatusOK && n.PortDeviceName != "" {
		fs = append(fs, checkMulticast(n, e, local))
	}
	return fs
}

// checkMulticast grades whether neighbours' LDP hellos reach this node.
// ZeroTier delivers multicast only to members that subscribed; its tap
// subscribes to what the kernel holds on the device, but /network lists the
// subscription only after its next network config refresh.
func checkMulticast(n *Network, e Expect, local Local) Finding {
	grace := e.MulticastGrace
	if grace == 0 {
		grace = DefaultMulticastGrace
	}
	f := Finding{Check: CheckMulticast, Severity: SeverityOK}
	switch {
	case MulticastSubscribed(n, LDPMulticastMAC):
		f.Message = fmt.Sprintf("network %s: subscribed to 224.0.0.2 (%s): LDP hellos reach this node", n.ID, LDPMulticastMAC)
	case local.Starting:
		f.Message = fmt.Sprintf("network %s: LDP is starting on %s and joins 224.0.0.2 (%s)", n.ID, n.PortDeviceName, LDPMulticastMAC)
	case local.JoinedFor > 0 && local.JoinedFor < grace:
		f.Message = fmt.Sprintf("network %s: 224.0.0.2 (%s) joined on %s; ZeroTier One lists the subscription after its next network config refresh", n.ID, LDPMulticastMAC, n.PortDeviceName)
	case local.JoinedFor > 0:
		f.Severity = SeverityWarning
		f.Message = fmt.Sprintf("network %s: 224.0.0.2 (%s) joined on %s for %s, but still not among this node's multicast subscriptions: ZeroTier delivers multicast only to members that subscribed, so neighbours' LDP hellos may not arrive (restart zerotier-one if it persists)",
			n.ID, LDPMulticastMAC, n.PortDeviceName, local.JoinedFor.Round(time.Second))
	default:
		f.Severity = SeverityWarning
		f.Message = fmt.Sprintf("network %s: 224.0.0.2 (%s) is neither joined on %s nor among this node's multicast subscriptions: ZeroTier delivers multicast only to members that subscribed, so neighbours' LDP hellos will not arrive",
			n.ID, LDPMulticastMAC, n.PortDeviceName)
	}
	return f
}

// MulticastSubscribed reports whether the node subscribed to the group mac on n.
func MulticastSubscribed(n *Network, mac string) bool {
	for _, s := range n.MulticastSubscriptions {
		if strings.EqualFold(s.MAC, mac) {
			return true
		}
	}
	return false
}

// CheckPlanetStatus grades the planet the node uses against the expected one.
func CheckPlanetStatus(s *Status, e Expect) Finding {
	name := fmt.Sprintf("%d (%#x)", s.PlanetWorldID, s.PlanetWorldID)
	if s.PlanetWorldID == EarthWorldID {
		name += ", ZeroTier's public Earth"
	}
	switch {
	case e.PlanetID == 0 && s.PlanetWorldID == EarthWorldID:
		return Finding{CheckPlanet, SeverityWarning, fmt.Sprintf("node uses planet %s: if this network runs a private planet, zerotier-one could not read its planet file, fell back to Earth without a word and overwrote the file; set zerotier.expected-planet so that lsrd flags that as an error", name)}
	case e.PlanetID == 0:
		return Finding{CheckPlanet, SeverityOK, fmt.Sprintf("node uses planet %s, timestamp %d (no planet expected in lsrd's configuration)", name, s.PlanetWorldTimestamp)}
	case s.PlanetWorldID == EarthWorldID:
		return Finding{CheckPlanet, SeverityError, fmt.Sprintf("node uses planet %s, expected %d (%#x): zerotier-one falls back to Earth, silently, when its planet file is missing or unreadable (it does not check the signature) and overwrites the file with Earth: install the private planet as /var/lib/zerotier-one/planet again (check it with lsrctl zerotier planet inspect) and restart zerotier-one", name, e.PlanetID, e.PlanetID)}
	case s.PlanetWorldID != e.PlanetID:
		return Finding{CheckPlanet, SeverityError, fmt.Sprintf("node uses planet %s, expected %d (%#x): install the private planet as /var/lib/zerotier-one/planet and restart zerotier-one", name, e.PlanetID, e.PlanetID)}
	case e.PlanetTimestamp != 0 && s.PlanetWorldTimestamp != e.PlanetTimestamp:
		return Finding{CheckPlanet, SeverityWarning, fmt.Sprintf("node uses planet %s with timestamp %d, expected timestamp %d: another revision of the planet", name, s.PlanetWorldTimestamp, e.PlanetTimestamp)}
	}
	return Finding{CheckPlanet, SeverityOK, fmt.Sprintf("node uses the expected planet %s, timestamp %d", name, s.PlanetWorldTimestamp)}
}

// Worst returns the most severe of fs (SeverityOK for none).
func Worst(fs []Finding) Severity {
	w := SeverityOK
	for _, f := range fs {
		switch {
		case f.Severity == SeverityError:
			return SeverityError
		case f.Severity == SeverityWarning:
			w = SeverityWarning
		}
	}
	return w
}

// CheckDataplane is the check that labelled packets cross a network.
const CheckDataplane = "dataplane"

// Probe is the outcome of one round of LSP pings (RFC 8029) to an LDP
// neighbour over a network: one as plain IP, one under a label.
type Probe struct {
	Neighbor string `json:"neighbor"` // LSR ID
	Address  string `json:"address"`  // on the network
	// IP and Labelled say which echo requests the neighbour answered.
	IP       bool `json:"ip"`
	Labelled bool `json:"labelled"`
}

// CheckProbes grades a network's data plane from the last probes of its
// LDP neighbours; ok is false when there is nothing to grade.
//
// A neighbour that answers the plain probe but not the labelled one has a
// network between that drops labelled frames: ZeroTier's flow rules do so
// unless they accept ethertype 0x8847 (ZeroTier Central's default rule set
// allows only IPv4, ARP and IPv6). One that answers neither runs no LSP
// ping responder (FRR's ldpd has none), so it says nothing.
func CheckProbes(network string, ps []Probe) (f Finding, ok bool) {
	var blocked, passed, silent []string
	for _, p := range ps {
		switch {
		case p.Labelled:
			passed = append(passed, p.Neighbor)
		case p.IP:
			blocked = append(blocked, p.Neighbor+" ("+p.Address+")")
		default:
			silent = append(silent, p.Neighbor)
		}
	}
	switch {
	case len(ps) == 0:
		return Finding{}, false
	case len(blocked) > 0:
		return Finding{CheckDataplane, SeverityError, fmt.Sprintf("network %s: labelled packets (ethertype 0x8847) do not reach %s, though plain IP does: the network's flow rules drop MPLS, as ZeroTier Central's default rules do; add \"accept ethertype 0x8847;\" and \"accept ethertype 0x8848;\" before the rules' drop (docs/zerotier.md, flow rules). LDP stays up, labelled traffic is lost",
			network, strings.Join(blocked, ", "))}, true
	case len(passed) > 0:
		return Finding{CheckDataplane, SeverityOK, fmt.Sprintf("network %s: labelled LSP pings reach %s", network, strings.Join(passed, ", "))}, true
	}
	return Finding{CheckDataplane, SeverityOK, fmt.Sprintf("network %s: no neighbour answers LSP ping (%s): the data plane is not checked", network, strings.Join(silent, ", "))}, true
}
