package vm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config describes one lab run.
type Config struct {
	CacheDir string  // the lab cache (kernel, initramfs, run directories)
	Kernel   *Kernel // the kernel to boot
	// Script is the shell script the guest runs as root in the host's userland,
	// from the directory Dir. Its exit status is the run's verdict.
	Script   string
	Dir      string
	Modules  []string      // modules to load besides BootModules; nil means DefaultModules
	Timeout  time.Duration // whole run, boot to power-off; 0 means 10 minutes
	MemoryMB int           // 0 means 2048
	CPUs     int           // 0 means 2
	Output   io.Writer     // receives the guest command's output as it runs
	Log      io.Writer     // receives the harness's own lines (boot time, verdict)
	// KeepRunDir keeps the run directory even when the run succeeds.
	KeepRunDir bool
}

// Result is what a finished run reports.
type Result struct {
	ExitCode int           // the guest command's exit status
	Boot     time.Duration // qemu start until the guest's userland was ready
	Wall     time.Duration // qemu start until the verdict
	RunDir   string        // where output, console.log and status are (removed on success unless kept)
}

// GuestError is a run that produced no verdict from the guest command: the
// guest did not boot, a module failed to load, or the run timed out.
type GuestError struct {
	Reason  string
	Console string // the tail of the guest's serial console
	RunDir  string
}

func (e *GuestError) Error() string {
	return fmt.Sprintf("lab guest: %s (run directory %s)\n--- guest console (tail) ---\n%s\n--- end of console ---", e.Reason, e.RunDir, e.Console)
}

// Run boots the lab kernel, runs cfg.Script inside and returns its verdict. A
// non-nil error means there was no verdict; a non-zero ExitCode is the
// command's own failure.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Minute
	}
	if cfg.MemoryMB == 0 {
		cfg.MemoryMB = 2048
	}
	if cfg.CPUs == 0 {
		cfg.CPUs = 2
	}
	if cfg.Modules == nil {
		cfg.Modules = DefaultModules
	}
	if cfg.Output == nil {
		cfg.Output = io.Discard
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Dir == "" {
		cfg.Dir = "/"
	}
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return nil, fmt.Errorf("lab: qemu-system-x86_64 not found (install qemu-system-x86): %w", err)
	}
	initrd, err := BuildInitramfs(ctx, cfg.CacheDir, cfg.Kernel, BootModules, cfg.Modules)
	if err != nil {
		return nil, err
	}
	runs := filepath.Join(cfg.CacheDir, "runs")
	if err := os.MkdirAll(runs, 0o755); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	runDir, err := os.MkdirTemp(runs, time.Now().Format("20060102-150405-"))
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	res := &Result{RunDir: runDir, ExitCode: -1}
	script := "cd " + shellQuote(cfg.Dir) + " || exit 125\n" + cfg.Script + "\n"
	if err := os.WriteFile(filepath.Join(runDir, "cmd.sh"), []byte(script), 0o755); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	if err := os.WriteFile(filepath.Join(runDir, "guest.sh"), guestScript, 0o755); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}

	console := filepath.Join(runDir, "console.log")
	args := []string{
		"-nodefaults", "-no-reboot", "-display", "none", "-monitor", "none",
		"-accel", "tcg,thread=multi", "-cpu", "max",
		"-m", strconv.Itoa(cfg.MemoryMB), "-smp", strconv.Itoa(cfg.CPUs),
		"-serial", "file:" + console,
		"-kernel", cfg.Kernel.Vmlinuz, "-initrd", initrd,
		"-append", "console=ttyS0 quiet loglevel=3 panic=-1 random.trust_cpu=on clocksource=tsc tsc=reliable",
		"-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
		"-virtfs", "local,path=" + runDir + ",mount_tag=results,security_model=none,multidevs=remap",
	}
	runCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, qemu, args...)
	var qemuErr bytes.Buffer
	cmd.Stderr = &qemuErr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("lab: starting qemu: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	out := &follower{path: filepath.Join(runDir, "output"), w: cfg.Output}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var waitErr error
loop:
	for {
		select {
		case waitErr = <-done:
			break loop
		case <-tick.C:
			if res.Boot == 0 {
				if _, err := os.Stat(filepath.Join(runDir, "ready")); err == nil {
					res.Boot = time.Since(start)
					fmt.Fprintf(cfg.Log, "lab: guest ready after %.1fs (kernel %s)\n", res.Boot.Seconds(), cfg.Kernel.Release)
				}
			}
			out.poll()
		}
	}
	out.poll()
	res.Wall = time.Since(start)

	fail := func(reason string) (*Result, error) {
		fmt.Fprintf(cfg.Log, "lab: no verdict after %.1fs: %s\n", res.Wall.Seconds(), reason)
		return res, &GuestError{Reason: reason, Console: tail(console, 40), RunDir: runDir}
	}
	if b, err := os.ReadFile(filepath.Join(runDir, "status")); err == nil {
		code, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return fail(fmt.Sprintf("unreadable exit status %q", b))
		}
		res.ExitCode = code
		fmt.Fprintf(cfg.Log, "lab: verdict after %.1fs (boot %.1fs): exit status %d\n", res.Wall.Seconds(), res.Boot.Seconds(), code)
		if code == 0 && !cfg.KeepRunDir {
			os.RemoveAll(runDir)
		}
		return res, nil
	}
	if b, err := os.ReadFile(filepath.Join(runDir, "guest-error")); err == nil {
		return fail(strings.TrimSpace(string(b)))
	}
	if errors.Is(runCtx.Err(), context.DeadlineExceeded) {
		return fail(fmt.Sprintf("timed out after %s", cfg.Timeout))
	}
	if ctx.Err() != nil {
		return fail("run cancelled: " + ctx.Err().Error())
	}
	if r := consoleFailure(console); r != "" {
		return fail(r)
	}
	reason := "the guest stopped without a verdict"
	if waitErr != nil {
		reason += fmt.Sprintf(" (qemu: %v: %s)", waitErr, strings.TrimSpace(qemuErr.String()))
	}
	return fail(reason)
}

// consoleFailure finds the init script's "lab: FAIL:" line, said before the
// results share could be mounted.
func consoleFailure(console string) string {
	b, _ := os.ReadFile(console)
	for _, l := range strings.Split(string(b), "\n") {
		if i := strings.Index(l, "lab: FAIL: "); i >= 0 {
			return strings.TrimSpace(l[i+len("lab: FAIL: "):])
		}
	}
	return ""
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no console: %v)", err)
	}
	s := strings.ReplaceAll(string(b), "\r", "")
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// follower copies what is appended to a file to a writer.
type follower struct {
	path string
	off  int64
	w    io.Writer
}

func (f *follower) poll() {
	fh, err := os.Open(f.path)
	if err != nil {
		return
	}
	defer fh.Close()
	if _, err := fh.Seek(f.off, io.SeekStart); err != nil {
		return
	}
	n, _ := io.Copy(f.w, fh)
	f.off += n
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
