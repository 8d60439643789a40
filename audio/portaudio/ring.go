//go:build cgo && !noportaudio

package portaudio

import (
	"sync"
	"time"
)

// ring is the bounded FIFO between a PortAudio callback (a real-time C thread) and the
// media session's 20 ms Read/Write calls. Neither side may wait for the other, so a full
// ring drops its oldest samples (latency stays bounded, newest audio wins) and an empty one
// yields nothing; the caller turns that into silence. The mutex is only held for copies, so
// the callback never waits for long.
type ring struct {
	mu         sync.Mutex
	buf        []int16
	head, n    int // oldest sample at buf[head], n samples stored
	stats      Stats
	minRead    int       // ring.pull: samples that must be buffered before playing after a dry spell
	primed     bool      // ring.pull: playing (false until minRead samples have collected)
	underAdded bool      // ring.pull: the current dry spell has been counted
	block      int       // the size of the last push: a capture callback's block (shift.go)
	pushedAt   time.Time // when it came

	// Slips: how far the device's stream has moved against the one Read or Write sees, in
	// samples (slip.go). rate converts them to time; slipBase carries a replaced ring's.
	play     bool // a playback ring: silence played and drops count the other way
	started  bool // ring.pull: played at least once (the silence before that is no slip)
	slip     int64
	rate     int
	slipBase time.Duration
	lat      latencyTrim // holds the ring's fill down to what the two sides' jitter needs (slip.go)
}

func newRing(capacity, minRead int) *ring {
	// underAdded starts true: the silence before the first Write is not an underrun.
	return &ring{buf: make([]int16, capacity), minRead: minRead, underAdded: true}
}

// push appends p, dropping the oldest samples if it does not fit.
func (r *ring) push(p []int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.block, r.pushedAt = len(p), time.Now()
	if r.play {
		p = r.payOwed(p)
		r.padDry(len(p))
	}
	if drop := r.n + len(p) - len(r.buf); drop > 0 {
		r.stats.Overruns++
		r.stats.Dropped += uint64(drop)
		r.slipDropped(drop)
		if len(p) > len(r.buf) {
			p = p[len(p)-len(r.buf):]
			r.head, r.n = 0, 0
		} else {
			r.head = (r.head + drop) % len(r.buf)
			r.n -= drop
		}
	}
	tail := (r.head + r.n) % len(r.buf)
	c := copy(r.buf[tail:], p)
	copy(r.buf, p[c:])
	r.n += len(p)
}

// take fills p completely and reports true, or leaves the ring alone and reports false when
// fewer than len(p) samples are buffered (a Source Read underrun: keep the partial frame
// for the next Read instead of splitting it around a gap).
func (r *ring) take(p []int16) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n < len(p) {
		r.stats.Underruns++
		r.slip -= int64(len(p)) // the Read gets silence the device never captured
		r.lat.reset()
		return false
	}
	// Trim before the copy: the frame returned then starts after what was dropped, and an
	// echo canceller that moves its reference by the slip before this frame stays aligned.
	r.keepDown(len(p), len(p))
	r.copyOut(p)
	return true
}

// pull fills p for the playback callback: buffered samples first, silence for the rest. After
// running dry it plays silence until minRead samples have collected again, so a Write that is
// a little late does not turn every frame into a click.
func (r *ring) pull(p []int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.primed && r.n >= r.minRead {
		r.primed, r.underAdded, r.started = true, false, true
	}
	got := 0
	if r.primed {
		got = min(r.n, len(p))
		r.copyOut(p[:got])
	}
	clear(p[got:])
	if r.started {
		r.slip += int64(len(p) - got) // silence between written samples: the echo comes later
	}
	if got == len(p) {
		r.keepDown(got, 0)
	} else {
		r.lat.reset()
		r.lat.owe = 0 // ran dry: nothing to spare after all
	}
	if got < len(p) {
		r.primed = false
		if !r.underAdded {
			r.stats.Underruns++
			r.underAdded = true
		}
	}
}

func (r *ring) copyOut(p []int16) {
	c := copy(p, r.buf[r.head:min(len(r.buf), r.head+len(p))])
	copy(p[c:], r.buf)
	r.head = (r.head + len(p)) % len(r.buf)
	r.n -= len(p)
}

func (r *ring) hostXrun() {
	r.mu.Lock()
	r.stats.HostXruns++
	r.mu.Unlock()
}

func (r *ring) snapshot() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.Buffered = r.n
	s.Slipped = r.slipped()
	return s
}
