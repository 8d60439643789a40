package codec

import (
	"testing"

	"github.com/zaf/g711"
)

// The same frame through zaf/g711, a well-known Go G.711, in the same run as ours: this
// machine is noisy, so only side-by-side figures mean anything (docs/BENCHMARKS.md).

func BenchmarkPeerZafEncodePCMU(b *testing.B) {
	dst := make([]byte, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		for i, s := range benchFrame {
			dst[i] = g711.EncodeUlawFrame(s)
		}
	}
	reportPerSample(b)
}

func BenchmarkPeerZafDecodePCMU(b *testing.B) {
	payload := make([]byte, FrameSamples)
	PCMU.EncodeTo(payload, benchFrame[:])
	dst := make([]int16, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		for i, c := range payload {
			dst[i] = g711.DecodeUlawFrame(c)
		}
	}
	reportPerSample(b)
}
