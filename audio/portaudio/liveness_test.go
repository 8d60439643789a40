//go:build cgo && !noportaudio

package portaudio

import (
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// run makes n Read/Write calls 20 ms apart, with a callback before each one when beating,
// and returns how many of them reported the stream lost.
func run(l *liveness, c *fakeClock, n int, beating bool) (lost int) {
	for range n {
		if beating {
			l.beat()
		}
		c.t = c.t.Add(20 * time.Millisecond)
		if l.check(c.now) {
			lost++
		}
	}
	return lost
}

func TestLivenessHealthyStreamIsNeverLost(t *testing.T) {
	l, c := &liveness{}, &fakeClock{t: time.Unix(0, 0)}
	if n := run(l, c, 10_000, true); n != 0 || l.isLost() {
		t.Fatalf("a stream whose callback keeps running was declared lost %d times", n)
	}
}

// TestLivenessBurstyCallbacks: PulseAudio's ALSA plugin delivers 40 ms or more at a time, so
// several Reads in a row may see no callback; that is not a dead device.
func TestLivenessBurstyCallbacks(t *testing.T) {
	l, c := &liveness{}, &fakeClock{t: time.Unix(0, 0)}
	for range 500 {
		if run(l, c, 1, true)+run(l, c, 9, false) != 0 {
			t.Fatal("a callback every 200 ms was declared lost")
		}
	}
}

// TestLivenessStoppedCallbacksAreLostOnce: the error→lost path, without a sound card. The
// callbacks stop (the device went away); the stream is declared lost once, after stallTime.
func TestLivenessStoppedCallbacksAreLostOnce(t *testing.T) {
	l, c := &liveness{}, &fakeClock{t: time.Unix(0, 0)}
	run(l, c, 50, true)
	start := c.t
	lostAt := time.Duration(-1)
	for range 1000 {
		if run(l, c, 1, false) == 1 {
			if lostAt >= 0 {
				t.Fatal("declared lost twice")
			}
			lostAt = c.t.Sub(start)
		}
	}
	if lostAt < stallTime || lostAt > stallTime+100*time.Millisecond {
		t.Fatalf("declared lost %v after the callbacks stopped, want just after %v", lostAt, stallTime)
	}
	if !l.isLost() {
		t.Fatal("isLost is false after the stream was declared lost")
	}
	if run(l, c, 100, true) != 0 || !l.isLost() {
		t.Fatal("a lost stream must stay lost: the call does not switch back on its own")
	}
}

// TestLivenessOwnPauseIsNotALostDevice: the whole process was stopped (suspend, SIGSTOP) for a
// minute: on resume the first Reads see an old heartbeat, but not stallFrames of them.
func TestLivenessOwnPauseIsNotALostDevice(t *testing.T) {
	l, c := &liveness{}, &fakeClock{t: time.Unix(0, 0)}
	run(l, c, 50, true)
	run(l, c, 1, false)
	c.t = c.t.Add(time.Minute)
	if run(l, c, 3, false)+run(l, c, 100, true) != 0 {
		t.Fatal("the process's own pause was taken for a lost device")
	}
}

// TestLivenessFastCallsAreNotEnough: a burst of calls with no time passing (a pacer catching up)
// does not declare the device lost before stallTime.
func TestLivenessFastCallsAreNotEnough(t *testing.T) {
	l, c := &liveness{}, &fakeClock{t: time.Unix(0, 0)}
	run(l, c, 5, true)
	for range 5 * stallFrames {
		if l.check(c.now) {
			t.Fatal("declared lost with no time passing")
		}
	}
}

func BenchmarkLivenessCheck(b *testing.B) {
	l := &liveness{}
	b.ReportAllocs()
	for b.Loop() {
		l.beat()
		l.check(time.Now)
	}
}
