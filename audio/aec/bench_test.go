package aec

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio"
	"github.com/dialtone/dialtone/audio/aec/internal/speexc"
)

// BenchmarkCanceller is the CPU per 20 ms frame of one played and one captured frame through
// the wrappers (echo cancellation with a 250 ms tail, denoise, AGC, residual-echo
// suppression), beside the same speexdsp processing looped in C (speexc): the difference is
// the binding's cost. cpu-ns/op is the thread's CPU time per frame (see threadCPU).
func BenchmarkCanceller(b *testing.B) {
	for _, rate := range []int{8000, 16000, 48000} {
		n := rate / 50
		b.Run(fmt.Sprintf("dialtone/%d", rate), func(b *testing.B) {
			needProcessor(b)
			rng := rand.New(rand.NewPCG(1, 2))
			const k = 50
			play, capt := make([]int16, n*k), make([]int16, n*k)
			for i := range play {
				x := int16(rng.IntN(8192) - 4096)
				play[i] = x
				capt[i] = x/2 + int16(rng.IntN(1024)-512)
			}
			src, snk := &rateSimSource{simSource{next: make([]int16, n)}}, &rateSimSink{simSink{last: make([]int16, 0, n)}}
			s, w, _, err := Wrap(src, snk, Defaults())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			defer w.Close()
			s.(audio.RateSetter).SetRate(rate)
			w.(audio.RateSetter).SetRate(rate)
			frame := make([]int16, n)
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ResetTimer()
			cpu := threadCPU()
			for i := range b.N {
				j := (i % k) * n
				w.Write(play[j : j+n])
				copy(src.next, capt[j:j+n])
				s.Read(frame)
			}
			reportCPU(b, cpu)
		})
		b.Run(fmt.Sprintf("speexdsp-C/%d", rate), func(b *testing.B) {
			needProcessor(b)
			p := speexc.New(rate, 250)
			defer p.Close()
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ResetTimer()
			cpu := threadCPU()
			p.Run(b.N)
			reportCPU(b, cpu)
		})
	}
}

func reportCPU(b *testing.B, start time.Duration) {
	if start > 0 {
		b.ReportMetric(float64(threadCPU()-start)/float64(b.N), "cpu-ns/op")
	}
}
