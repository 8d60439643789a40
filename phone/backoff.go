package phone

import (
	"math/rand/v2"
	"time"
)

// backoff computes retry delays: exponential from min to max with "equal jitter" (half fixed,
// half random), so that many phones behind one failed registrar do not retry in step.
type backoff struct {
	min, max time.Duration
	attempt  int
	rand     func() float64 // [0,1); injectable for tests
}

func newBackoff(min, max time.Duration) *backoff {
	return &backoff{min: min, max: max, rand: rand.Float64}
}

// next returns the delay before the next attempt and counts the attempt.
func (b *backoff) next() time.Duration {
	d := b.min
	for i := 0; i < b.attempt && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	b.attempt++
	half := d / 2
	return half + time.Duration(b.rand()*float64(d-half))
}

// reset starts over after a success.
func (b *backoff) reset() { b.attempt = 0 }

// refreshAfter says when to refresh a binding the registrar granted for expires: halfway, as
// most user agents do, which leaves room for a retry or two before the binding lapses.
func refreshAfter(expires time.Duration) time.Duration {
	return max(expires/2, 500*time.Millisecond)
}
