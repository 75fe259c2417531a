// Package sdnotify tells systemd about lsrd's state (sd_notify(3)) without
// cgo or libsystemd: one datagram to the socket systemd names in
// $NOTIFY_SOCKET, for a unit of Type=notify.
package sdnotify

import (
	"net"
	"os"
)

// States lsrd reports.
const (
	Ready     = "READY=1"
	Reloading = "RELOADING=1"
	Stopping  = "STOPPING=1"
)

// Notify sends state to systemd; without $NOTIFY_SOCKET (not started by
// systemd, or not Type=notify) it does nothing.
func Notify(state string) error {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return nil
	}
	if addr[0] == '@' {
		addr = "\x00" + addr[1:] // an abstract socket
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(state))
	return err
}
