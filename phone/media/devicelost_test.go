package media

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio"
	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/codec"
)

// vanishing is a device whose Read/Write work for a while and then return ErrDeviceLost for
// ever, as the PortAudio backend does once a device has gone away. calls counts the calls made
// after the loss: the session should stop making them.
type vanishing struct {
	tone      audio.Source
	lost      atomic.Bool
	afterLoss atomic.Int64
}

var errGone = fmt.Errorf("test device unplugged: %w", audio.ErrDeviceLost)

func (v *vanishing) Read(f []int16) error {
	if v.lost.Load() {
		v.afterLoss.Add(1)
		clear(f)
		return errGone
	}
	return v.tone.Read(f)
}

func (v *vanishing) Write(f []int16) error {
	if v.lost.Load() {
		v.afterLoss.Add(1)
		return errGone
	}
	return nil
}

func (v *vanishing) Close() error { return nil }

// TestDeviceLostMidCallKeepsTheStream: the microphone and the speaker go away mid-call. The
// session reports each loss once, goes on sending RTP (silence) at 50 packets a second and
// receiving, and stops calling the dead device.
func TestDeviceLostMidCallKeepsTheStream(t *testing.T) {
	a, b := openPair(t)
	dev := &vanishing{tone: audiotest.NewTone(1000, 0.5)}
	rec := audiotest.NewRecorder()
	a.Start(Params{Remote: b.LocalAddr(), Codec: codec.PCMU, DTMFPT: -1, Send: true, Receive: true, Source: dev, Sink: dev})
	b.Start(Params{Remote: a.LocalAddr(), Codec: codec.PCMU, DTMFPT: -1, Send: true, Receive: true,
		Source: audiotest.NewTone(1500, 0.5), Sink: rec})
	time.Sleep(600 * time.Millisecond) // real time: the network path, not a timed assertion
	if found, _, _ := audiotest.DetectTone(rec.Samples(), 8000, 1000); !found {
		t.Fatal("no tone before the device went away")
	}
	dev.lost.Store(true)
	sent, got := a.Stats().PacketsSent, a.Stats().PacketsReceived
	mark := len(rec.Samples())
	var source, sink int
	deadline := time.After(3 * time.Second)
	for source+sink < 2 {
		select {
		case ev := <-a.Events():
			if ev.SourceLost != nil {
				source++
			}
			if ev.SinkLost != nil {
				sink++
			}
		case <-deadline:
			t.Fatalf("events: source lost %d, sink lost %d; want one each", source, sink)
		}
	}
	start := time.Now()
	time.Sleep(time.Second)
	elapsed := time.Since(start)
	// No second report, and the dead device is left alone (a call or two may race the flag).
	select {
	case ev := <-a.Events():
		if ev.SourceLost != nil || ev.SinkLost != nil {
			t.Fatalf("the loss was reported again: %+v", ev)
		}
	default:
	}
	if n := dev.afterLoss.Load(); n > 2 {
		t.Fatalf("the session called the lost device %d times after its loss", n)
	}
	st := a.Stats()
	rate := float64(st.PacketsSent-sent) / (elapsed + 100*time.Millisecond).Seconds()
	if rate < 40 {
		t.Fatalf("sent %d packets (%.0f/s) after the loss; want the stream to go on at ~50/s", st.PacketsSent-sent, rate)
	}
	if st.PacketsReceived-got < 40 {
		t.Fatalf("received %d packets after the loss; want the far end's stream still taken", st.PacketsReceived-got)
	}
	after := rec.Samples()[mark:]
	if len(after) < 4000 {
		t.Fatalf("the far end played only %d samples after the loss", len(after))
	}
	if found, lvl, _ := audiotest.DetectTone(after[len(after)/2:], 8000, 1000); found {
		t.Fatalf("the far end still hears the lost microphone's tone (%.1f dBFS)", lvl)
	}
}
