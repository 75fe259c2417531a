package bgp

import (
	"context"
	"net/netip"
	"sync"
)

// queue carries Updates from GoBGP's watcher goroutine to the parent. put
// never blocks (GoBGP's own goroutine calls it); run hands over, in one batch,
// whatever accumulated, keeping only the latest update per prefix.
// End-of-RIB markers go at the end of the batch they were put with or a
// later one, never before an update put ahead of them.
type queue struct {
	mu      sync.Mutex
	pending []Update
	index   map[netip.Prefix]int
	marks   []Update // End-of-RIB markers, in the order put
	wake    chan struct{}
}

func newQueue() *queue {
	return &queue{index: map[netip.Prefix]int{}, wake: make(chan struct{}, 1)}
}

func (q *queue) put(us []Update) {
	if len(us) == 0 {
		return
	}
	q.mu.Lock()
	for _, u := range us {
		if u.EndOfRIB != nil {
			q.marks = append(q.marks, u)
			continue
		}
		if i, ok := q.index[u.Route.Prefix]; ok {
			q.pending[i] = u
			continue
		}
		q.index[u.Route.Prefix] = len(q.pending)
		q.pending = append(q.pending, u)
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *queue) take() []Update {
	q.mu.Lock()
	defer q.mu.Unlock()
	batch := append(q.pending, q.marks...)
	q.pending, q.marks = nil, nil
	// A new index, not a cleared one: a cleared map keeps its size, and
	// after the first 100,000 routes that would be megabytes held for
	// batches of a few.
	q.index = map[netip.Prefix]int{}
	return batch
}

// run delivers batches to deliver until ctx ends; what is pending then is dropped.
func (q *queue) run(ctx context.Context, deliver func([]Update)) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
			if batch := q.take(); len(batch) > 0 {
				deliver(batch)
			}
		}
	}
}
