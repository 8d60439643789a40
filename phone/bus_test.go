package phone

import (
	"context"
	"testing"
	"time"
)

func TestBusDeliversEverythingInOrderToASlowReader(t *testing.T) {
	b := newBus()
	ch := b.subscribe(context.Background(), Snapshot{})
	for i := range 1000 { // never blocks, however slow the reader
		b.publish(AccountStatus{Code: i})
	}
	go b.close()
	<-ch // the snapshot
	for i := range 1000 {
		e, ok := <-ch
		if !ok || e.(AccountStatus).Code != i {
			t.Fatalf("event %d: %v %v", i, e, ok)
		}
	}
	if _, ok := <-ch; ok {
		t.Fatal("channel not closed after the last event")
	}
}

func TestBusCloseDoesNotWaitForeverOnASubscriberThatStoppedReading(t *testing.T) {
	b := newBus()
	_ = b.subscribe(context.Background(), Snapshot{}) // never read
	b.publish(AccountStatus{})
	start := time.Now()
	b.close()
	if d := time.Since(start); d > closeGrace+time.Second {
		t.Fatalf("close took %v", d)
	}
}

func TestBusSubscriptionEndsWithItsContext(t *testing.T) {
	b := newBus()
	ctx, cancel := context.WithCancel(context.Background())
	ch := b.subscribe(ctx, Snapshot{})
	cancel()
	deadline := time.After(time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				b.close()
				return
			}
		case <-deadline:
			t.Fatal("subscription still open after its context ended")
		}
	}
}
