// Command lab is the kernel lab's front end: it fetches the lab kernel, runs
// commands in a guest that has MPLS forwarding, and serves as `go test -exec`
// so that Go test binaries run inside the guest.
//
//	lab kernel                       fetch and unpack the lab kernel, print it
//	lab run [flags] -- CMD [ARG...]  run CMD in the guest, from the current directory
//	lab exec BINARY [ARG...]         run a test binary in the guest (go test -exec)
//
// The exit status is the guest command's; 3 means the guest gave no verdict
// (it did not boot, a module did not load, or it timed out).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lsrd/lsrd/lab/vm"
)

const exitNoVerdict = 3

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var code int
	var err error
	switch os.Args[1] {
	case "kernel":
		code, err = cmdKernel(ctx)
	case "run":
		code, err = cmdRun(ctx, os.Args[2:])
	case "exec":
		code, err = cmdExec(ctx, os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		var ge *vm.GuestError
		if errors.As(err, &ge) {
			code = exitNoVerdict
		} else if code == 0 {
			code = 1
		}
	}
	stop()
	os.Exit(code)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: lab kernel | lab run [-timeout D] [-keep] [-modules m1,m2] -- CMD [ARG...] | lab exec BINARY [ARG...]")
	os.Exit(2)
}

// repoRoot is the top of the lsrd checkout the current directory is in.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/lsrd/lsrd\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("lab: not inside the lsrd checkout")
		}
		dir = parent
	}
}

// cacheDir is .lab at the top of the checkout, or $LSRD_LAB_CACHE.
func cacheDir() (string, error) {
	if d := os.Getenv("LSRD_LAB_CACHE"); d != "" {
		return filepath.Abs(d)
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".lab"), nil
}

func kernel(ctx context.Context) (string, *vm.Kernel, error) {
	cache, err := cacheDir()
	if err != nil {
		return "", nil, err
	}
	pkg, err := vm.CurrentKernelPackage(ctx)
	if err != nil {
		return "", nil, err
	}
	k, err := vm.EnsureKernel(ctx, cache, pkg)
	return cache, k, err
}

func cmdKernel(ctx context.Context) (int, error) {
	_, k, err := kernel(ctx)
	if err != nil {
		return 1, err
	}
	fmt.Printf("package %s\nrelease %s\nimage   %s\nmodules %s\n", k.Package, k.Release, k.Vmlinuz, k.ModulesDir)
	return 0, nil
}

func cmdRun(ctx context.Context, args []string) (int, error) {
	fs := flag.NewFlagSet("lab run", flag.ExitOnError)
	timeout := fs.Duration("timeout", 10*time.Minute, "whole run, boot to power-off")
	keep := fs.Bool("keep", false, "keep the run directory")
	mods := fs.String("modules", "", "comma-separated modules to load instead of the default set")
	mem := fs.Int("mem", 2048, "guest memory in MiB")
	fs.Parse(args)
	if fs.NArg() == 0 {
		usage()
	}
	cache, k, err := kernel(ctx)
	if err != nil {
		return 1, err
	}
	quoted := make([]string, fs.NArg())
	for i, a := range fs.Args() {
		quoted[i] = shellQuote(a)
	}
	dir, _ := os.Getwd()
	cfg := vm.Config{
		CacheDir: cache, Kernel: k, Dir: dir,
		Script:  forwardEnv() + "exec " + strings.Join(quoted, " "),
		Timeout: *timeout, MemoryMB: *mem, KeepRunDir: *keep,
		Output: os.Stdout, Log: os.Stderr,
	}
	if *mods != "" {
		cfg.Modules = strings.Split(*mods, ",")
	}
	res, err := vm.Run(ctx, cfg)
	if err != nil {
		return exitNoVerdict, err
	}
	return res.ExitCode, nil
}

// cmdExec runs a Go test binary in the guest. The binary lives under the host's
// /tmp, which the guest sees through its overlay of the host's root.
func cmdExec(ctx context.Context, args []string) (int, error) {
	if len(args) == 0 {
		usage()
	}
	cache, k, err := kernel(ctx)
	if err != nil {
		return 1, err
	}
	// Lab tests run lsrd as a process: build it now so they never test a
	// stale binary.
	root, err := repoRoot()
	if err != nil {
		return 1, err
	}
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(root, "bin")+"/", "./cmd/...")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return 1, fmt.Errorf("lab: building lsrd: %v\n%s", err, out)
	}
	bin, err := filepath.Abs(args[0])
	if err != nil {
		return 1, err
	}
	timeout := 10 * time.Minute
	for _, a := range args[1:] {
		if v, ok := strings.CutPrefix(a, "-test.timeout="); ok {
			if d, err := time.ParseDuration(v); err == nil && d > 0 {
				// The test binary's own timeout fires first and prints which test
				// hung; the guest's is the backstop.
				timeout = d + 2*time.Minute
			}
		}
	}
	quoted := []string{shellQuote(bin)}
	for _, a := range args[1:] {
		quoted = append(quoted, shellQuote(a))
	}
	dir, _ := os.Getwd()
	res, err := vm.Run(ctx, vm.Config{
		CacheDir: cache, Kernel: k, Dir: dir,
		Script:  forwardEnv() + "exec " + strings.Join(quoted, " "),
		Timeout: timeout,
		Output:  os.Stdout, Log: os.Stderr,
		// LSRD_LAB_KEEP=1 keeps what a test wrote to /run/lab in the guest
		// (a heap profile of the bench, say) on the host.
		KeepRunDir: os.Getenv("LSRD_LAB_KEEP") == "1",
		// LSRD_LAB_MEM (MiB) raises the guest's memory for benchmarks that
		// run dozens of daemons (60 FRR routers on one segment).
		MemoryMB: envInt("LSRD_LAB_MEM"),
	})
	if err != nil {
		return exitNoVerdict, err
	}
	if os.Getenv("LSRD_LAB_KEEP") == "1" {
		fmt.Fprintf(os.Stderr, "lab: run directory (the guest's /run/lab) kept: %s\n", res.RunDir)
	}
	return res.ExitCode, nil
}

// forwardEnv carries the caller's LSRD_* settings and Go runtime knobs into the
// guest, whose environment otherwise starts empty.
func forwardEnv() string {
	var b strings.Builder
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "LSRD_") || name == "GOTRACEBACK" || name == "GODEBUG" || name == "GOMAXPROCS" {
			b.WriteString("export " + shellQuote(kv) + "\n")
		}
	}
	return b.String()
}

// envInt is the number in $name, 0 when unset or not a number.
func envInt(name string) int {
	n, _ := strconv.Atoi(os.Getenv(name))
	return n
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
