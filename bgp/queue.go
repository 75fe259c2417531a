package bgp

import (
	"context"
	"net/netip"
	"sync"
)

// queue carries items from GoBGP's watcher goroutine to the parent. put
// never blocks (GoBGP's own goroutine calls it); run hands over, in one batch,
// whatever accumulated, keeping only the latest item per key. Markers (items
// keyOf reports none for: End-of-RIB) go at the end of the batch they were
// put with or a later one, never before an item put ahead of them.
type queue[K comparable, T any] struct {
	keyOf   func(T) (K, bool)
	mu      sync.Mutex
	pending []T
	index   map[K]int
	marks   []T // markers, in the order put
	wake    chan struct{}
}

func newQueue[K comparable, T any](keyOf func(T) (K, bool)) *queue[K, T] {
	return &queue[K, T]{keyOf: keyOf, index: map[K]int{}, wake: make(chan struct{}, 1)}
}

// newUpdateQueue is the queue of unicast best paths, one per prefix.
func newUpdateQueue() *queue[netip.Prefix, Update] {
	return newQueue(func(u Update) (netip.Prefix, bool) { return u.Route.Prefix, u.EndOfRIB == nil })
}

func (q *queue[K, T]) put(us []T) {
	if len(us) == 0 {
		return
	}
	q.mu.Lock()
	for _, u := range us {
		k, keyed := q.keyOf(u)
		if !keyed {
			q.marks = append(q.marks, u)
			continue
		}
		if i, ok := q.index[k]; ok {
			q.pending[i] = u
			continue
		}
		q.index[k] = len(q.pending)
		q.pending = append(q.pending, u)
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *queue[K, T]) take() []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	batch := append(q.pending, q.marks...)
	q.pending, q.marks = nil, nil
	// A new index, not a cleared one: a cleared map keeps its size, and
	// after the first 100,000 routes that would be megabytes held for
	// batches of a few.
	q.index = map[K]int{}
	return batch
}

// run delivers batches to deliver until ctx ends; what is pending then is dropped.
func (q *queue[K, T]) run(ctx context.Context, deliver func([]T)) {
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
