package aec

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio"
)

// slipDevice is a simulated sound card whose streams slip: its speaker plays, on the device's
// own timeline, what was written with silence inserted wherever the test says it ran dry and
// the start of a Write dropped where it says its latency trim did, and its microphone captures
// that timeline's echo (fixed delay and gain), skips captured audio where the test says its
// ring overflowed, and returns a silent frame without capturing where it says a Read came up
// short. All count their slips like audio/portaudio's.
type slipDevice struct {
	rate       int
	played     []float64 // the speaker's output, device time
	delay      int       // the echo's delay in samples, device time
	gain       float64
	capAt      int           // the device time of the next captured sample
	playSlip   time.Duration // silence played between written frames
	capSlip    time.Duration // captured audio skipped
	echo       []float64     // what each read carried, for the measurement
	dryBefore  map[int]int   // write number → silent samples the speaker plays before it
	skipBefore map[int]int   // read number → captured samples lost before it
	trimBefore map[int]int   // write number → samples dropped from its start
	shortAt    map[int]bool  // read number → a short Read: silence, nothing captured
	writes     int
	reads      int
}

func (d *slipDevice) dur(n int) time.Duration {
	return time.Duration(n) * time.Second / time.Duration(d.rate)
}

type slipSink struct{ d *slipDevice }

func (k slipSink) Write(f []int16) error {
	d := k.d
	if s := d.dryBefore[d.writes]; s > 0 {
		d.played = append(d.played, make([]float64, s)...)
		d.playSlip += d.dur(s)
	}
	if s := min(d.trimBefore[d.writes], len(f)); s > 0 {
		f = f[s:]
		d.playSlip -= d.dur(s)
	}
	d.writes++
	for _, v := range f {
		d.played = append(d.played, float64(v))
	}
	return nil
}
func (k slipSink) Close() error             { return nil }
func (k slipSink) Slipped() time.Duration   { return k.d.playSlip }
func (s slipSource) Slipped() time.Duration { return s.d.capSlip }
func (s slipSource) Close() error           { return nil }
func (s hiddenSink) Write(f []int16) error  { return s.k.Write(f) }
func (s hiddenSink) Close() error           { return nil }
func (s hiddenSource) Read(f []int16) error { return s.s.Read(f) }
func (s hiddenSource) Close() error         { return nil }

type slipSource struct{ d *slipDevice }

// hiddenSink and hiddenSource are the same device without Slipped: what the canceller did
// before it followed slips.
type hiddenSink struct{ k slipSink }
type hiddenSource struct{ s slipSource }

func (s slipSource) Read(f []int16) error {
	d := s.d
	if k := d.skipBefore[d.reads]; k > 0 {
		d.capAt += k
		d.capSlip += d.dur(k)
	}
	if d.shortAt[d.reads] {
		d.reads++
		clear(f)
		d.capSlip -= d.dur(len(f))
		d.echo = append(d.echo, make([]float64, len(f))...)
		return nil
	}
	d.reads++
	for i := range f {
		j := d.capAt - d.delay
		v := 0.0
		if j >= 0 && j < len(d.played) {
			v = d.gain * d.played[j]
		}
		d.echo = append(d.echo, v)
		f[i] = clip(v)
		d.capAt++
	}
	return nil
}

// TestERLEAcrossSlips: the speaker's ring runs dry twice (40 and 20 ms of silence between
// written frames) and the microphone's overflows once (20 ms lost), as on a loaded machine.
// Each is a jump in the echo path. Following the devices' slip counts, the canceller keeps
// the filter it learnt; without them it has to learn the path again after each.
func TestERLEAcrossSlips(t *testing.T) {
	needProcessor(t)
	const rate, seconds = 8000, 16
	n := rate / 50
	far := speechLike(rand.New(rand.NewPCG(3, 3)), seconds*rate, rate)
	scale(far, dbfs(-18))
	run := func(follow bool) (after []float64, st Stats) {
		d := &slipDevice{rate: rate, delay: 1200, gain: 0.5, // 150 ms, −6 dB
			dryBefore:  map[int]int{300: 320, 600: 160},
			skipBefore: map[int]int{450: 160}}
		var src, snk = any(slipSource{d}), any(slipSink{d})
		if !follow {
			src, snk = hiddenSource{slipSource{d}}, hiddenSink{slipSink{d}}
		}
		s, k, c, err := Wrap(src.(interface {
			Read([]int16) error
			Close() error
		}), snk.(interface {
			Write([]int16) error
			Close() error
		}), Options{Tail: 250 * time.Millisecond, EchoSuppress: true})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		defer k.Close()
		out := playThrough(t, s, k, far, n)
		// dB down in the second after each slip reaches the microphone, and over the last 4 s.
		for _, from := range []int{5 * rate, 6*rate + 1200, 9*rate + 1200, 9*rate + 4000, 12*rate + 1200, 12 * rate} {
			to := min(from+rate, len(out))
			if from == 12*rate {
				to = len(out)
			}
			after = append(after, db(rmsOf(d.echo[from:to])/(rmsOf(out[from:to])+1e-9)))
		}
		return after, c.Stats()
	}
	with, st := run(true)
	without, _ := run(false)
	t.Logf("dB down 5-6 s (before the slips), after the speaker's at 6 s, after the microphone's at 9 s (its first second, then from 0.5 s), after the speaker's at 12 s, over the last 4 s: following them %.1f, not %.1f; stats %+v", with, without, st)
	if st.Slips != 3 {
		t.Errorf("the reference followed %d slips, want 3", st.Slips)
	}
	// A speaker slip is exact: silence in the reference where the speaker played it, so the
	// filter loses nothing. A microphone slip moves the capture against the reference history
	// the filter holds (the echo delay's worth): a transient until that history is refilled.
	if with[1] < with[0]-3 || with[4] < 30 {
		t.Errorf("the speaker's slips cost cancellation: %.1f dB before, %.1f and %.1f after", with[0], with[1], with[4])
	}
	if with[3] < 25 {
		t.Errorf("%.1f dB down from 0.5 s after the microphone's slip, want >= 25", with[3])
	}
	if with[5] < 35 || with[5] < without[5]+20 {
		t.Errorf("last 4 s: %.1f dB down following the slips, %.1f not: want >= 35 and 20 dB better", with[5], without[5])
	}
}

// TestERLEAcrossTrimsAheadOfShortReads: the session's ticks run a little fast against the
// sound card, so the speaker's ring fills (its latency trim drops the start of a Write) and
// the microphone's runs dry (a short Read) by the same amount in the long run, but not in
// step: on PulseAudio the speaker's trims ran two ahead of the microphone's short Reads (its
// start-up backlog trimmed too). Each trim moves the reference forward into what was just
// written; two in a row used up the 30 ms the reference started behind it, the queue ran
// short, and the hold that filled the gap moved the reference against the echo for good. And
// a 20 ms slip at 8 kHz was 159 samples, the next one 160: a sample's jump each time. Either
// way the filter re-learnt for seconds (0-20 dB down where it had cancelled 30-50).
func TestERLEAcrossTrimsAheadOfShortReads(t *testing.T) {
	needProcessor(t)
	const rate, seconds, first = 8000, 20, 10 // the first slip at 10 s
	n := rate / 50
	far := speechLike(rand.New(rand.NewPCG(5, 5)), seconds*rate, rate)
	scale(far, dbfs(-18))
	d := &slipDevice{rate: rate, delay: 1600, gain: 0.5, // 200 ms, −6 dB
		trimBefore: map[int]int{first * 50: 160, first*50 + 100: 151},
		shortAt:    map[int]bool{first*50 + 250: true, first*50 + 350: true}}
	s, k, c, err := Wrap(slipSource{d}, slipSink{d}, Options{Tail: 250 * time.Millisecond, EchoSuppress: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	defer k.Close()
	out := playThrough(t, s, k, far, n)
	secs := secondsDown(d.echo, out)
	st := c.Stats()
	t.Logf("per second, dB down: %s; stats %+v", perSecond(d.echo, out), st)
	if st.Slips != 4 || st.Passed != 2 {
		t.Errorf("the reference followed %d slips and passed %d short Reads, want 4 and 2", st.Slips, st.Passed)
	}
	if st.Duplicated != 0 {
		t.Errorf("the reference ran short by %d samples", st.Duplicated)
	}
	// The filter keeps converging through all four: no second from the first slip on falls
	// more than 3 dB below the second before it.
	for sec := first; sec < seconds; sec++ {
		if secs[sec] < secs[first-1]-3 {
			t.Errorf("%.1f dB down in second %d, %.1f before the slips", secs[sec], sec, secs[first-1])
		}
	}
}

// countingSource and countingSink slip a frame's worth now and then without allocating.
type countingSource struct{ n int }

func (s *countingSource) Read(f []int16) error { s.n++; clear(f); return nil }
func (s *countingSource) Close() error         { return nil }
func (s *countingSource) Slipped() time.Duration {
	return time.Duration(s.n/7%3-1) * 20 * time.Millisecond
}

type countingSink struct{ n int }

func (k *countingSink) Write(f []int16) error { k.n++; return nil }
func (k *countingSink) Close() error          { return nil }
func (k *countingSink) Slipped() time.Duration {
	return time.Duration(k.n/5%3-1) * 15 * time.Millisecond
}

// Following slips allocates nothing per frame either.
func TestSlipPathDoesNotAllocate(t *testing.T) {
	needProcessor(t)
	src, snk, c, err := Wrap(&countingSource{}, &countingSink{}, Defaults())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	defer snk.Close()
	frame := make([]int16, 160)
	for i := range frame {
		frame[i] = int16(i * 37)
	}
	allocs := testing.AllocsPerRun(200, func() {
		snk.Write(frame)
		src.Read(frame)
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per frame", allocs)
	}
	if c.Stats().Slips == 0 {
		t.Error("no slips were followed")
	}
}

// playThrough writes far to the wrapped sink a frame of n at a time, reading a frame from the
// wrapped source after each (as the media session does), and returns what the source gave.
func playThrough(t *testing.T, s audio.Source, k audio.Sink, far []float64, n int) []float64 {
	t.Helper()
	frame := make([]int16, n)
	var out []float64
	for f := 0; (f+1)*n <= len(far); f++ {
		for i := range frame {
			frame[i] = clip(far[f*n+i])
		}
		if err := k.Write(frame); err != nil {
			t.Fatal(err)
		}
		if err := s.Read(frame); err != nil {
			t.Fatal(err)
		}
		for _, v := range frame {
			out = append(out, float64(v))
		}
	}
	return out
}
