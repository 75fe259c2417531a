package daemon

import (
	"time"

	"github.com/lsrd/lsrd/ldp"
	"github.com/lsrd/lsrd/ldp/lib"
)

// ldpView is what operators and metrics read of LDP without waiting for
// the speaker: taken on the speaker's goroutine when a reader asks for it
// (freshLDP), served between pieces of work, and at least every second
// while neighbours, sessions or labels change (speaker.Options.Publish;
// the provider edge follows its neighbours from it), so that
// neither `lsrctl show ldp neighbors` nor a scrape queues behind 200,000
// label mappings, and a router with 40 neighbours does not copy it for
// every hello.
type ldpView struct {
	Time      time.Time // the engine's clock: sessions' Since is on it
	Neighbors []ldp.NeighborInfo
	Counters  ldp.Counters
	LIB       lib.Stats
}

// publishLDP takes the view; it runs on the speaker's goroutine.
func (d *Daemon) publishLDP() {
	d.ldpView.Store(&ldpView{Time: time.Now(), Neighbors: d.eng.Neighbors(), Counters: d.eng.Counters(), LIB: d.lib.Stats()})
	if d.vpn != nil {
		// The provider edge follows its LDP neighbours next door.
		select {
		case d.vpn.ldpChanged <- struct{}{}:
		default:
		}
	}
}

// viewWait bounds how long a reader waits for a fresh view: the speaker
// serves the request with its liveness lane, between pieces of work.
const viewWait = 300 * time.Millisecond

// freshLDP asks the speaker for a current view and returns it, or after
// viewWait the last one published (at most a second old while the engine
// works): what operators and scrapes read.
func (d *Daemon) freshLDP() *ldpView {
	if d.sp != nil {
		t := time.NewTimer(viewWait)
		defer t.Stop()
		select {
		case <-d.sp.WantView():
		case <-t.C:
		}
	}
	return d.viewLDP()
}

// viewLDP returns the last view published.
func (d *Daemon) viewLDP() *ldpView {
	if v := d.ldpView.Load(); v != nil {
		return v
	}
	return &ldpView{Time: time.Now(), Neighbors: []ldp.NeighborInfo{}}
}
