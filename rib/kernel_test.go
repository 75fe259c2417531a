package rib

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestOwnRouteNotifications(t *testing.T) {
	rtmsg := func(proto byte) []byte {
		b := make([]byte, unix.SizeofRtMsg)
		b[0], b[5] = unix.AF_INET, proto
		return b
	}
	for _, c := range []struct {
		typ  uint16
		data []byte
		own  bool
	}{
		{unix.RTM_NEWROUTE, rtmsg(OwnProtocol), true},
		{unix.RTM_DELROUTE, rtmsg(OwnProtocol), true},
		{unix.RTM_NEWROUTE, rtmsg(unix.RTPROT_BOOT), false},
		{unix.RTM_NEWROUTE, rtmsg(unix.RTPROT_STATIC), false},
		{unix.RTM_NEWADDR, rtmsg(OwnProtocol), false}, // not a route: the byte means something else
		{unix.RTM_NEWROUTE, []byte{unix.AF_INET}, false},
	} {
		if got := ownRoute(c.typ, c.data); got != c.own {
			t.Errorf("type %d protocol byte %v: own %v, want %v", c.typ, c.data, got, c.own)
		}
	}
}
