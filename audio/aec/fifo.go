package aec

import "math"

// refFIFO holds far-end samples (what the sink played) until the source reads the captured
// frame whose echo they cause. The speaker and the microphone run on two streams whose clocks
// differ slightly (tens to hundreds of ppm between two sound cards) and whose calls jitter.
// The adaptive filter models a fixed echo path; a reference that slides against the capture,
// even by one sample every few seconds, is an echo path that keeps changing, and dropping or
// repeating whole samples to follow it cost 10-15 dB of cancellation in simulation. So the
// queue resamples the reference to the capture clock instead:
//
//   - the reference is read at a fractional position that advances by ratio per captured
//     sample, through a 16-tap windowed-sinc interpolator (exact when ratio is 1 and the
//     position whole, so without drift the reference is the played audio untouched);
//   - every controlWindow reads, a PI loop on the queue's average depth after a read sets
//     ratio: a depth that grows means the speaker's clock is faster. Jitter moves single
//     depths, not a one-second average, and it never moves the alignment itself (a sample's
//     place is fixed by how many were written and read, not by when);
//   - a read that finds too few samples (a late write) holds the last sample for the missing
//     ones; a depth beyond resyncFrames (a stall), or more written than the queue holds (the
//     source stopped reading), discards the excess at once and counts a resync: the filter
//     re-converges, which is better than cancelling the wrong audio.
//
// A silent far end (nothing written) reads as zeros, which the canceller passes.
//
// What the loop can see: whole frames written and read. A drift of 0.1 % adds a frame every
// 20 s, so the loop needs minutes to settle on the ratio (TestFIFOFollowsDrift), and drift
// below ~100 ppm it never resolves. In dialtone today the sink's Writes and the source's Reads
// are both paced by the media session's ticks, on the system clock: the two sound-card clocks
// are absorbed inside audio/portaudio's rings, whose slips (a ring that runs dry or drops
// audio) the devices count and the canceller follows (slip.go), and this loop mostly holds
// ratio at 1.
// Feeding it the devices' own sample counts (from the PortAudio callbacks) would let it lock
// in seconds; TestERLEDriftResampled shows what it gains once locked.
type refFIFO struct {
	buf   []int16
	r     int     // index of the oldest sample kept (taps/2 before the read position)
	n     int     // samples held from r
	frac  float64 // read position's fraction of a sample
	frame int     // samples per frame
	rate  int

	ratio    float64 // reference samples consumed per captured sample
	integral float64 // the PI loop's estimate of the clock ratio's drift
	depthSum float64 // sum of depths after a read in this window
	reads    int
	target   float64 // the average depth the loop holds: the first window's (-1: not yet)
	last     float64
	locked   float64 // tests: a fixed ratio instead of the loop's
	owed     int     // reference a slip skipped before it was written (slip.go)
	lead     int     // samples the reference starts behind what was written (slip.go)

	stats fifoStats
}

type fifoStats struct {
	Duplicated uint64  // samples held because the reference ran short
	Resyncs    uint64  // big discontinuities: excess discarded at once
	Silent     uint64  // reads that found no reference at all (far end silent or not started)
	Slips      uint64  // device slips the reference followed (slip.go)
	DriftPPM   float64 // the estimated playback-versus-capture clock difference
}

const (
	taps          = 16
	phases        = 256
	controlWindow = 25    // reads (0.5 s) between ratio updates
	resyncFrames  = 10    // an average depth this far (200 ms) beyond the target is a discontinuity
	fifoFrames    = 50    // capacity (1 s): slips the devices count can deepen the queue
	maxDrift      = 0.005 // 5000 ppm: beyond that it is not a clock
	pTime         = 10.0  // seconds the P term takes to absorb a depth error
	iTime         = 40.0  // the I term's integral time (critically damped: 4×pTime)
)

// kernel[p][k] interpolates at fraction p/phases: a Hann-windowed sinc cut at 0.97 of the
// Nyquist frequency, normalised to unit gain.
var kernel = func() (t [phases + 1][taps]float64) {
	for p := range t {
		x0 := float64(p) / phases
		sum := 0.0
		for k := range taps {
			x := float64(k-taps/2+1) - x0 // distance from the read position
			w := 0.5 + 0.5*math.Cos(math.Pi*x/(taps/2))
			v := 0.97
			if x != 0 {
				v = math.Sin(0.97*math.Pi*x) / (math.Pi * x)
			}
			if p == 0 && x == 0 {
				v = 1
			} else if p == 0 {
				v = 0 // whole positions copy the sample exactly
			}
			t[p][k] = v * w
			sum += t[p][k]
		}
		for k := range taps {
			t[p][k] /= sum
		}
	}
	return t
}()

func newRefFIFO(frame, rate int) *refFIFO {
	f := &refFIFO{buf: make([]int16, frame*fifoFrames), frame: frame, rate: rate}
	f.reset()
	return f
}

// reset empties the queue (a new rate, a resumed stream).
func (f *refFIFO) reset() {
	f.r, f.n, f.frac, f.ratio, f.integral, f.depthSum, f.reads, f.last, f.target = 0, 0, 0, 1, 0, 0, 0, 0, -1
	f.owed = 0
}

// push appends one played frame. The first frame after silence is preceded by the
// interpolator's history (zeros). A queue that cannot take it means the source has not read
// for longer than the capacity: the oldest audio is discarded, a resync.
func (f *refFIFO) push(s []int16) {
	if f.owed > 0 {
		o := min(f.owed, len(s))
		f.owed -= o
		s = s[o:]
	}
	if len(s) == 0 {
		return
	}
	if f.n == 0 {
		// The interpolator needs taps/2-1 samples before the read position and taps/2
		// after: start the reference that much (1 ms at 8 kHz) behind what was written.
		f.frac = 0
		f.putZeros(taps - 1 + f.lead)
	}
	f.put(s)
}

func (f *refFIFO) putZeros(n int) {
	for n > 0 {
		k := min(n, len(make0))
		f.put(make0[:k])
		n -= k
	}
}

var make0 [taps]int16

func (f *refFIFO) put(s []int16) {
	if len(s) > len(f.buf) {
		s = s[len(s)-len(f.buf):]
	}
	if over := f.n + len(s) - len(f.buf); over > 0 {
		f.discard(over)
		f.stats.Resyncs++
	}
	w := (f.r + f.n) % len(f.buf)
	c := copy(f.buf[w:], s)
	copy(f.buf, s[c:])
	f.n += len(s)
}

// trimNewest forgets up to k of the newest samples (never the interpolator's history).
func (f *refFIFO) trimNewest(k int) {
	f.n -= max(0, min(k, f.n-taps))
}

func (f *refFIFO) at(i int) float64 { return float64(f.buf[(f.r+i)%len(f.buf)]) }

// pop fills dst (one frame) with the reference for the frame just captured.
func (f *refFIFO) pop(dst []int16) {
	if f.n == 0 {
		clear(dst)
		f.stats.Silent++
		f.last = 0
		return
	}
	i := 0
	if f.ratio == 1 && f.frac == 0 {
		// No drift to follow: the interpolator would copy the centre sample; copy them all.
		i = min(len(dst), f.n-taps+1)
		for j := range max(i, 0) {
			dst[j] = f.buf[(f.r+taps/2-1+j)%len(f.buf)]
		}
		i = max(i, 0)
		if i > 0 {
			f.last = float64(dst[i-1])
			f.discard(i)
		}
	}
	for ; i < len(dst); i++ {
		if f.n < taps {
			break // a late write: hold below
		}
		ph := &kernel[int(f.frac*phases+0.5)]
		s := 0.0
		for k := range taps {
			s += ph[k] * f.at(k)
		}
		dst[i] = int16(max(-32768, min(32767, math.Round(s))))
		f.last = s
		f.frac += f.ratio
		whole := int(f.frac)
		f.frac -= float64(whole)
		f.discard(min(whole, f.n))
	}
	held := len(dst) - i
	for ; i < len(dst); i++ {
		dst[i] = int16(max(-32768, min(32767, math.Round(f.last))))
	}
	f.stats.Duplicated += uint64(held)
	f.control(held)
}

func (f *refFIFO) discard(k int) {
	f.r = (f.r + k) % len(f.buf)
	f.n -= k
}

// control is the PI loop: it holds the average depth after a read where it first settled.
// Samples a read had to hold count as negative depth, so a capture clock that runs faster
// shows as a falling depth too.
func (f *refFIFO) control(held int) {
	if f.locked != 0 {
		f.ratio = f.locked
		return
	}
	f.depthSum += float64(f.n - taps - held) // samples held were missing: negative depth
	f.reads++
	if f.reads < controlWindow {
		return
	}
	avg := f.depthSum / float64(f.reads)
	f.depthSum, f.reads = 0, 0
	if avg > max(f.target, 0)+resyncFrames*float64(f.frame) {
		// The average can be more than the queue holds now (filled while nobody read, then
		// read while nobody wrote): never discard the interpolator's history, nor below it.
		f.discard(max(0, min(int(avg)-f.frame, f.n-taps)))
		f.stats.Resyncs++
		f.target = -1
		return
	}
	if f.target < 0 {
		// Whatever depth the two streams settle at is the alignment the filter learns:
		// moving it to some ideal (a margin for jitter, say) would resample the reference
		// for tens of seconds while the filter is trying to converge.
		f.target = avg
		return
	}
	errSec := (avg - f.target) / float64(f.rate) // seconds of reference too many
	f.integral += errSec * (controlWindow / 50.0) / (pTime * iTime)
	f.integral = max(-maxDrift, min(maxDrift, f.integral))
	f.ratio = 1 + max(-maxDrift, min(maxDrift, f.integral+errSec/pTime))
	f.stats.DriftPPM = f.integral * 1e6
}
