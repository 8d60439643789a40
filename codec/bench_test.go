package codec

import (
	"math"
	"testing"
)

// benchFrame is one 20 ms frame of speech-like level: a 440 Hz tone at about -12 dBFS, so the
// samples spread over most segments instead of hitting one table entry.
var benchFrame = func() (f [FrameSamples]int16) {
	for i := range f {
		f[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/SampleRate))
	}
	return f
}()

func reportPerSample(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/FrameSamples, "ns/sample")
}

func benchEncode(b *testing.B, c G711) {
	dst := make([]byte, c.EncodedLen(FrameSamples))
	b.ReportAllocs()
	b.SetBytes(FrameSamples * 2)
	for b.Loop() {
		c.EncodeTo(dst, benchFrame[:])
	}
	reportPerSample(b)
}

func benchDecode(b *testing.B, c G711) {
	payload := make([]byte, c.EncodedLen(FrameSamples))
	c.EncodeTo(payload, benchFrame[:])
	dst := make([]int16, FrameSamples)
	b.ReportAllocs()
	b.SetBytes(FrameSamples)
	for b.Loop() {
		c.DecodeTo(dst, payload)
	}
	reportPerSample(b)
}

func BenchmarkEncodePCMU(b *testing.B) { benchEncode(b, PCMU) }
func BenchmarkEncodePCMA(b *testing.B) { benchEncode(b, PCMA) }
func BenchmarkDecodePCMU(b *testing.B) { benchDecode(b, PCMU) }
func BenchmarkDecodePCMA(b *testing.B) { benchDecode(b, PCMA) }

// The arithmetic encoders the tables are built from, called directly (they inline), to show
// what the tables buy.
func BenchmarkEncodeArithmeticPCMU(b *testing.B) {
	var dst [FrameSamples]byte
	b.ReportAllocs()
	b.SetBytes(FrameSamples * 2)
	for b.Loop() {
		for i, x := range benchFrame {
			dst[i] = ulawEncode(x)
		}
	}
	reportPerSample(b)
}

func BenchmarkEncodeArithmeticPCMA(b *testing.B) {
	var dst [FrameSamples]byte
	b.ReportAllocs()
	b.SetBytes(FrameSamples * 2)
	for b.Loop() {
		for i, x := range benchFrame {
			dst[i] = alawEncode(x)
		}
	}
	reportPerSample(b)
}
