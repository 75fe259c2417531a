package daemon

import (
	"time"

	"github.com/lsrd/lsrd/ldp"
	"github.com/lsrd/lsrd/ldp/lib"
)

// ldpView is what operators and metrics read of LDP without waiting for
// the speaker: taken on the speaker's goroutine when it runs out of events,
// and at least every 200 ms while it does not (speaker.Options.Publish), so
// that neither `lsrctl show ldp neighbors` nor a scrape queues behind
// 200,000 label mappings.
type ldpView struct {
	Time      time.Time // the engine's clock: sessions' Since is on it
	Neighbors []ldp.NeighborInfo
	Counters  ldp.Counters
	LIB       lib.Stats
}

// publishLDP takes the view; it runs on the speaker's goroutine.
func (d *Daemon) publishLDP() {
	d.ldpView.Store(&ldpView{Time: time.Now(), Neighbors: d.eng.Neighbors(), Counters: d.eng.Counters(), LIB: d.lib.Stats()})
}

// viewLDP returns the last view published.
func (d *Daemon) viewLDP() *ldpView {
	if v := d.ldpView.Load(); v != nil {
		return v
	}
	return &ldpView{Time: time.Now(), Neighbors: []ldp.NeighborInfo{}}
}
