package media

import "math"

// Packet-loss concealment for 8 kHz PCM in the style of ITU-T G.711 Appendix I: a lost
// frame is filled by repeating the last pitch period of the good signal, with overlap-adds
// at every seam, more periods as the loss goes on, and a fade to the background.
//
// The Appendix fades to silence after 60 ms. A long loss then sounds like the line went dead,
// so the fade goes to comfort noise instead (the idea of RFC 3389, generated locally): white
// noise at the level of the stream's background, tracked as the quietest recent frames, and
// never louder than -50 dBov. A stream that was digitally silent stays silent.
//
// One deliberate difference from the Appendix: its reference code delays all output by
// 3.75 ms so that it can rewrite the last samples it received when a loss starts. Here
// good frames go out untouched (the jitter buffer already pays for latency), and the seam
// at the start of a loss is smoothed on the synthetic side instead: over the first 1/4
// period the repetition carries an offset, fading linearly to zero, that makes it start
// exactly where the good signal stopped. For a truly periodic signal the offset is zero
// and the repetition is the exact continuation.
// The Appendix's lengths are for 8 kHz; a PLC at another rate scales every one of them by
// rate/8000 (plcScale), so it repeats the same 5–15 ms pitch periods and fades over the same
// 60 ms at 16 and 48 kHz.
const (
	plcPitchMin     = 40                            // 200 Hz at 8 kHz
	plcPitchMax     = 120                           // 66.7 Hz
	plcOverlapMax   = plcPitchMax / 4               // longest 1/4-period overlap-add
	plcHistoryLen   = plcPitchMax*3 + plcOverlapMax // 390 samples, 48.75 ms: room for 3 periods
	plcCorrLen      = 160                           // 20 ms window matched by the pitch search
	plcCorrMinPower = 250.0                         // keeps silence from looking periodic
	plcDecimation   = 2                             // coarse search step
	plcBlock        = 80                            // 10 ms: the Appendix's unit of loss
	plcEndOverlap   = 32                            // 4 ms more overlap per extra 10 ms lost
	plcMaxPeriods   = 3                             // (plcHistoryLen - plcOverlapMax) / plcPitchMax

	// cnMaxRMS caps comfort noise at -50 dBov (RMS against a full-scale 16-bit sine).
	cnMaxRMS = 32767 / math.Sqrt2 * 0.0031623
	// cnRise is how fast the background estimate climbs per good frame when frames are louder
	// than it (about 0.17 dB, 8.6 dB a second for 20 ms frames), plus cnRiseAbs so it can
	// leave zero; it falls at once to a quieter frame (a minimum tracker: speech pauses set it).
	cnRise    = 1.02
	cnRiseAbs = 0.5
)

// PLC conceals lost frames of one audio stream. Feed it every good frame (Good) and ask it
// for the missing ones (Conceal). It allocates nothing; it is not safe for concurrent use.
type PLC struct {
	history  []float64 // last output, a ring of historyLen samples from head (the oldest)
	head     int       // where the next sample is written: a good frame costs no shift of the rest
	pitchBuf []float64 // history frozen when the loss began, seams smoothed
	lastQ    []float64 // the original last 1/4 period of pitchBuf (overlapMax)
	fade     []float64 // signal being faded out at the current seam

	// The Appendix's lengths at this PLC's rate (plcScale times the 8 kHz constants).
	pitchMin, pitchMax, overlapMax, historyLen int
	corrLen, decimation, block, endOverlap     int
	attenStep                                  float64 // gain lost per sample after the first block
	silentAfter                                int     // samples after which only comfort noise is left

	pitch     int // estimated pitch period in samples
	overlap   int // pitch/4: overlap-add length at seams
	periods   int // pitch periods being repeated (1..3)
	offset    int // read position within the repeated periods
	fadeLen   int
	fadePos   int
	lost      int // samples concealed in the current loss
	concealed uint64

	background float64 // RMS of the quietest recent good frames: the comfort noise level
	noise      uint32  // xorshift state for the comfort noise
}

// NewPLC returns a concealer for 8 kHz audio with a silent history.
func NewPLC() *PLC { return NewPLCAt(8000) }

// NewPLCAt returns a concealer for audio at rate Hz (a multiple of 8000 up to 48000; other
// rates round down to one, at least 8000) with a silent history.
func NewPLCAt(rate int) *PLC {
	k := min(max(rate/8000, 1), 6)
	p := &PLC{
		pitchMin: plcPitchMin * k, pitchMax: plcPitchMax * k, overlapMax: plcOverlapMax * k,
		historyLen: plcHistoryLen * k, corrLen: plcCorrLen * k, decimation: plcDecimation * k,
		block: plcBlock * k, endOverlap: plcEndOverlap * k,
	}
	p.attenStep = 0.2 / float64(p.block)
	p.silentAfter = 6 * p.block
	p.history = make([]float64, p.historyLen)
	p.pitchBuf = make([]float64, p.historyLen)
	p.lastQ = make([]float64, p.overlapMax)
	p.fade = make([]float64, p.overlapMax)
	return p
}

// Reset forgets the history, e.g. when the stream restarts.
func (p *PLC) Reset() {
	clear(p.history)
	p.head = 0
	clear(p.pitchBuf)
	clear(p.lastQ)
	clear(p.fade)
	p.pitch, p.overlap, p.periods, p.offset = 0, 0, 0, 0
	p.fadeLen, p.fadePos, p.lost, p.background = 0, 0, 0, 0
}

// Concealed is the number of frames Conceal has filled.
func (p *PLC) Concealed() uint64 { return p.concealed }

// Good records a received frame. If it ends a loss, the start of frame is cross-faded
// from the concealment so there is no click (the frame is modified in place).
func (p *PLC) Good(frame []int16) {
	if p.lost > 0 {
		p.mergeAfterLoss(frame)
	}
	p.trackBackground(frame)
	p.save(frame)
}

// trackBackground follows the level of the quietest recent frames.
func (p *PLC) trackBackground(frame []int16) {
	if len(frame) == 0 {
		return
	}
	e := 0.0
	for _, v := range frame {
		e += float64(v) * float64(v)
	}
	rms := math.Sqrt(e / float64(len(frame)))
	if rms < p.background {
		p.background = rms
	} else {
		p.background = min(p.background*cnRise+cnRiseAbs, rms)
	}
}

// comfort is the next comfort-noise sample: uniform white noise at the background's RMS.
func (p *PLC) comfort() float64 {
	level := min(p.background, cnMaxRMS)
	if level < 1 {
		return 0 // a silent stream stays silent
	}
	if p.noise == 0 {
		p.noise = 0x9e3779b9
	}
	x := p.noise
	x ^= x << 13
	x ^= x >> 17
	x ^= x << 5
	p.noise = x
	// Uniform in [-1, 1) has RMS 1/sqrt(3).
	return (float64(x)/(1<<31) - 1) * math.Sqrt(3) * level
}

// Conceal fills out with a continuation of the signal for a missing frame.
func (p *PLC) Conceal(out []int16) {
	for i := range out {
		if p.lost >= p.silentAfter {
			for j := i; j < len(out); j++ {
				out[j] = toInt16(p.comfort())
			}
			p.lost += len(out) - i
			break
		}
		if p.lost%p.block == 0 {
			p.atBlockStart(p.lost / p.block)
		}
		g := p.gain(p.lost)
		out[i] = toInt16(p.next()*g + p.comfort()*(1-g))
		p.lost++
	}
	p.save(out)
	p.concealed++
}

// atBlockStart runs the Appendix's per-10 ms steps: set up on the first block, widen the
// repeated segment to 2 and then 3 periods on the next two, so long losses do not buzz.
func (p *PLC) atBlockStart(block int) {
	switch {
	case block == 0:
		p.startLoss()
	case block < plcMaxPeriods:
		p.addPeriod()
	}
}

// startLoss freezes the history, estimates the pitch and prepares one period to repeat.
func (p *PLC) startLoss() {
	n := copy(p.pitchBuf, p.history[p.head:]) // oldest first
	copy(p.pitchBuf[n:], p.history[:p.head])
	newest := p.pitchBuf[p.historyLen-1] // before smoothLoopSeam changes pitchBuf
	p.pitch = p.findPitch()
	p.overlap = p.pitch / 4
	copy(p.lastQ[:p.overlap], p.pitchBuf[p.historyLen-p.overlap:])
	p.periods, p.offset = 1, 0
	p.smoothLoopSeam()
	// The repetition starts with the sample that followed pitchBuf[start-1] one period
	// ago; offset it by how far the last good sample is from that one, fading the offset
	// out so the waveform joins without a step.
	start := p.historyLen - p.pitch
	offset := newest - p.pitchBuf[start-1]
	for i := 0; i < p.overlap; i++ {
		p.fade[i] = p.pitchBuf[start+i] + offset
	}
	p.fadeLen, p.fadePos = p.overlap, 0
}

// addPeriod repeats one more period, cross-fading from where the old loop would have gone.
func (p *PLC) addPeriod() {
	saved := p.offset
	for i := 0; i < p.overlap; i++ {
		p.fade[i] = p.nextRaw()
	}
	// Continue at the same phase, now within the first of the longer run of periods.
	p.offset = saved
	for p.offset > p.pitch {
		p.offset -= p.pitch
	}
	p.periods++
	p.smoothLoopSeam()
	p.fadeLen, p.fadePos = p.overlap, 0
}

// smoothLoopSeam makes the end of the repeated segment flow into its start: its last
// 1/4 period is cross-faded from the original samples into the ones that preceded the
// segment's start, which is how the signal really led into that start.
func (p *PLC) smoothLoopSeam() {
	n := p.periods * p.pitch
	end := p.historyLen - p.overlap
	before := p.historyLen - n - p.overlap
	overlapAdd(p.pitchBuf[end:], p.lastQ[:p.overlap], p.pitchBuf[before:before+p.overlap])
}

// nextRaw reads the next sample of the repeated periods.
func (p *PLC) nextRaw() float64 {
	n := p.periods * p.pitch
	s := p.pitchBuf[p.historyLen-n+p.offset]
	p.offset++
	if p.offset == n {
		p.offset = 0
	}
	return s
}

// next is nextRaw with any pending seam cross-fade applied.
func (p *PLC) next() float64 {
	s := p.nextRaw()
	if p.fadePos < p.fadeLen {
		w := float64(p.fadePos+1) / float64(p.fadeLen)
		s = (1-w)*p.fade[p.fadePos] + w*s
		p.fadePos++
	}
	return s
}

// gain is the attenuation of the repeated signal after n lost samples: none for 10 ms, then
// 20 % per 10 ms, gone at 60 ms; comfort noise fills in what it loses.
func (p *PLC) gain(n int) float64 {
	if n <= p.block {
		return 1
	}
	return max(0, 1-float64(n-p.block)*p.attenStep)
}

// mergeAfterLoss cross-fades the concealment's continuation into the first good frame,
// over 1/4 period plus 4 ms per extra 10 ms lost (at most 10 ms): the longer the loss, the
// further the real signal may have drifted from the synthetic one.
func (p *PLC) mergeAfterLoss(frame []int16) {
	blocks := (p.lost + p.block - 1) / p.block
	n := min(p.overlap+(blocks-1)*p.endOverlap, p.block, len(frame))
	g := p.gain(p.lost)
	for i := 0; i < n; i++ {
		w := float64(i+1) / float64(n)
		synth := p.comfort() * (1 - g)
		if g > 0 {
			synth += p.next() * g
		}
		frame[i] = toInt16((1-w)*synth + w*float64(frame[i]))
	}
	p.lost = 0
	p.fadeLen, p.fadePos = 0, 0
}

// save appends s to the history, over its oldest samples.
func (p *PLC) save(s []int16) {
	if len(s) >= p.historyLen {
		s = s[len(s)-p.historyLen:]
	}
	first := min(len(s), p.historyLen-p.head) // up to the ring's end, then from its start
	dst := p.history[p.head : p.head+first]
	for i, v := range s[:first] {
		dst[i] = float64(v)
	}
	rest := s[first:]
	dst = p.history[:len(rest)]
	for i, v := range rest {
		dst[i] = float64(v)
	}
	if p.head += len(s); p.head >= p.historyLen {
		p.head -= p.historyLen
	}
}

// findPitch returns the lag, in pitchMin..pitchMax, whose preceding segment best matches the
// last 20 ms by normalised cross-correlation: a coarse search on every decimation-th sample
// and lag (4 kHz whatever the rate), then a fine search around the best coarse lag (Appendix I).
func (p *PLC) findPitch() int {
	diff := p.pitchMax - p.pitchMin
	l := p.pitchBuf[p.historyLen-p.corrLen:]
	r := p.pitchBuf[p.historyLen-p.corrLen-p.pitchMax:]
	best := searchLag(l, r, p.corrLen, 0, diff, p.decimation)
	lo := max(best-(p.decimation-1), 0)
	hi := min(best+(p.decimation-1), diff)
	best = searchLag(l, r, p.corrLen, lo, hi, 1)
	return p.pitchMax - best
}

// searchLag scans offsets j = lo, lo+step .. hi of r against the n samples of l, sampling every
// step-th sample, and returns the offset with the highest correlation normalised by r's
// energy. Later offsets (shorter periods) win ties, as in the Appendix's coarse search.
func searchLag(l, r []float64, n, lo, hi, step int) int {
	energy := 0.0
	for i := 0; i < n; i += step {
		energy += r[lo+i] * r[lo+i]
	}
	// The minimum power is the Appendix's for a 20 ms window at 4 kHz; scale it to the
	// number of samples summed here.
	minPower := plcCorrMinPower * float64((n+step-1)/step) / (plcCorrLen / plcDecimation)
	best, bestCorr := lo, math.Inf(-1)
	for j := lo; j <= hi; j += step {
		if j > lo {
			// Slide the (decimated) energy window: one sample leaves, one enters.
			out, in := r[j-step], r[j-step+n]
			energy += in*in - out*out
		}
		corr := 0.0
		for i := 0; i < n; i += step {
			corr += r[j+i] * l[i]
		}
		corr /= math.Sqrt(max(energy, minPower))
		if corr >= bestCorr {
			best, bestCorr = j, corr
		}
	}
	return best
}

// overlapAdd writes into dst a linear cross-fade from a (fading out) to b (fading in).
func overlapAdd(dst, a, b []float64) {
	n := len(a)
	for i := 0; i < n; i++ {
		w := float64(i+1) / float64(n)
		dst[i] = (1-w)*a[i] + w*b[i]
	}
}

func toInt16(v float64) int16 {
	v = math.Round(v)
	if v > math.MaxInt16 {
		return math.MaxInt16
	}
	if v < math.MinInt16 {
		return math.MinInt16
	}
	return int16(v)
}
