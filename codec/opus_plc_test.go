//go:build cgo && !noopus

package codec

import (
	"math"
	"testing"
)

// voiceLike is n frames of a voiced-speech stand-in: a harmonic series on a gliding pitch
// (140 ± 40 Hz) with a 1/h spectral tilt, amplitude-modulated at a 4 Hz syllable rate.
func voiceLike(n int) []int16 {
	pcm := make([]int16, n*opusFrame)
	var ph [60]float64
	for i := range pcm {
		t := float64(i) / 48000
		f0 := 140 + 40*math.Sin(2*math.Pi*0.7*t)
		env := 0.5 + 0.5*math.Sin(2*math.Pi*4*t)
		var s float64
		for h := 1; h < len(ph) && f0*float64(h) < 10000; h++ {
			ph[h] += 2 * math.Pi * f0 * float64(h) / 48000
			s += math.Sin(ph[h]) / float64(h)
		}
		pcm[i] = int16(6000 * env * s)
	}
	return pcm
}

// TestOpusConceal: a lost frame in a 1 kHz tone is filled with the tone at about its level,
// joining the previous frame without a jump, and decoding carries on after it.
func TestOpusConceal(t *testing.T) {
	const amp = 8000
	_, packets := opusRoundTrip(t, toneFrames(30, 1000, amp))
	dec := Opus.NewDecoder()
	out := make([]int16, 30*opusFrame)
	const lost = 20
	for i, p := range packets {
		var n int
		var err error
		if i == lost {
			n, err = dec.(Concealer).Conceal(out[i*opusFrame : (i+1)*opusFrame]) // the lost packet's 20 ms
		} else {
			n, err = dec.Decode(out[i*opusFrame:], p)
		}
		if err != nil || n != opusFrame {
			t.Fatalf("frame %d: %d samples, %v", i, n, err)
		}
	}
	hole := out[lost*opusFrame : (lost+1)*opusFrame]
	before := out[(lost-1)*opusFrame : lost*opusFrame]
	level, ref := dB(goertzelPower(hole, 1000)), dB(goertzelPower(before, 1000))
	// The steepest step a 1 kHz sine of this amplitude takes between two samples at 48 kHz.
	slope := 2 * math.Pi * 1000 / 48000 * amp
	jump := math.Abs(float64(hole[0]) - float64(before[len(before)-1]))
	tone, rest := sineFit(hole, 1000)
	t.Logf("concealed frame: 1 kHz at %.1f dBFS (frame before %.1f), %.1f dB above the rest; jump %.0f (max step %.0f)",
		level, ref, dB(tone/rest), jump, slope)
	if level < ref-6 {
		t.Errorf("concealed frame carries the tone at %.1f dBFS, %.1f dB under the frame before", level, ref-level)
	}
	if dB(tone/rest) < 3 { // PLC fades and drifts in phase, so not a clean sine
		t.Errorf("concealed frame is %.1f dB tone over the rest, want a tone", dB(tone/rest))
	}
	if jump > 2*slope {
		t.Errorf("discontinuity of %.0f at the concealed frame's start (a sine steps at most %.0f)", jump, slope)
	}
	after := out[(lost+2)*opusFrame : (lost+3)*opusFrame]
	if got := dB(goertzelPower(after, 1000)); math.Abs(got-ref) > 2 {
		t.Errorf("after the loss the tone is at %.1f dBFS, %.1f before", got, ref)
	}
}

// lostFrameSNR decodes packets up to lost, then rebuilds frame lost with FEC from the next
// packet (or PLC), and returns the rebuilt frame's SNR against ref, the loss-free decode.
func lostFrameSNR(t *testing.T, packets [][]byte, ref []int16, lost int, fec bool) (sig, noise float64) {
	t.Helper()
	dec := Opus.NewDecoder()
	buf := make([]int16, opusFrame)
	for _, p := range packets[:lost] {
		if _, err := dec.Decode(buf, p); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if fec {
		_, err = dec.(FECDecoder).DecodeFEC(buf, packets[lost+1])
	} else {
		_, err = dec.(Concealer).Conceal(buf)
	}
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range buf {
		x := float64(ref[lost*opusFrame+i])
		d := float64(v) - x
		sig += x * x
		noise += d * d
	}
	// The packet after the loss still decodes.
	if n, err := dec.Decode(buf, packets[lost+1]); err != nil || n != opusFrame {
		t.Fatalf("decode after loss: %d, %v", n, err)
	}
	return sig, noise
}

// TestOpusFECBeatsPLC loses frames of changing, voice-like audio and rebuilds each from the
// next packet's in-band FEC and, separately, with PLC alone: measured against the loss-free
// decode, FEC must be clearly closer. With the loss hint at 0 the encoder sends no FEC, and
// DecodeFEC must then equal PLC, which shows the measurement sees FEC and nothing else.
func TestOpusFECBeatsPLC(t *testing.T) {
	pcm := voiceLike(60)
	for _, loss := range []int{opusLossPerc, 0} {
		s := defaultOpusSettings
		s.lossPerc = loss
		enc, err := newOpusEncoderWith(s)
		if err != nil {
			t.Fatal(err)
		}
		var packets [][]byte
		for f := 0; f < len(pcm); f += opusFrame {
			p := make([]byte, Opus.MaxPayload())
			n, err := enc.Encode(p, pcm[f:f+opusFrame])
			if err != nil {
				t.Fatal(err)
			}
			packets = append(packets, p[:n])
		}
		ref := make([]int16, len(pcm))
		dec := Opus.NewDecoder()
		for i, p := range packets {
			if _, err := dec.Decode(ref[i*opusFrame:], p); err != nil {
				t.Fatal(err)
			}
		}
		var sig, plc, fec float64
		for lost := 10; lost < 58; lost += 4 {
			s, n := lostFrameSNR(t, packets, ref, lost, false)
			sig, plc = sig+s, plc+n
			_, n = lostFrameSNR(t, packets, ref, lost, true)
			fec += n
		}
		plcSNR, fecSNR := dB(sig/plc), dB(sig/fec)
		t.Logf("loss hint %d%%: lost frames rebuilt at SNR %.1f dB with PLC, %.1f dB with FEC", loss, plcSNR, fecSNR)
		switch {
		case loss > 0 && fecSNR < plcSNR+3:
			t.Errorf("FEC %.1f dB is not 3 dB better than PLC %.1f dB", fecSNR, plcSNR)
		case loss == 0 && fec != plc:
			t.Errorf("without FEC data DecodeFEC (%.1f dB) differs from PLC (%.1f dB)", fecSNR, plcSNR)
		}
	}
}

// TestOpusConcealsThePacketsDuration: a lost packet of another duration than 20 ms is concealed
// for its own duration (in whole 2.5 ms, at most 120 ms): a 10 ms packet's 480 samples, not a
// 20 ms frame the stream would then run ahead by.
func TestOpusConcealsThePacketsDuration(t *testing.T) {
	for _, c := range []struct{ dst, want int }{{480, 480}, {960, 960}, {1920, 1920}, {1000, 960}, {7000, 5760}} {
		dec := Opus.NewDecoder()
		if n, err := dec.(Concealer).Conceal(make([]int16, c.dst)); err != nil || n != c.want {
			t.Errorf("Conceal into %d samples: %d, %v; want %d", c.dst, n, err, c.want)
		}
	}
}
