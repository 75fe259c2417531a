package ctl

import (
	"fmt"
	"io"
	"strings"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/zerotier"
)

// ZeroTier writes "show zerotier": the service, the planet, the watched
// networks, and every health finding that is not fine.
func ZeroTier(w io.Writer, v api.ZeroTierView) error {
	if !v.Enabled {
		_, err := fmt.Fprintln(w, "ZeroTier is not watched: no zerotier section and no LDP interface given as a network ID")
		return err
	}
	tw := newTable(w)
	svc := "reachable"
	if !v.Reachable {
		svc = "UNREACHABLE"
		if v.Updated.IsZero() {
			svc = "not polled yet"
		}
	}
	row(tw, "ZeroTier One:", v.API, svc)
	if v.Node != nil {
		online := "online"
		if !v.Node.Online {
			online = "OFFLINE"
		}
		row(tw, "Node:", v.Node.Address, "version "+v.Node.Version, online)
		planet := "as expected"
		if !v.Node.PlanetExpected {
			planet = "NOT THE EXPECTED PLANET"
		}
		row(tw, "Planet:", fmt.Sprintf("%d (%#x)", v.Node.PlanetWorldID, v.Node.PlanetWorldID), fmt.Sprintf("timestamp %d", v.Node.PlanetWorldTimestamp), planet)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = newTable(w)
	row(tw, "NETWORK", "CONFIGURED AS", "STATUS", "DEVICE", "MTU", "MTU HEADROOM", "224.0.0.2", "LDP ON", "ADDRESSES")
	for _, n := range v.Networks {
		status, dev, mtu, head, mc := none, none, none, none, none
		if n.Status != "" {
			status, mtu = n.Status, fmt.Sprint(n.MTU)
			head, mc = okOrNot(n.MTUHeadroomOK, "ok", "TOO SMALL"), multicastState(n)
		} else if n.Error != "" {
			status = "UNKNOWN"
		}
		if n.Device != "" {
			dev = n.Device
		}
		ldpOn := n.LDPInterface
		if ldpOn == "" {
			ldpOn = none
		}
		addrs := strings.Join(n.Addresses, ",")
		if addrs == "" {
			addrs = none
		}
		row(tw, n.ID, n.ConfiguredAs, status, dev, mtu, head, mc, ldpOn, addrs)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var bad []string
	if v.Error != "" {
		bad = append(bad, fmt.Sprintf("error\t-\t%s\t%s", zerotier.CheckService, v.Error))
	}
	if v.Planet != nil && v.Planet.Severity != zerotier.SeverityOK {
		bad = append(bad, fmt.Sprintf("%s\t-\t%s\t%s", v.Planet.Severity, v.Planet.Check, v.Planet.Message))
	}
	for _, n := range v.Networks {
		for _, f := range n.Findings {
			if f.Severity != zerotier.SeverityOK {
				bad = append(bad, fmt.Sprintf("%s\t%s\t%s\t%s", f.Severity, n.ID, f.Check, f.Message))
			}
		}
	}
	fmt.Fprintln(w)
	if len(bad) == 0 {
		_, err := fmt.Fprintln(w, "All health checks pass.")
		return err
	}
	tw = newTable(w)
	row(tw, "SEVERITY", "NETWORK", "CHECK", "FINDING")
	for _, b := range bad {
		fmt.Fprintln(tw, b)
	}
	return tw.Flush()
}

func okOrNot(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}

// multicastState is the 224.0.0.2 column: listed by ZeroTier One, joined on
// the device only (ZeroTier lists it after its next config refresh), or
// neither.
func multicastState(n api.ZeroTierNetworkView) string {
	switch {
	case n.MulticastLDPSubscribed:
		return "subscribed"
	case n.MulticastLDPJoined:
		return "joined"
	}
	return "NOT SUBSCRIBED"
}
