package phone

import (
	"sync"
	"time"
)

// recentMessages remembers the last incoming MESSAGEs when no store does, so retransmissions
// that reach us as new transactions are answered but not shown twice.
type recentMessages struct {
	mu     sync.Mutex
	keys   map[string]time.Time
	pruned time.Time // when seen last dropped the expired keys
}

// maxRecentMessages bounds recentMessages: a flood of distinct MESSAGEs (a scanner, a broken
// peer) must grow neither the map nor its pruning without end. Beyond it a message is shown
// but not remembered: only its own retransmission, under such a flood, would show again.
const maxRecentMessages = 4096

// has says whether key was seen within the last minute, without noting it.
func (r *recentMessages) has(key string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.keys[key]
	return ok && now.Sub(t) <= time.Minute
}

// seen says whether key was seen within the last minute, and notes it.
func (r *recentMessages) seen(key string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keys == nil {
		r.keys = map[string]time.Time{}
	}
	// Expired keys go at most once a second: scanning them all for every MESSAGE cost 1 ms a
	// message at 60 000 keys (a minute of a 1000/s flood), a whole core.
	if now.Sub(r.pruned) >= time.Second || now.Before(r.pruned) {
		for k, t := range r.keys {
			if now.Sub(t) > time.Minute { // longer than any retransmission (64*T1 = 32 s)
				delete(r.keys, k)
			}
		}
		r.pruned = now
	}
	if _, ok := r.keys[key]; ok {
		return true
	}
	if len(r.keys) < maxRecentMessages {
		r.keys[key] = now
	}
	return false
}
