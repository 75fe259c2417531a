//go:build lab

package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// profileAfter is LSRD_BENCH_SEGMENT_PROFILE: when set, a segment bench
// run takes CPU profiles of three lsrd routers that long after the first
// daemon started (a diagnostic for where the time goes at 40 routers).
func profileAfter() time.Duration {
	d, err := time.ParseDuration(os.Getenv("LSRD_BENCH_SEGMENT_PROFILE"))
	if err != nil {
		return 0
	}
	return d
}

// profile waits until profileAfter, then takes 20 s CPU profiles of the
// first, middle and last router at once and writes them, with the guest's
// CPU split over the same 20 s, to /run/lab/<name> (kept on the host with
// LSRD_LAB_KEEP=1).
func (s *segmentLab) profile(name string) {
	after := profileAfter()
	if after == 0 || s.dut != "lsrd" {
		return
	}
	time.Sleep(time.Until(s.start.Add(after)))
	dir := filepath.Join("/run/lab", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.t.Logf("profile: %v", err)
		return
	}
	before := guestCPU()
	self0 := selfCPU()
	var wg sync.WaitGroup
	for _, i := range []int{0, s.k / 2, s.k - 1} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.routers[i]
			c := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
				DialContext: func(ctx context.Context, _, a string) (net.Conn, error) { return r.DialContext(ctx, a) },
			}}
			defer c.CloseIdleConnections()
			resp, err := c.Get("http://" + metricsListen + "/debug/pprof/profile?seconds=20")
			if err != nil {
				s.t.Logf("profile %s: %v", r.Name, err)
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, r.Name+".pprof"), b, 0o644)
			}
			if err != nil {
				s.t.Logf("profile %s: %v", r.Name, err)
			}
		}()
	}
	wg.Wait()
	after2 := guestCPU()
	var parts []string
	names := []string{"user", "nice", "system", "idle", "iowait", "irq", "softirq"}
	for i, n := range names {
		if i < len(before) && i < len(after2) {
			parts = append(parts, fmt.Sprintf("%s %.1f s", n, float64(after2[i]-before[i])/100))
		}
	}
	s.t.Logf("profile: guest CPU over the profiles: %s; this test process %.1f s; profiles in %s",
		strings.Join(parts, ", "), selfCPU()-self0, dir)
}

// guestCPU is the first line of /proc/stat, in ticks.
func guestCPU() []int64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil
	}
	line, _, _ := strings.Cut(string(b), "\n")
	var out []int64
	for _, f := range strings.Fields(line)[1:] {
		v, _ := strconv.ParseInt(f, 10, 64)
		out = append(out, v)
	}
	return out
}

// selfCPU is this process's user and system CPU, in seconds.
func selfCPU() float64 {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return float64(u+k) / 100
}
