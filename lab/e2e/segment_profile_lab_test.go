//go:build lab

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// profileAfter is LSRD_BENCH_SEGMENT_PROFILE: when set, a segment bench
// run has three lsrd routers (the first, middle and last started) write a
// CPU profile of their first that long (LSRD_CPU_PROFILE), and logs the
// guest's CPU split over the same time: a diagnostic for where the time
// goes at 40 routers, where the metrics listener cannot answer.
func profileAfter() time.Duration {
	d, err := time.ParseDuration(os.Getenv("LSRD_BENCH_SEGMENT_PROFILE"))
	if err != nil {
		return 0
	}
	return d
}

// profileDir is where router profiles go (keptDir).
func (s *segmentLab) profileDir() string { return keptDir(s.t) }

// profileFile is the path of a diagnostic's file name in profileDir,
// which it creates.
func (s *segmentLab) profileFile(name string) string {
	if err := os.MkdirAll(s.profileDir(), 0o755); err != nil {
		s.t.Fatal(err)
	}
	return filepath.Join(s.profileDir(), name)
}

// profileEnv is router i's environment for lsrd.
func (s *segmentLab) profileEnv(i int) []string {
	var env []string
	if v := os.Getenv("LSRD_BENCH_GOMAXPROCS"); v != "" {
		// An experiment: K Go runtimes on the guest's 2 emulated CPUs.
		env = append(env, "GOMAXPROCS="+v)
	}
	if i == 0 && os.Getenv("LSRD_BENCH_SEGMENT_CAPTURE") != "" {
		env = append(env, "GOTRACEBACK=all")
	}
	d := profileAfter()
	if d == 0 || i != 0 && i != s.k/2 && i != s.k-1 {
		return env
	}
	// LSRD_BENCH_SEGMENT_PROFILE_FROM starts the profiles that long after
	// each router's start (a router at rest).
	from := os.Getenv("LSRD_BENCH_SEGMENT_PROFILE_FROM")
	return append(env, "LSRD_CPU_PROFILE="+s.profileFile(s.routers[i].Name+".pprof"), "LSRD_CPU_PROFILE_AFTER="+from, "LSRD_CPU_PROFILE_FOR="+d.String())
}

// profile waits out the profiles and logs the guest's CPU split since the
// first daemon started.
func (s *segmentLab) profile() {
	after := profileAfter()
	if after == 0 || s.dut != "lsrd" || os.Getenv("LSRD_BENCH_SEGMENT_PROFILE_FROM") != "" {
		return
	}
	time.Sleep(time.Until(s.start.Add(after)))
	s.t.Logf("profile: guest CPU in the first %s: %s; this test process %.1f s in all; profiles in %s",
		after, guestCPUSince(s.cpu0), selfCPU(), s.profileDir())
	// The whole guest for 20 s more, kernel included: which processes and
	// which kernel functions take the CPU.
	s.perf("", 20*time.Second)
}

// perf records the whole guest for d with perf (its software clock: the
// emulated CPUs have no PMU) and leaves reports by process and by symbol
// in the profile directory, their names prefixed with prefix.
func (s *segmentLab) perf(prefix string, d time.Duration) {
	data := s.profileFile(prefix + "perf.data")
	if out, err := exec.Command("perf", "record", "-e", "cpu-clock", "-a", "-F", "99", "-g", "-o", data, "--", "sleep", strconv.Itoa(int(d.Seconds()))).CombinedOutput(); err != nil {
		s.t.Logf("profile: perf record: %v: %s", err, out)
		return
	}
	for _, rep := range []struct{ file, sort string }{{"perf-comm.txt", "comm,dso"}, {"perf-sym.txt", "comm,sym"}} {
		out, err := exec.Command("perf", "report", "-i", data, "--stdio", "--no-children", "--sort", rep.sort, "-g", "none", "--percent-limit", "0.5").CombinedOutput()
		if err != nil {
			s.t.Logf("profile: perf report: %v", err)
		}
		os.WriteFile(s.profileFile(prefix+rep.file), out, 0o644)
	}
	s.t.Logf("profile: perf reports in %s (%s*)", s.profileDir(), prefix)
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

// guestCPUSince is the guest's CPU time by kind since cpu0 (a guestCPU
// reading), as "user 3.1 s, nice 0.0 s, ...".
func guestCPUSince(cpu0 []int64) string {
	now := guestCPU()
	var parts []string
	for i, n := range []string{"user", "nice", "system", "idle", "iowait", "irq", "softirq"} {
		if i < len(cpu0) && i < len(now) {
			parts = append(parts, fmt.Sprintf("%s %.1f s", n, float64(now[i]-cpu0[i])/100))
		}
	}
	return strings.Join(parts, ", ")
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
