package media

import (
	"fmt"

	"github.com/dialtone/dialtone/audio"
	"github.com/dialtone/dialtone/audio/wav"
	"github.com/dialtone/dialtone/codec"
)

// The call's audio rate. Frames move at the codec's SampleRate (8, 16 or 48 kHz), RTP
// timestamps at its ClockRate (8000 for G.722, whose audio is 16 kHz). Every per-session
// buffer is sized for the largest codec (codec.MaxFrameSamples) once, and sliced to the
// current codec's frame, so a re-INVITE that changes the codec allocates nothing per frame.

// audioRate is the rate of the PCM c's encoder takes and decoder gives (8000 with no codec).
func audioRate(c codec.Codec) int {
	if c == nil {
		return codec.SampleRate
	}
	return c.SampleRate()
}

// clockRate is c's RTP clock rate (8000 with no codec).
func clockRate(c codec.Codec) int {
	if c == nil {
		return codec.SampleRate
	}
	return c.ClockRate()
}

// tsStep is how far the RTP timestamp moves per 20 ms frame of c.
func tsStep(c codec.Codec) uint32 {
	if c == nil {
		return codec.FrameSamples
	}
	return codec.TimestampStep(c)
}

// sendPT is the payload type our audio packets carry: Params.PT, or the codec's own.
func (p Params) sendPT() uint8 {
	if p.PT > 0 && p.PT < 128 {
		return uint8(p.PT)
	}
	return p.Codec.PayloadType()
}

// isAudioPT reports whether pt is the far end's audio in the negotiated codec: the payload
// type its answer or offer named (RecvPT), or ours, which a lenient peer may echo.
func (p Params) isAudioPT(pt uint8) bool {
	if p.Codec == nil {
		return false
	}
	if p.RecvPT > 0 && p.RecvPT < 128 && int(pt) == p.RecvPT {
		return true
	}
	return pt == p.sendPT()
}

// audioCodec is the codec of the far end's audio with payload type pt, nil when pt is not
// audio it may send: the call's Codec (isAudioPT), also for the other G.711 law (RecvAlt: alt,
// and toCodecLaw turns it into the call's), or one of RecvOther, which the playout follows.
func (p Params) audioCodec(pt uint8) (c codec.Codec, alt bool) {
	switch {
	case p.isAudioPT(pt):
		return p.Codec, false
	case p.RecvAlt != nil && p.Codec != nil && pt == p.RecvAltPT:
		return p.Codec, true
	}
	for _, o := range p.RecvOther {
		if o.PT == pt {
			return o.Codec, false
		}
	}
	return nil, false
}

// receives reports whether the far end may send c: the call's codec or one of RecvOther.
func (p Params) receives(c codec.Codec) bool {
	if c == p.Codec {
		return true
	}
	for _, o := range p.RecvOther {
		if o.Codec == c {
			return true
		}
	}
	return false
}

// toCodecLaw rewrites payload, in the other G.711 law (RecvAlt), in the call's, in place.
func (p Params) toCodecLaw(payload []byte) {
	switch p.Codec.Name() {
	case "PCMU":
		codec.ALawToULaw(payload)
	case "PCMA":
		codec.ULawToALaw(payload)
	}
}

// rateAdapter fits frames at the call's rate to a Source or Sink. One that is an
// audio.RateSetter is told the rate and moves frames at it; any other moves 8 kHz frames,
// which the adapter converts with a band-limited resampler (audio/wav's; made when the rate
// changes, allocation-free per frame).
type rateAdapter struct {
	gen    uint64 // the Params generation configured for (Update bumps it)
	rate   int    // the call's audio rate configured; 0 before the first frame
	native bool   // the Source or Sink took SetRate(rate): no conversion
	rs     *wav.Resampler
	rsRate int // the rate rs converts to or from
	narrow [codec.FrameSamples]int16
}

// configure makes the adapter fit dev (a Source or Sink, or nil) at rate; up says which way
// (8 kHz to rate for a source). It runs before the first frame and whenever Update changed
// the parameters or the codec's rate changed, never per frame otherwise.
func (a *rateAdapter) configure(dev any, rate int, gen uint64, up bool) error {
	prev, wasNative := a.rate, a.native
	a.gen, a.rate, a.native = gen, rate, false
	if rs, ok := dev.(audio.RateSetter); ok {
		if err := rs.SetRate(rate); err == nil {
			a.native = true
			return nil
		} else if rate != codec.SampleRate {
			defer func() { _ = rs.SetRate(codec.SampleRate) }() // it moves 8 kHz frames then
		}
	}
	if rate == codec.SampleRate {
		return nil
	}
	if a.rs != nil && a.rsRate == rate {
		if prev != rate || wasNative {
			// Back to a rate converted before (16 kHz, 8, then 16 again): its history is of
			// audio from before the changes, which the first frame would mix in.
			a.rs.Reset()
		}
		return nil // else the same conversion carries on (a hold or a new address changes no rate)
	}
	in, out := codec.SampleRate, rate
	if !up {
		in, out = rate, codec.SampleRate
	}
	r, err := wav.NewResampler(in, out)
	if err != nil {
		a.rs = nil
		return fmt.Errorf("media: converting %d Hz to %d Hz: %w", in, out, err)
	}
	a.rs, a.rsRate = r, rate
	return nil
}

// stale reports whether the adapter needs configure for this frame.
func (a *rateAdapter) stale(rate int, gen uint64) bool { return a.rate != rate || a.gen != gen }

// read fills pcm (one frame at the configured rate) from src.
func (a *rateAdapter) read(src audio.Source, pcm []int16) error {
	if a.native || a.rate == codec.SampleRate {
		return src.Read(pcm)
	}
	if err := src.Read(a.narrow[:]); err != nil {
		return err
	}
	a.convert(a.narrow[:], pcm)
	return nil
}

// write gives frame (one frame at the configured rate) to snk.
func (a *rateAdapter) write(snk audio.Sink, frame []int16) error {
	if a.native || a.rate == codec.SampleRate {
		return snk.Write(frame)
	}
	a.convert(frame, a.narrow[:])
	return snk.Write(a.narrow[:])
}

// convert resamples one frame into another; without a resampler (it failed to build) the
// frame is silence rather than audio at the wrong speed.
func (a *rateAdapter) convert(in, out []int16) {
	n := 0
	if a.rs != nil {
		_, n = a.rs.ProcessInt16(in, out)
	}
	clear(out[n:])
}

// sinkRate is the rate of the frames the sink receives: what TrimQueued's samples count in.
func (a *rateAdapter) sinkRate() int {
	if a.native && a.rate > 0 {
		return a.rate
	}
	return codec.SampleRate
}
