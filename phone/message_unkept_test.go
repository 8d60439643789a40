package phone

import (
	"context"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fullStore is a history on a full disk: it reads fine and cannot write.
type fullStore struct{ tries atomic.Int32 }

func (*fullStore) SeenMessage(context.Context, Message, string, uint32) (bool, error) {
	return false, nil
}

func (s *fullStore) SaveMessage(context.Context, Message, string, uint32) error {
	s.tries.Add(1)
	return fmt.Errorf("store: adding message: %w", syscall.ENOSPC)
}

// TestMessageUnkeptShownToFrontEnd: the history cannot store an incoming MESSAGE (full disk)
// while a front end is subscribed → the message is shown and answered 200 (RFC 3428: it reached
// the user agent); the same MESSAGE again as a new transaction is answered 200 and not shown
// twice. (Before: 500 without Retry-After, and the message was neither kept nor shown.)
func TestMessageUnkeptShownToFrontEnd(t *testing.T) {
	st := &fullStore{}
	_, addr, events := runPhone(t, Config{Messages: st})
	<-events // snapshot
	for range 2 {
		if res := sendRawMessage(t, addr, "call-full", 1, "text/plain", []byte("disk full")); res.StatusCode != 200 {
			t.Fatalf("%d %s, want 200: a front end was given the message", res.StatusCode, res.Reason)
		}
	}
	shown := 0
	for timeout := time.After(time.Second); ; {
		select {
		case ev := <-events:
			if m, ok := ev.(Message); ok && m.Text == "disk full" {
				shown++
			}
			continue
		case <-timeout:
		}
		break
	}
	if shown != 1 || st.tries.Load() == 0 {
		t.Fatalf("shown %d times (store tried %d), want once", shown, st.tries.Load())
	}
}

// TestMessageUnkeptWithoutFrontEnd: the history cannot store it and nobody is subscribed →
// 500 with Retry-After, so the sender knows it was not delivered; a 200 would lose it silently.
func TestMessageUnkeptWithoutFrontEnd(t *testing.T) {
	p := runUnsubscribed(t, Config{Messages: &fullStore{}, ListenAddr: "127.0.0.1:0"})
	res := sendRawMessage(t, p.SIPAddr(), "call-nobody", 1, "text/plain", []byte("nobody sees this"))
	ra := res.GetHeader("Retry-After")
	if res.StatusCode != 500 || ra == nil || ra.Value() != fmt.Sprint(unkeptRetryAfter) {
		t.Fatalf("%d %s (Retry-After %v), want 500 with Retry-After %d", res.StatusCode, res.Reason, ra, unkeptRetryAfter)
	}
}
