//go:build cgo && !noopus

package codec

import (
	"fmt"
	"testing"
)

// benchVoice is one second of voiceLike audio: the encoder works harder on changing spectra
// than on a steady tone.
var benchVoice = voiceLike(50)

func benchOpusEncode(b *testing.B, s opusSettings) {
	enc, err := newOpusEncoderWith(s)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]byte, Opus.MaxPayload())
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f := i % 50 * opusFrame
		if _, err := enc.Encode(dst, benchVoice[f:f+opusFrame]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkOpusEncode is one 20 ms frame through our binding with dialtone's settings.
func BenchmarkOpusEncode(b *testing.B) { benchOpusEncode(b, defaultOpusSettings) }

// BenchmarkOpusEncodeComplexity shows what the complexity setting costs, for the choice in
// opus_cgo.go.
func BenchmarkOpusEncodeComplexity(b *testing.B) {
	for _, c := range []int{0, 3, 5, 7, 9, 10} {
		s := defaultOpusSettings
		s.complexity = c
		b.Run(fmt.Sprint(c), func(b *testing.B) { benchOpusEncode(b, s) })
	}
}
