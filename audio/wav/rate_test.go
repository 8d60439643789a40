package wav_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/audio/wav"
)

// playAllAt reads a Source told rate to the end, checking that every frame is rate/50 long.
func playAllAt(t *testing.T, src *wav.Source, rate int) []int16 {
	t.Helper()
	if err := src.SetRate(rate); err != nil {
		t.Fatal(err)
	}
	return playFrames(t, src, rate/50)
}

// TestSourceAtCallRate plays an 8 kHz and a 44.1 kHz file in a 16 kHz call (and the second in
// a 48 kHz one): the frames are the call's, the length is the file's duration, and the tone
// is there, a 6 kHz one too, which 8 kHz frames could not carry.
func TestSourceAtCallRate(t *testing.T) {
	for _, x := range []struct {
		fileRate, callRate int
		freq               float64
	}{
		{8000, 16000, 1000},
		{44100, 16000, 6000},
		{44100, 48000, 6000},
		{16000, 16000, 6000},
	} {
		path := writeTemp(t, toneFile(wav.PCM, 1, 1, x.fileRate, 16, x.freq, 0.5, 1.0))
		src, err := wav.OpenSource(path)
		if err != nil {
			t.Fatal(err)
		}
		got := playAllAt(t, src, x.callRate)
		src.Close()
		if want := x.callRate; len(got) < want || len(got) > want+x.callRate/50 {
			t.Fatalf("%d Hz file at %d Hz: %d samples, want a second's (%d, padded to a frame)", x.fileRate, x.callRate, len(got), want)
		}
		mid := got[x.callRate/10 : x.callRate*9/10]
		if found, lvl, snr := audiotest.DetectTone(mid, x.callRate, x.freq); !found || lvl < halfScaleDBFS-1 || snr < 30 {
			t.Fatalf("%d Hz file at %d Hz: %v Hz tone found %v, level %.1f dBFS, snr %.1f dB", x.fileRate, x.callRate, x.freq, found, lvl, snr)
		}
	}
}

// TestSourceRateChangeMidFile: a codec change mid-file carries on where the file was, at the
// new rate, and the whole still lasts the file's duration.
func TestSourceRateChangeMidFile(t *testing.T) {
	src, err := wav.OpenSource(writeTemp(t, toneFile(wav.PCM, 1, 1, 8000, 16, 1000, 0.5, 1.0)))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	first, err := audiotest.Collect(src, 25) // half a second at 8 kHz
	if err != nil || len(first) != 4000 {
		t.Fatalf("%d samples, %v", len(first), err)
	}
	rest := playAllAt(t, src, 48000)
	if len(rest) < 24000 || len(rest) > 24000+960 {
		t.Fatalf("%d samples at 48 kHz after half the file, want 24000", len(rest))
	}
	if found, lvl, _ := audiotest.DetectTone(rest[4800:19200], 48000, 1000); !found || lvl < halfScaleDBFS-1 {
		t.Fatalf("no tone after the change: level %.1f dBFS", lvl)
	}
}

// TestSourceBackToTheFileRateEnds: a 16 kHz file in an 8 kHz call, then the codec changes to
// the file's own rate (a re-INVITE to G.722). The file still ends: the resampler's look-ahead
// was lost with it, and Read spun for good at the end looking for samples that would never
// come (the call's sender at 100 % CPU).
func TestSourceBackToTheFileRateEnds(t *testing.T) {
	src, err := wav.OpenSource(writeTemp(t, toneFile(wav.PCM, 1, 1, 16000, 16, 1000, 0.5, 1.0)))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := src.SetRate(8000); err != nil {
		t.Fatal(err)
	}
	if first, err := audiotest.Collect(src, 25); err != nil || len(first) != 4000 { // half the file
		t.Fatalf("%d samples, %v", len(first), err)
	}
	if err := src.SetRate(16000); err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 1)
	go func() { // bounded by the test's own wait: the old code never returned
		n := 0
		frame := make([]int16, 320)
		for range 200 { // half a second is 25 frames
			if err := src.Read(frame); err != nil {
				break
			}
			n += len(frame)
		}
		done <- n
	}()
	select {
	case n := <-done:
		if n < 7680 || n > 8000+320 {
			t.Fatalf("%d samples at 16 kHz after half the file, want about 8000", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read never ended the file after going back to its own rate")
	}
}

// headerRate is the sample rate a WAV file's header gives.
func headerRate(t *testing.T, path string) uint32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 44 {
		t.Fatalf("reading %s: %d bytes, %v", path, len(b), err)
	}
	return binary.LittleEndian.Uint32(b[24:28])
}

// TestSinkRecordsAtCallRate: --record of a 16 kHz (G.722) or 48 kHz (Opus) call writes a file
// whose header says that rate, holding the 6 kHz tone the call carried; G.711 stays 8 kHz.
func TestSinkRecordsAtCallRate(t *testing.T) {
	for _, x := range []struct {
		rate int
		freq float64
	}{{8000, 1000}, {16000, 6000}, {48000, 6000}} {
		path := filepath.Join(t.TempDir(), "rec.wav")
		snk, err := wav.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := snk.SetRate(x.rate); err != nil {
			t.Fatal(err)
		}
		tone := audiotest.NewTone(x.freq, 0.5)
		if err := tone.SetRate(x.rate); err != nil {
			t.Fatal(err)
		}
		frame := make([]int16, x.rate/50)
		for range 50 {
			_ = tone.Read(frame)
			if err := snk.Write(frame); err != nil {
				t.Fatal(err)
			}
		}
		if a := testing.AllocsPerRun(20, func() { _ = snk.Write(frame) }); a != 0 {
			t.Fatalf("%d Hz: %v allocations per frame written", x.rate, a)
		}
		if err := snk.Close(); err != nil {
			t.Fatal(err)
		}
		if got := headerRate(t, path); got != uint32(x.rate) {
			t.Fatalf("header says %d Hz, want %d", got, x.rate)
		}
		src, err := wav.OpenSource(path)
		if err != nil {
			t.Fatal(err)
		}
		got := playAllAt(t, src, x.rate)
		src.Close()
		if want := x.rate * (50 + 21) / 50; len(got) != want { // AllocsPerRun wrote 21 more

			t.Fatalf("%d Hz: %d samples back, want %d", x.rate, len(got), want)
		}
		if found, lvl, _ := audiotest.DetectTone(got, x.rate, x.freq); !found || lvl < halfScaleDBFS-1 {
			t.Fatalf("%d Hz: no %v Hz tone in the recording (level %.1f dBFS)", x.rate, x.freq, lvl)
		}
	}
}

// TestSinkRateChangeAfterAudioResamples: once audio is written the file keeps its rate; frames
// at a new rate are resampled to it rather than written at the wrong speed.
func TestSinkRateChangeAfterAudioResamples(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.wav")
	snk, err := wav.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tone := audiotest.NewTone(1000, 0.5)
	frame := make([]int16, 960)
	for range 25 { // half a second at 8 kHz
		_ = tone.Read(frame[:160])
		if err := snk.Write(frame[:160]); err != nil {
			t.Fatal(err)
		}
	}
	for _, rate := range []int{16000, 48000} { // a quarter of a second at each
		if err := snk.SetRate(rate); err != nil {
			t.Fatal(err)
		}
		if err := tone.SetRate(rate); err != nil {
			t.Fatal(err)
		}
		for range 13 {
			_ = tone.Read(frame[:rate/50])
			if err := snk.Write(frame[:rate/50]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if snk.Rate() != 8000 {
		t.Fatalf("file rate %d, want the first one, 8000", snk.Rate())
	}
	if err := snk.Close(); err != nil {
		t.Fatal(err)
	}
	if got := headerRate(t, path); got != 8000 {
		t.Fatalf("header says %d Hz, want 8000", got)
	}
	src, err := wav.OpenSource(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got := playAll(t, src)
	if want := 4000 + 2*13*160; len(got) < want-80 || len(got) > want+160 {
		t.Fatalf("%d samples, want about %d: the resampled part has the wrong length", len(got), want)
	}
	if found, lvl, _ := audiotest.DetectTone(got[4400:], 8000, 1000); !found || lvl < halfScaleDBFS-1.5 {
		t.Fatalf("no 1 kHz tone after the rate changes (level %.1f dBFS)", lvl)
	}
}

// TestSourceRateUpAfterTheLastFrame: a codec change to a higher rate between the Read that gave
// a file's last (padded) frame and the one that would say EOF. The samples handed out, scaled
// to the new rate, could pass the file's total there, and Read sliced a negative length: a
// panic in the call's sender, which took the process and its recording with it.
func TestSourceRateUpAfterTheLastFrame(t *testing.T) {
	for _, x := range []struct{ fileRate, from, to int }{
		{44100, 8000, 16000}, {44100, 8000, 48000}, {16000, 8000, 16000}, {44100, 16000, 48000},
	} {
		for n := 4000; n < 4400; n += 23 { // file lengths whose duration falls anywhere in a sample at x.from
			ms := n * 1000 / x.fileRate
			path := writeTemp(t, toneFile(wav.PCM, 1, 1, x.fileRate, 16, 1000, 0.5, (float64(n)+0.5)/float64(x.fileRate)))
			frames := func() int { // how many frames the file gives at x.from
				src, err := wav.OpenSource(path)
				if err != nil {
					t.Fatal(err)
				}
				defer src.Close()
				return len(playAllAt(t, src, x.from)) / (x.from / 50)
			}()
			src, err := wav.OpenSource(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := src.SetRate(x.from); err != nil {
				t.Fatal(err)
			}
			frame := make([]int16, x.from/50)
			for i := range frames {
				if err := src.Read(frame); err != nil {
					t.Fatalf("%d ms at %d Hz: frame %d of %d: %v", ms, x.from, i, frames, err)
				}
			}
			if err := src.SetRate(x.to); err != nil {
				t.Fatal(err)
			}
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("%d Hz file of %d ms, %d → %d Hz after its last frame: Read panicked: %v", x.fileRate, ms, x.from, x.to, r)
					}
				}()
				big := make([]int16, x.to/50)
				for range 3 {
					if err := src.Read(big); err != nil {
						break
					}
				}
			}()
			src.Close()
		}
	}
}
