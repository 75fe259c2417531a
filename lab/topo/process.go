package topo

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// process is a daemon the lab started in a router's namespace (lsrd,
// gobgpd, prometheus), its output in a log file. Its exit status, once it
// is gone, stays readable by every later check.
type process struct {
	what string // the daemon's name, for messages
	cmd  *exec.Cmd
	log  string
	done chan error // holds the exit status once the process is gone
}

// startProcess starts args[0] with args[1:] in the router's namespace,
// writing its output to log.
func (r *Router) startProcess(what, log string, args ...string) (*process, error) {
	logf, err := os.Create(log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command("ip", append([]string{"netns", "exec", r.Name}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", what, err)
	}
	p := &process{what: what, cmd: cmd, log: log, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	return p, nil
}

// logText is what the process wrote so far.
func (p *process) logText() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// exited returns nil while the process runs, else an error with its exit
// status and log: for readiness checks, which should stop waiting then.
func (p *process) exited() error {
	select {
	case err := <-p.done:
		p.done <- err
		return fmt.Errorf("%s exited (%v):\n%s", p.what, err, p.logText())
	default:
		return nil
	}
}

// wait blocks until the process is gone and returns its exit status.
func (p *process) wait() error {
	err := <-p.done
	p.done <- err
	return err
}

// stop sends SIGTERM and waits up to grace for the process to exit, then
// kills it. It returns nil if the process was already gone or exited
// cleanly, else what went wrong.
func (p *process) stop(grace time.Duration) error {
	select {
	case err := <-p.done:
		p.done <- err
		return nil // already gone (killed, or stopped before)
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			return fmt.Errorf("%s exited with %v after SIGTERM", p.what, err)
		}
		return nil
	case <-time.After(grace):
		p.cmd.Process.Kill()
		p.wait()
		return fmt.Errorf("%s ignored SIGTERM for %s and was killed", p.what, grace)
	}
}
