//go:build cgo && !noportaudio

package portaudio

import (
	"fmt"
	"log/slog"
	"testing"

	pa "github.com/gordonklaus/portaudio"
)

// handStream is a stream as openStream leaves it after the device took rate × channels,
// without a PortAudio stream: the callbacks are called directly.
func handStream(rate float64, channels int, input bool) *stream {
	s := &stream{log: slog.New(slog.DiscardHandler), dev: &pa.DeviceInfo{Name: "hand"}, rate: rate, channels: channels}
	s.prepare(input)
	return s
}

// TestFramePathsDoNotAllocate: once warm, a frame through the microphone (capture callback,
// Read) and the speaker (Write, playback callback) allocates nothing, for each way the
// device may be opened and each call rate.
func TestFramePathsDoNotAllocate(t *testing.T) {
	for _, dev := range []struct {
		rate float64
		ch   int
	}{{48000, 1}, {44100, 2}, {8000, 1}} {
		for _, call := range []int{8000, 16000, 48000} {
			t.Run(fmt.Sprintf("device%gx%d-call%d", dev.rate, dev.ch, call), func(t *testing.T) {
				src := &Source{s: handStream(dev.rate, dev.ch, true)}
				snk := &Sink{s: handStream(dev.rate, dev.ch, false)}
				if err := src.SetRate(call); err != nil {
					t.Fatal(err)
				}
				if err := snk.SetRate(call); err != nil {
					t.Fatal(err)
				}
				block := make([]int16, int(dev.rate/50+0.5)*dev.ch) // a 20 ms device buffer
				for i := range block {
					block[i] = int16(i * 37)
				}
				out := make([]int16, len(block))
				frame := make([]int16, call/50)
				got := 0
				step := func() {
					src.s.capture(block, pa.StreamCallbackTimeInfo{}, 0)
					if src.Read(frame) == nil {
						got++
					}
					if err := snk.Write(frame); err != nil {
						t.Fatal(err)
					}
					snk.s.playback(out, pa.StreamCallbackTimeInfo{}, 0)
				}
				for range 20 { // warm: scratch buffers reach their size
					step()
				}
				if n := testing.AllocsPerRun(200, step); n != 0 {
					t.Errorf("%.1f allocations per frame", n)
				}
				if st := src.Stats(); st.Underruns > 2 || st.Overruns > 0 {
					t.Errorf("capture ring out of step with the frames: %+v", st)
				}
			})
		}
	}
}
