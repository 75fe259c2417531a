package topo

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// LabelRoutes reads the router's MPLS label table from one raw netlink
// dump: each incoming label, and whether it swaps (carries an outgoing
// label, RTA_NEWDST) rather than pops. Nothing else is decoded, so polling
// a table of 50,000 entries stays cheap beside the daemons it measures.
func (r *Router) LabelRoutes() (map[uint32]bool, error) {
	table := map[uint32]bool{}
	err := r.Do(func() error {
		req := nl.NewNetlinkRequest(unix.RTM_GETROUTE, unix.NLM_F_DUMP)
		msg := nl.NewRtMsg()
		msg.Family = unix.AF_MPLS
		req.AddData(msg)
		msgs, err := req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWROUTE)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if len(m) < unix.SizeofRtMsg || m[0] != unix.AF_MPLS {
				continue
			}
			attrs, err := nl.ParseRouteAttr(m[unix.SizeofRtMsg:])
			if err != nil {
				return err
			}
			in, swap, ok := uint32(0), false, false
			for _, a := range attrs {
				switch a.Attr.Type {
				case unix.RTA_DST:
					// One label stack entry: label in the top 20 bits (RFC 3032).
					if len(a.Value) >= 4 {
						in, ok = binary.BigEndian.Uint32(a.Value)>>12, true
					}
				case unix.RTA_NEWDST:
					swap = true
				}
			}
			if ok {
				table[in] = swap
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("topo: %s: reading label routes: %w", r.Name, err)
	}
	return table, nil
}

// ResidentKB sums the resident memory (VmRSS) of the processes in the
// router's network namespace whose command name is one of comms (FRR's
// ldpd counts three: the parent, lde and ldpe). The guest shares one PID
// namespace, so the router is told apart by the process's network
// namespace, not by pgrep.
func (r *Router) ResidentKB(comms ...string) (int, error) {
	total := 0
	err := r.eachProcess(comms, func(pid string) {
		status, err := os.ReadFile(filepath.Join("/proc", pid, "status"))
		if err != nil {
			return
		}
		for _, l := range strings.Split(string(status), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.Atoi(f[1])
				total += kb
			}
		}
	})
	return total, err
}

// CPUSeconds sums the CPU time (user and system) the router's processes
// named comms have used, in seconds (clock ticks of 1/100 s).
func (r *Router) CPUSeconds(comms ...string) (float64, error) {
	ticks := 0
	err := r.eachProcess(comms, func(pid string) {
		stat, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
		if err != nil {
			return
		}
		// Fields after the command (in parentheses, which may hold
		// spaces): utime and stime are the 12th and 13th.
		rest := string(stat)
		if i := strings.LastIndexByte(rest, ')'); i >= 0 {
			rest = rest[i+1:]
		}
		if f := strings.Fields(rest); len(f) > 12 {
			u, _ := strconv.Atoi(f[11])
			st, _ := strconv.Atoi(f[12])
			ticks += u + st
		}
	})
	return float64(ticks) / 100, err
}

// eachProcess calls f with the PID of each process in the router's
// network namespace whose command name is one of comms.
func (r *Router) eachProcess(comms []string, f func(pid string)) error {
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join("/run/netns", r.Name), &st); err != nil {
		return fmt.Errorf("topo: %s: %w", r.Name, err)
	}
	want := fmt.Sprintf("net:[%d]", st.Ino)
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return err
	}
	for _, d := range dirs {
		pid := d.Name()
		if _, err := strconv.Atoi(pid); err != nil {
			continue
		}
		comm, err := os.ReadFile(filepath.Join("/proc", pid, "comm"))
		if err != nil || !slices.Contains(comms, strings.TrimSpace(string(comm))) {
			continue
		}
		if ns, err := os.Readlink(filepath.Join("/proc", pid, "ns", "net")); err != nil || ns != want {
			continue
		}
		f(pid)
	}
	return nil
}
