//go:build cgo && !noportaudio

package portaudio

import (
	"sync"
	"sync/atomic"
	"time"
)

// A device that goes away mid-call (a USB headset unplugged, the sound server killed, hung or
// restarted) does not make PortAudio return an error anywhere we could see it: its audio
// thread prints a line, stops calling our callback and, with ALSA, quits; with a hung server it
// just waits. Read and Write only touch the ring, so the call would go on in silence and the
// user would never know. liveness notices instead that the callbacks stopped while the media
// session kept calling Read or Write: stallFrames calls in a row that saw no callback, over at
// least stallTime. Counting calls as well as time keeps a process that was itself stopped (a
// laptop suspended, SIGSTOP) from mistaking its own pause for a dead device: neither side ran.
const (
	stallFrames = 100             // 2 s of 20 ms Read/Write calls
	stallTime   = 2 * time.Second // and at least this long by the clock
)

// liveness is one stream's heartbeat. beat runs on PortAudio's thread; check on the thread
// calling Read or Write (the media pacer).
type liveness struct {
	beats atomic.Uint64 // callbacks so far
	lost  atomic.Bool

	mu        sync.Mutex // check's state: Read/Write may come from more than one goroutine
	seen      uint64     // beats at the last check
	idle      int        // checks in a row that saw no new callback
	idleSince time.Time  // when that stretch began
}

// beat records one callback. It is all the audio thread does here: no lock, no allocation.
func (l *liveness) beat() { l.beats.Add(1) }

// isLost reports whether check has declared the stream dead.
func (l *liveness) isLost() bool { return l.lost.Load() }

// check is called on every Read or Write. It reports true exactly once: on the call that
// finds the callbacks stopped for stallFrames calls and stallTime. now is only consulted
// while the stream looks idle, so a healthy stream costs an atomic load per call.
func (l *liveness) check(now func() time.Time) (justLost bool) {
	if l.lost.Load() {
		return false
	}
	b := l.beats.Load()
	l.mu.Lock()
	defer l.mu.Unlock()
	if b != l.seen {
		l.seen, l.idle = b, 0
		return false
	}
	l.idle++
	if l.idle == 1 {
		l.idleSince = now()
		return false
	}
	if l.idle < stallFrames || now().Sub(l.idleSince) < stallTime {
		return false
	}
	return l.lost.CompareAndSwap(false, true)
}
