//go:build cgo && !noportaudio

package portaudio

import (
	"fmt"
	"testing"
)

// BenchmarkResample is one 20 ms frame through the resampler at each conversion a device call
// makes (call rate ↔ device rate): the CPU the wideband device open costs a G.711 or G.722
// call. 0 allocs/op: the capture callback and Sink.Write run it per frame.
func BenchmarkResample(b *testing.B) {
	for _, c := range []struct{ in, out float64 }{
		{8000, 48000}, {48000, 8000}, {16000, 48000}, {48000, 16000},
		{8000, 44100}, {44100, 8000}, {48000, 44100}, {44100, 48000},
	} {
		for _, generic := range []bool{false, true} {
			name := fmt.Sprintf("%gto%g", c.in, c.out)
			if generic {
				name += "-generic"
			}
			b.Run(name, func(b *testing.B) {
				r := newResampler(c.in, c.out)
				if generic { // the path before the polyphase tables, for the ratio
					r.poly = nil
				}
				in := sineAt(1000, 8000, c.in, int(c.in/50))
				out := make([]int16, 0, 2*int(c.out/50))
				out = r.process(in, out[:0])
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					out = r.process(in, out[:0])
				}
			})
		}
	}
}
