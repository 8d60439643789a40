package phone

import (
	"context"
	"sync"
	"time"
)

// bus fans events out to subscribers. Publishing never blocks: each subscriber has its own
// unbounded queue drained by a goroutine that exits when the subscriber's context ends or
// the bus closes. State changes are never dropped, whatever the subscriber's speed.
type bus struct {
	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	closed bool
	wg     sync.WaitGroup
	abort  chan struct{} // closed when close gives up on subscribers that stopped reading
}

// closeGrace is how long close waits for subscribers to take their last events. A subscriber
// that stopped reading (a front end returning early) must not hold the phone's shutdown.
const closeGrace = 2 * time.Second

type subscriber struct {
	mu     sync.Mutex
	queue  []Event
	wake   chan struct{} // capacity 1: "the queue has something"
	out    chan Event
	closed bool
}

func newBus() *bus { return &bus{subs: make(map[*subscriber]struct{}), abort: make(chan struct{})} }

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
		s.deliver(ctx, b.abort)
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

// close ends every subscription after its queued events are delivered (or its context ends,
// or closeGrace passes without the subscriber reading), and waits for the delivery goroutines.
func (b *bus) close() {
	b.mu.Lock()
	b.closed = true
	for s := range b.subs {
		s.finish()
	}
	b.mu.Unlock()
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(closeGrace):
		close(b.abort)
		<-done
	}
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

func (s *subscriber) deliver(ctx context.Context, abort <-chan struct{}) {
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
			case <-abort:
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
