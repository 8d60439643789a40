//go:build cgo && !noportaudio

package portaudio

import (
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio"
)

// TestSinkTrimQueuedLive: on a real (private PulseAudio) speaker, at 8 kHz and at the
// device's rate, a sink that is playing drops exactly the 8 kHz samples it is asked to from
// what it has queued (counted at its rate in Stats().Buffered).
func TestSinkTrimQueuedLive(t *testing.T) { forEachMode(t, testSinkTrimQueuedLive) }

func testSinkTrimQueuedLive(t *testing.T) {
	startPulse(t)
	t.Setenv("PULSE_SINK", "dt_play")
	b := newTestBackend(t)
	out, err := b.OpenSink("")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	sink := out.(*Sink)
	tone := sine(1000, 8000, 8*audio.FrameSamples)
	for off := 0; off < len(tone); off += audio.FrameSamples {
		if err := sink.Write(tone[off : off+audio.FrameSamples]); err != nil {
			t.Fatal(err)
		}
	}
	// Playing: the device has taken some of the 160 ms (a starved machine may take a while).
	queued := sink.Stats().Buffered
	for deadline := time.Now().Add(10 * time.Second); sink.Stats().Buffered >= queued && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if got := sink.TrimQueued(audio.FrameSamples / 4); got != audio.FrameSamples/4 {
		t.Fatalf("TrimQueued(%d) dropped %d (stats %+v)", audio.FrameSamples/4, got, sink.Stats())
	}
	if got := sink.TrimQueued(0); got != 0 {
		t.Fatalf("TrimQueued(0) dropped %d", got)
	}
}
