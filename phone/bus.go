package phone

import (
	"context"
	"sync"
)

// bus fans events out to subscribers. Publishing never blocks: each subscriber has its own
// unbounded queue drained by a goroutine that exits when the subscriber's context ends or
// the bus closes. State changes are never dropped, whatever the subscriber's speed.
type bus struct {
	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	closed bool
	wg     sync.WaitGroup
}

type subscriber struct {
	mu     sync.Mutex
	queue  []Event
	wake   chan struct{} // capacity 1: "the queue has something"
	out    chan Event
	closed bool
}

func newBus() *bus { return &bus{subs: make(map[*subscriber]struct{})} }

// subscribe registers a subscriber whose first event is first. The returned channel closes
// when ctx ends or the bus closes.
func (b *bus) subscribe(ctx context.Context, first Event) <-chan Event {
	s := &subscriber{wake: make(chan struct{}, 1), out: make(chan Event)}
	s.push(first)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(s.out)
		return s.out
	}
	b.subs[s] = struct{}{}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer func() {
			b.mu.Lock()
			delete(b.subs, s)
			b.mu.Unlock()
		}()
		s.deliver(ctx)
	}()
	return s.out
}

func (b *bus) publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		s.push(e)
	}
}

// close ends every subscription after its queued events are delivered (or its context ends),
// and waits for the delivery goroutines.
func (b *bus) close() {
	b.mu.Lock()
	b.closed = true
	for s := range b.subs {
		s.finish()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (s *subscriber) push(e Event) {
	s.mu.Lock()
	s.queue = append(s.queue, e)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *subscriber) finish() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *subscriber) deliver(ctx context.Context) {
	defer close(s.out)
	for {
		s.mu.Lock()
		batch := s.queue
		s.queue = nil
		closed := s.closed
		s.mu.Unlock()
		for _, e := range batch {
			select {
			case s.out <- e:
			case <-ctx.Done():
				return
			}
		}
		if len(batch) > 0 {
			continue
		}
		if closed {
			return
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
			return
		}
	}
}
