package audiotest

import (
	"errors"
	"io"
	"math"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/dialtone/dialtone/audio"
	"github.com/dialtone/dialtone/audio/wav"
)

func TestToneIsContinuousAcrossFrames(t *testing.T) {
	// Frame by frame must equal one long run: no phase jump at frame edges.
	frames := slices.Concat(NewTone(1000, 0.5).Frames(5)...)
	long := NewTone(1000, 0.5).Samples(5 * audio.FrameSamples)
	if !slices.Equal(frames, long) {
		t.Fatal("frames differ from a continuous run of the same tone")
	}
	// 697 Hz does not divide the frame, so a phase reset would show up as a click that
	// spreads energy away from the tone.
	src := NewTone(697, 0.5)
	got, err := Collect(src, 50)
	if err != nil {
		t.Fatal(err)
	}
	if found, level, snr := DetectTone(got, audio.SampleRate, 697); !found || snr < 60 || math.Abs(level+9.03) > 0.1 {
		t.Errorf("697 Hz tone over 50 frames: found=%v level=%.2f snr=%.1f, want a clean -9.03 dBFS tone", found, level, snr)
	}
	peak := 0
	for _, s := range got {
		peak = max(peak, int(s), -int(s))
	}
	if want := 16384; peak < want-1 || peak > want+1 {
		t.Errorf("peak = %d, want %d", peak, want)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestLoopbackOrderSilenceAndBound(t *testing.T) {
	l := NewLoopback(3)
	frame := func(v int16) []int16 {
		f := make([]int16, audio.FrameSamples)
		for i := range f {
			f[i] = v
		}
		return f
	}
	read := func() int16 {
		t.Helper()
		f := frame(-1)
		if err := l.Read(f); err != nil {
			t.Fatalf("Read: %v", err)
		}
		for _, s := range f {
			if s != f[0] {
				t.Fatalf("frame mixes values %d and %d", f[0], s)
			}
		}
		return f[0]
	}
	if v := read(); v != 0 || l.Underruns() != 1 {
		t.Fatalf("empty read = %d (underruns %d), want silence and 1 underrun", v, l.Underruns())
	}
	for v := int16(1); v <= 5; v++ {
		if err := l.Write(frame(v)); err != nil {
			t.Fatal(err)
		}
	}
	if l.Len() != 3 || l.Dropped() != 2 {
		t.Fatalf("Len=%d Dropped=%d, want 3 and 2", l.Len(), l.Dropped())
	}
	for _, want := range []int16{3, 4, 5, 0} {
		if v := read(); v != want {
			t.Fatalf("read %d, want %d", v, want)
		}
	}
	// Short frames are padded with silence.
	if err := l.Write([]int16{7, 7}); err != nil {
		t.Fatal(err)
	}
	f := frame(-1)
	if err := l.Read(f); err != nil || f[0] != 7 || f[1] != 7 || f[2] != 0 {
		t.Fatalf("short frame read back as %v... (err %v)", f[:3], err)
	}
}

func TestLoopbackCloseDrainsThenEOF(t *testing.T) {
	l := NewLoopback(10)
	_ = l.Write(make([]int16, audio.FrameSamples))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := l.Write(make([]int16, audio.FrameSamples)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close = %v, want ErrClosed", err)
	}
	f := make([]int16, audio.FrameSamples)
	if err := l.Read(f); err != nil {
		t.Fatalf("draining read: %v", err)
	}
	if err := l.Read(f); err != io.EOF {
		t.Fatalf("read after drain = %v, want io.EOF", err)
	}
}

func TestLoopbackCarriesATone(t *testing.T) {
	l := NewLoopback(100)
	tone := NewTone(1000, 0.3)
	frame := make([]int16, audio.FrameSamples)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // writer and reader on different goroutines, as in a media loop
		defer wg.Done()
		for range 50 {
			_ = tone.Read(frame)
			_ = l.Write(frame)
		}
		l.Close()
	}()
	wg.Wait()
	got, err := Collect(l, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 50*audio.FrameSamples {
		t.Fatalf("read %d samples, want %d", len(got), 50*audio.FrameSamples)
	}
	if found, _, _ := DetectTone(got, audio.SampleRate, 1000); !found {
		t.Fatal("tone not found after the loopback")
	}
}

func TestRecorder(t *testing.T) {
	r := NewRecorder()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := make([]int16, audio.FrameSamples)
			for i := range f {
				f[i] = int16(g)
			}
			for range 25 {
				_ = r.Write(f)
				_ = r.Samples() // reading while others write must be safe (-race)
			}
		}()
	}
	wg.Wait()
	if r.Frames() != 100 || len(r.Samples()) != 100*audio.FrameSamples {
		t.Fatalf("Frames=%d samples=%d, want 100 frames", r.Frames(), len(r.Samples()))
	}
	s := r.Samples()
	s[0] = 999
	if r.Samples()[0] == 999 {
		t.Fatal("Samples returned the Recorder's own buffer, not a copy")
	}
	if err := r.Close(); err != nil || !r.Closed() {
		t.Fatalf("Close: %v, Closed() = %v", err, r.Closed())
	}
	if err := r.Write(make([]int16, audio.FrameSamples)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close = %v, want ErrClosed", err)
	}
}

func TestRecorderSaveWAV(t *testing.T) {
	r := NewRecorder()
	want := NewTone(440, 0.25).Samples(3*audio.FrameSamples + 17)
	_ = r.Write(want[:2*audio.FrameSamples])
	_ = r.Write(want[2*audio.FrameSamples:])
	path := filepath.Join(t.TempDir(), "rec.wav")
	if err := r.SaveWAV(path); err != nil {
		t.Fatal(err)
	}
	got, rate, err := wav.ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	if rate != audio.SampleRate || !slices.Equal(got, want) {
		t.Fatalf("saved file reads back as %d samples at %d Hz, want the %d recorded at 8000", len(got), rate, len(want))
	}
}

// TestRecorderAtWidebandRate: a Recorder told 16 kHz notes the change, keeps the stretches
// apart (SamplesAt) and saves a 16 kHz WAV file of a 6 kHz tone.
func TestRecorderAtWidebandRate(t *testing.T) {
	rec := NewRecorder()
	tone := NewTone(1000, 0.5)
	for range 5 {
		_ = rec.Write(tone.Samples(160))
	}
	if err := rec.SetRate(16000); err != nil {
		t.Fatal(err)
	}
	hi := NewTone(6000, 0.5)
	if err := hi.SetRate(16000); err != nil {
		t.Fatal(err)
	}
	if err := NewTone(9000, 0.5).SetRate(16000); err == nil {
		t.Fatal("a 9 kHz tone accepted 16 kHz sampling")
	}
	for range 50 {
		_ = rec.Write(hi.Samples(320))
	}
	if ch := rec.Rates(); len(ch) != 1 || ch[0] != (RateChange{Sample: 800, Rate: 16000}) {
		t.Fatalf("rate changes %v", ch)
	}
	if n := len(rec.SamplesAt(8000)); n != 800 {
		t.Fatalf("%d samples at 8 kHz, want 800", n)
	}
	wide := rec.SamplesAt(16000)
	if found, _, _ := DetectTone(wide, 16000, 6000); !found {
		t.Fatal("no 6 kHz tone at 16 kHz")
	}
	path := filepath.Join(t.TempDir(), "rec.wav")
	if err := rec.SaveWAV(path); err != nil {
		t.Fatal(err)
	}
	src, err := wav.OpenSource(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if src.Format().SampleRate != 8000 {
		t.Fatalf("saved at %d Hz, want the first rate, 8000", src.Format().SampleRate)
	}
}
