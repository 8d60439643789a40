package aec

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestERLEAfterHold: a call on hold for 5 s, then resumed. While the far end holds us the
// session writes what it plays but reads nothing (our microphone ring overflows: a 5 s capture
// slip at the first Read after); while we hold it does neither (the speaker's ring runs dry
// too). Taken as slips, 5 s is more than the reference queue holds: the 4 s it could not skip
// were owed and then cut out of the next 4 s of far-end audio, and the canceller ran on held
// samples for that long (the far end heard its echo). A slip beyond the queue is a new start.
func TestERLEAfterHold(t *testing.T) {
	needProcessor(t)
	const rate, before, hold, after = 8000, 8, 5, 6 // seconds
	n := rate / 50
	far := speechLike(rand.New(rand.NewPCG(7, 7)), (before+hold+after)*rate, rate)
	scale(far, dbfs(-18))
	for _, weHold := range []bool{false, true} {
		d := &slipDevice{rate: rate, delay: 1200, gain: 0.5, // 150 ms, −6 dB
			skipBefore: map[int]int{before * 50: hold * rate}}
		if weHold {
			d.dryBefore = map[int]int{before * 50: hold * rate}
		}
		s, k, c, err := Wrap(slipSource{d}, slipSink{d}, Options{Tail: 250 * time.Millisecond, EchoSuppress: true})
		if err != nil {
			t.Fatal(err)
		}
		frame := make([]int16, n)
		var out []float64
		for f := 0; (f+1)*n <= len(far); f++ {
			held := f >= before*50 && f < (before+hold)*50
			if held && weHold {
				continue // nothing played, nothing read
			}
			for i := range frame {
				frame[i] = clip(far[f*n+i])
			}
			if err := k.Write(frame); err != nil {
				t.Fatal(err)
			}
			if held {
				continue // the far end holds us: its audio plays, our microphone is not read
			}
			if err := s.Read(frame); err != nil {
				t.Fatal(err)
			}
			for _, v := range frame {
				out = append(out, float64(v))
			}
		}
		s.Close()
		k.Close()
		secs := secondsDown(d.echo, out)
		t.Logf("we hold %v: per second, dB down (hold after second %d): %s; stats %+v", weHold, before, perSecond(d.echo, out), c.Stats())
		// From the second second after the resume on, within 6 dB of the last second before.
		for sec := before + 1; sec < len(secs); sec++ {
			if secs[sec] < secs[before-1]-6 {
				t.Errorf("we hold %v: %.1f dB down in second %d after the resume, %.1f before the hold", weHold, secs[sec], sec-before, secs[before-1])
			}
		}
	}
}

// TestQueueNeverGoesNegative: early media fills the reference queue with nobody reading (no
// Read before the answer), then the call is answered recvonly (Reads, no Writes), then it goes
// to sendrecv. The drift loop's resync discarded the window's average depth, more than the
// queue then held: a negative fill, and the next Write sliced out of range (a panic in the
// call's media).
func TestQueueNeverGoesNegative(t *testing.T) {
	needProcessor(t)
	const n = 160
	for start := range 8 { // the ring positions where the Write lands differ
		d := &slipDevice{rate: 8000, delay: 800, gain: 0.5}
		s, k, c, err := Wrap(hiddenSource{slipSource{d}}, hiddenSink{slipSink{d}}, Defaults())
		if err != nil {
			t.Fatal(err)
		}
		frame := make([]int16, n)
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("start %d: %v", start, r)
				}
			}()
			for i := range 60 + 7*start { // early media: played, nothing read
				frame[0] = int16(i)
				k.Write(frame)
			}
			for range 30 { // recvonly: read, nothing played
				s.Read(frame)
			}
			for range 60 { // sendrecv
				k.Write(frame)
				s.Read(frame)
			}
		}()
		c.mu.Lock()
		fill := c.fifo.n
		c.mu.Unlock()
		if fill < 0 {
			t.Errorf("start %d: the queue holds %d samples", start, fill)
		}
		s.Close()
		k.Close()
	}
}
