package hostile

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// IdleConns are TCP connections to a router's LDP port that never send a
// byte: each waits for the router to close it.
type IdleConns struct {
	mu     sync.Mutex
	conns  []net.Conn
	opened []time.Time
	closed map[int]time.Duration // by index: how long the connection lived
	wg     sync.WaitGroup
	once   sync.Once
	report IdleReport
}

// IdleReport says how the idle connections fared.
type IdleReport struct {
	Opened int
	// ClosedByRouter are the lifetimes of the connections the router
	// closed (or reset), shortest first.
	ClosedByRouter []time.Duration
	// StillOpen counts those the router had not closed when Close was
	// called.
	StillOpen int
}

// String summarises the report: how many the router closed and after how
// long (shortest, median, longest).
func (r IdleReport) String() string {
	s := fmt.Sprintf("%d opened, %d closed by the router, %d still open", r.Opened, len(r.ClosedByRouter), r.StillOpen)
	if n := len(r.ClosedByRouter); n > 0 {
		s += fmt.Sprintf(" (closed after min %v, median %v, max %v)", r.ClosedByRouter[0].Round(time.Millisecond),
			r.ClosedByRouter[n/2].Round(time.Millisecond), r.ClosedByRouter[n-1].Round(time.Millisecond))
	}
	return s
}

// OpenIdle opens count connections from the namespace in to target (a
// router's address and port 646) and holds them without sending anything.
// Connections the router refuses count as not opened; OpenIdle fails only
// when none could be opened.
func OpenIdle(ctx context.Context, in Netns, target netip.AddrPort, count int) (*IdleConns, error) {
	if err := inLab(); err != nil {
		return nil, err
	}
	ic := &IdleConns{closed: map[int]time.Duration{}}
	var lastErr error
	err := in(func() error {
		var d net.Dialer
		for range count {
			dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			c, err := d.DialContext(dctx, "tcp4", target.String())
			cancel()
			if err != nil {
				lastErr = err
				if ctx.Err() != nil {
					return ctx.Err()
				}
				continue
			}
			ic.conns = append(ic.conns, c)
			ic.opened = append(ic.opened, time.Now())
		}
		return nil
	})
	if err == nil && len(ic.conns) == 0 {
		err = fmt.Errorf("no connection opened: %v", lastErr)
	}
	if err != nil {
		for _, c := range ic.conns {
			c.Close()
		}
		return nil, fmt.Errorf("hostile: idle connections to %s: %w", target, err)
	}
	for i, c := range ic.conns {
		ic.wg.Add(1)
		go ic.watch(i, c)
	}
	return ic, nil
}

// watch waits for the router to end connection i; the router's only
// possible answer to an idle connection is to close it (or send a
// Notification first, which is read and dropped).
func (ic *IdleConns) watch(i int, c net.Conn) {
	defer ic.wg.Done()
	buf := make([]byte, 4096)
	for {
		if _, err := c.Read(buf); err != nil {
			break
		}
	}
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if ic.conns[i] != nil { // not closed by us
		ic.closed[i] = time.Since(ic.opened[i])
		ic.conns[i] = nil
	}
	c.Close()
}

// Open returns how many connections the router has not closed yet.
func (ic *IdleConns) Open() int {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	n := 0
	for _, c := range ic.conns {
		if c != nil {
			n++
		}
	}
	return n
}

// Close closes the connections still open and reports how they all fared.
// Later calls return the same report.
func (ic *IdleConns) Close() IdleReport {
	ic.once.Do(func() {
		ic.mu.Lock()
		r := IdleReport{Opened: len(ic.conns)}
		for i, c := range ic.conns {
			if c != nil {
				r.StillOpen++
				ic.conns[i] = nil
				c.Close()
			}
		}
		for _, d := range ic.closed {
			r.ClosedByRouter = append(r.ClosedByRouter, d)
		}
		ic.mu.Unlock()
		ic.wg.Wait()
		slices.Sort(r.ClosedByRouter)
		ic.report = r
	})
	return ic.report
}
