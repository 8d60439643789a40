package wav_test

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dialtone/dialtone/audio"
	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/audio/wav"
)

func TestSinkSourceRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.wav")
	sink, err := wav.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	want := audiotest.NewTone(697, 0.8).Samples(123 * audio.FrameSamples)
	want[0], want[1] = 32767, -32768 // extremes survive too
	for i := 0; i < len(want); i += audio.FrameSamples {
		if err := sink.Write(want[i : i+audio.FrameSamples]); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}

	src, err := wav.OpenSource(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if f := src.Format(); f != (wav.Format{Encoding: wav.PCM, Channels: 1, SampleRate: 8000, BitsPerSample: 16}) {
		t.Errorf("recorded format %v, want 16-bit PCM 8 kHz mono", f)
	}
	if got := playAll(t, src); !slices.Equal(got, want) {
		t.Fatalf("played back %d samples that differ from the %d recorded", len(got), len(want))
	}

	// The header is exact: RIFF size = file size - 8, data size = samples * 2.
	raw, _ := os.ReadFile(path)
	if len(raw) != 44+2*len(want) {
		t.Fatalf("file is %d bytes, want %d", len(raw), 44+2*len(want))
	}
	if riffSize, dataSize := binary.LittleEndian.Uint32(raw[4:]), binary.LittleEndian.Uint32(raw[40:]); int(riffSize) != len(raw)-8 || int(dataSize) != 2*len(want) {
		t.Errorf("header sizes RIFF %d data %d, want %d and %d", riffSize, dataSize, len(raw)-8, 2*len(want))
	}
}

func TestSinkHeaderFixedUpWhileRecording(t *testing.T) {
	// A process killed mid-call leaves a file whose header covers all but the last few seconds.
	path := filepath.Join(t.TempDir(), "live.wav")
	sink, err := wav.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	tone := audiotest.NewTone(1000, 0.5)
	frame := make([]int16, audio.FrameSamples)
	const fixup = 5                // seconds between header rewrites (sink.go)
	for range (2*fixup + 1) * 50 { // 11 s
		_ = tone.Read(frame)
		if err := sink.Write(frame); err != nil {
			t.Fatal(err)
		}
	}
	raw, _ := os.ReadFile(path) // the file as a crash would leave it
	dataSize := int(binary.LittleEndian.Uint32(raw[40:]))
	if want := 2 * 2 * fixup * audio.SampleRate; dataSize != want || len(raw) != 44+want {
		t.Errorf("after 11 s: data size on disk %d bytes in a file of %d, want 10 s (%d) in %d", dataSize, len(raw), want, 44+want)
	}
	got, rate, err := wav.ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	if rate != 8000 || len(got) != 2*fixup*audio.SampleRate {
		t.Errorf("unfinished file reads as %d samples at %d Hz, want 10 s at 8000", len(got), rate)
	}
	if found, _, _ := audiotest.DetectTone(got, rate, 1000); !found {
		t.Error("tone not found in the unfinished file")
	}
}

func TestSinkCloseIsIdempotentAndFinal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.wav")
	sink, err := wav.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	_ = sink.Write(make([]int16, audio.FrameSamples))
	for range 3 {
		if err := sink.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if err := sink.Write(make([]int16, audio.FrameSamples)); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("Write after Close = %v, want a closed-sink error", err)
	}
	if got, _, err := wav.ReadAll(path); err != nil || len(got) != audio.FrameSamples {
		t.Fatalf("ReadAll after Close: %d samples, %v", len(got), err)
	}
}

func TestSinkEmptyRecordingIsValid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.wav")
	sink, err := wav.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	got, rate, err := wav.ReadAll(path)
	if err != nil || rate != 8000 || len(got) != 0 {
		t.Fatalf("empty recording: %d samples at %d Hz, %v", len(got), rate, err)
	}
}

func TestSinkConcurrentWriteAndClose(t *testing.T) {
	sink, err := wav.Create(filepath.Join(t.TempDir(), "race.wav"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		frame := make([]int16, audio.FrameSamples)
		for range 200 {
			if err := sink.Write(frame); err != nil {
				return // closed under us: fine
			}
		}
	}()
	_ = sink.Close()
	wg.Wait()
}

func TestCreateErrors(t *testing.T) {
	_, err := wav.Create(filepath.Join(t.TempDir(), "no", "such", "dir.wav"))
	if !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "wav: ") {
		t.Fatalf("Create in a missing directory: %v", err)
	}
}

// TestCreateIsPrivate: a recording holds what someone said on a call; only its owner may read
// it (it was 0644, world-readable under the usual umask).
func TestCreateIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "call.wav")
	sink, err := wav.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm != 0o600 {
		t.Fatalf("recording mode %o, want 600", perm)
	}
}
