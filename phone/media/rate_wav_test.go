package media

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/audio/wav"
)

// writeToneWAV writes a second of freq at rate Hz to a new WAV file.
func writeToneWAV(t *testing.T, rate int, freq float64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tone.wav")
	w, err := wav.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tone := audiotest.NewTone(freq, 0.5)
	if err := w.SetRate(rate); err != nil {
		t.Fatal(err)
	}
	if err := tone.SetRate(rate); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		if err := w.Write(tone.Samples(rate / 50)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPlayAndRecordWAVAtCallRate is --play and --record in a wideband call: an 8 kHz and a
// 44.1 kHz file played into a 16 kHz call, recorded on the far side to a WAV file whose header
// says 16000 and which holds the tone (6 kHz for the 44.1 kHz file: only a wideband call
// carries it); and a 48 kHz call recorded at 48000.
func TestPlayAndRecordWAVAtCallRate(t *testing.T) {
	for _, x := range []struct {
		name     string
		c        fakeWide
		fileRate int
		freq     float64
	}{
		{"8k file, 16k call", fakeG722, 8000, 1000},
		{"44.1k file, 16k call", fakeG722, 44100, 6000},
		{"44.1k file, 48k call", fakeOpus, 44100, 6000},
	} {
		t.Run(x.name, func(t *testing.T) {
			src, err := wav.OpenSource(writeToneWAV(t, x.fileRate, x.freq))
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			recPath := filepath.Join(t.TempDir(), "rec.wav")
			rec, err := wav.Create(recPath)
			if err != nil {
				t.Fatal(err)
			}
			a, b := openPair(t)
			b.Start(Params{Remote: a.LocalAddr(), Codec: x.c, DTMFPT: 101, Receive: true, Sink: rec})
			a.Start(Params{Remote: b.LocalAddr(), Codec: x.c, DTMFPT: 101, Send: true, Source: src})
			select {
			case ev := <-a.Events():
				if !ev.SourceEnded {
					t.Fatalf("event %+v, want the file's end", ev)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the one-second file did not end within 5 s")
			}
			time.Sleep(200 * time.Millisecond) // the last frames through the jitter buffer
			b.Close()
			if err := rec.Close(); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(recPath)
			if err != nil || len(raw) < 44 {
				t.Fatalf("recording: %d bytes, %v", len(raw), err)
			}
			if got := binary.LittleEndian.Uint32(raw[24:28]); got != uint32(x.c.rate) {
				t.Fatalf("recording's header says %d Hz, want the call's %d", got, x.c.rate)
			}
			got, err := wav.OpenSource(recPath)
			if err != nil {
				t.Fatal(err)
			}
			defer got.Close()
			if err := got.SetRate(x.c.rate); err != nil {
				t.Fatal(err)
			}
			samples, err := collectAt(got, x.c.rate)
			if err != nil {
				t.Fatal(err)
			}
			toneAfterStartup(t, "recording", samples, x.c.rate, x.freq)
		})
	}
}

// collectAt reads a source of rate Hz frames to its end (at most 10 s).
func collectAt(src *wav.Source, rate int) ([]int16, error) {
	var all []int16
	frame := make([]int16, rate/50)
	for range 500 {
		if err := src.Read(frame); err != nil {
			break
		}
		all = append(all, frame...)
	}
	return all, nil
}
