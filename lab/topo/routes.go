package topo

import (
	"fmt"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// CountRoutes counts the IPv4 routes of the router's main table that carry
// protocol proto, from one raw netlink dump: no route is decoded beyond its
// header, so polling 100,000 routes stays cheap.
func (r *Router) CountRoutes(proto uint8) (int, error) {
	n := 0
	err := r.Do(func() error {
		req := nl.NewNetlinkRequest(unix.RTM_GETROUTE, unix.NLM_F_DUMP)
		req.AddData(nl.NewRtMsg())
		msgs, err := req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWROUTE)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			// struct rtmsg: family, dst_len, src_len, tos, table, protocol, ...
			if len(m) >= unix.SizeofRtMsg && m[0] == unix.AF_INET && m[4] == unix.RT_TABLE_MAIN && m[5] == proto {
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("topo: %s: counting routes: %w", r.Name, err)
	}
	return n, nil
}
