package media

import (
	"github.com/dialtone/dialtone/codec"
)

// fakeWide is a stand-in wideband codec for the media path's tests, independent of the real
// G.722 and Opus: each sample µ-law coded at the codec's own rate, so a 6 kHz tone survives
// at 16 kHz and the payload of a 48 kHz frame (960 bytes) still fits a packet. Its rates
// mimic the real ones: G.722's 16 kHz audio with an 8000 RTP clock, Opus's 48000 both.
type fakeWide struct {
	name        string
	pt          uint8
	rate, clock int
	// conceal and fec make its decoders a codec.Concealer and a codec.FECDecoder.
	conceal, fec bool
}

var (
	fakeG722 = fakeWide{name: "G722", pt: 9, rate: 16000, clock: 8000}
	fakeOpus = fakeWide{name: "opus", pt: 111, rate: 48000, clock: 48000}
)

func (f fakeWide) Name() string              { return f.name }
func (f fakeWide) PayloadType() uint8        { return f.pt }
func (f fakeWide) ClockRate() int            { return f.clock }
func (f fakeWide) SampleRate() int           { return f.rate }
func (f fakeWide) Channels() int             { return 1 }
func (f fakeWide) MaxPayload() int           { return codec.FrameSamplesAt(f.rate) }
func (f fakeWide) NewEncoder() codec.Encoder { return fakeEncoder{} }
func (f fakeWide) NewDecoder() codec.Decoder {
	switch {
	case f.conceal && f.fec:
		return &fakeFECDecoder{}
	case f.conceal:
		return &fakeConcealer{}
	}
	return fakeDecoder{}
}

type fakeEncoder struct{}

func (fakeEncoder) Encode(dst []byte, pcm []int16) (int, error) {
	return codec.PCMU.EncodeTo(dst[:len(pcm)], pcm), nil
}

type fakeDecoder struct{}

func (fakeDecoder) Decode(dst []int16, payload []byte) (int, error) {
	return codec.PCMU.DecodeTo(dst, payload), nil
}

// fakeConcealMark is what the fake codec's own concealment writes, so a test can tell it
// from the generic PLC's.
const fakeConcealMark, fakeFECMark = 1111, 2222

type fakeConcealer struct {
	fakeDecoder
	concealed int
}

func (c *fakeConcealer) Conceal(dst []int16) (int, error) {
	c.concealed++
	for i := range dst {
		dst[i] = fakeConcealMark
	}
	return len(dst), nil
}

type fakeFECDecoder struct {
	fakeConcealer
	rebuilt int
}

func (f *fakeFECDecoder) DecodeFEC(dst []int16, payload []byte) (int, error) {
	f.rebuilt++
	for i := range dst {
		dst[i] = fakeFECMark
	}
	return len(dst), nil
}

// PacketTicks makes the fake codecs codec.PacketTimers, as the real ones are: one octet per
// sample at the audio rate.
func (f fakeWide) PacketTicks(payload []byte) int { return len(payload) * f.clock / f.rate }
