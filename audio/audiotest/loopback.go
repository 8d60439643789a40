package audiotest

import (
	"errors"
	"io"
	"sync"

	"github.com/dialtone/dialtone/audio"
)

var (
	_ audio.Source = (*Loopback)(nil)
	_ audio.Sink   = (*Loopback)(nil)
)

// Loopback is an in-memory Sink and Source in one: frames written come back out of Read in
// order, like a sound card with its output cabled to its input. The queue is bounded and
// neither side blocks, as the audio interfaces require: a Write to a full queue drops the
// oldest frame, and a Read from an empty one gives silence. Safe for concurrent use.
type Loopback struct {
	mu        sync.Mutex
	ring      [][audio.FrameSamples]int16
	head, n   int // oldest queued frame, and how many are queued
	dropped   int
	underruns int
	closed    bool
}

// ErrClosed is returned by writes to a closed Loopback or Recorder.
var ErrClosed = errors.New("audiotest: write after Close")

// NewLoopback returns a Loopback that queues up to capacityFrames frames (at least 1).
func NewLoopback(capacityFrames int) *Loopback {
	return &Loopback{ring: make([][audio.FrameSamples]int16, max(1, capacityFrames))}
}

// Write queues a copy of frame (a short frame is padded with silence, a long one cut).
func (l *Loopback) Write(frame []int16) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if l.n == len(l.ring) {
		l.head = (l.head + 1) % len(l.ring)
		l.n--
		l.dropped++
	}
	slot := &l.ring[(l.head+l.n)%len(l.ring)]
	clear(slot[copy(slot[:], frame):])
	l.n++
	return nil
}

// Read takes the oldest queued frame, or silence if there is none. After Close it drains
// what is queued and then returns io.EOF.
func (l *Loopback) Read(frame []int16) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == 0 {
		if l.closed {
			return io.EOF
		}
		l.underruns++
		clear(frame)
		return nil
	}
	slot := &l.ring[l.head]
	clear(frame[copy(frame, slot[:]):])
	l.head = (l.head + 1) % len(l.ring)
	l.n--
	return nil
}

// Close ends the stream: writes fail from now on and reads drain the queue. Idempotent.
func (l *Loopback) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	return nil
}

// Len is the number of frames queued.
func (l *Loopback) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// Dropped counts frames lost to a full queue.
func (l *Loopback) Dropped() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}

// Underruns counts reads that found the queue empty and returned silence.
func (l *Loopback) Underruns() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.underruns
}
