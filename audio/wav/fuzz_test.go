package wav_test

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/audio"
	"github.com/dialtone/dialtone/audio/wav"
)

// fuzzSeeds are small valid and broken files; testdata/fuzz/FuzzOpen holds the same set
// (regenerate with WAV_WRITE_FUZZ_SEEDS=1 go test -run TestWriteFuzzSeeds).
func fuzzSeeds() map[string][]byte {
	tone := func(n, ch, rate int) []float64 { return sineFrames(n, ch, rate, 1000, 0.5) }
	fmt16 := chunk("fmt ", fmtBody(1, 1, 8000, 16))
	pcm := encodeSamples(tone(40, 1, 8000), wav.PCM, 16)
	return map[string][]byte{
		"pcm16-8k-mono":    riff(fmt16, chunk("data", pcm)),
		"pcm16-48k-stereo": riff(chunk("fmt ", fmtBody(1, 2, 48000, 16)), chunk("data", encodeSamples(tone(60, 2, 48000), wav.PCM, 16))),
		"pcm8-11k":         riff(chunk("fmt ", fmtBody(1, 1, 11025, 8)), chunk("data", encodeSamples(tone(55, 1, 11025), wav.PCM, 8))),
		"pcm24-ext-44k":    riff(chunk("fmt ", fmtExtensible(1, 1, 44100, 24, 24)), chunk("data", encodeSamples(tone(45, 1, 44100), wav.PCM, 24))),
		"float32-16k":      riff(chunk("fmt ", fmtBody(3, 1, 16000, 32)), chunk("data", encodeSamples(tone(40, 1, 16000), wav.Float, 32))),
		"float64-ext":      riff(chunk("fmt ", fmtExtensible(3, 1, 8000, 64, 64)), chunk("data", encodeSamples(tone(20, 1, 8000), wav.Float, 64))),
		"mulaw":            riff(chunk("fmt ", fmtBody(7, 1, 8000, 8)), chunk("data", encodeSamples(tone(40, 1, 8000), wav.MuLaw, 8))),
		"alaw":             riff(chunk("fmt ", fmtBody(6, 1, 8000, 8)), chunk("data", []byte{0xD5, 0x55, 0xAA, 0x2A, 0x80})),
		"list-odd-pad":     riff(chunk("LIST", []byte("INFOx")), fmt16, chunk("data", pcm)),
		"data-oversize":    riff(fmt16, rawChunk("data", 1<<30, pcm)),
		"data-size-zero":   riff(fmt16, rawChunk("data", 0, pcm)),
		"data-odd":         riff(fmt16, rawChunk("data", 9, pcm[:9])),
		"truncated-header": []byte("RIFF\x24\x00\x00"),
		"wrong-magic":      append([]byte("RIFZ"), riff(fmt16, chunk("data", pcm))[4:]...),
		"no-fmt":           riff(chunk("data", pcm)),
		"zero-channels":    riff(chunk("fmt ", fmtBody(1, 0, 8000, 16)), chunk("data", pcm)),
		"huge-list":        riff(fmt16, rawChunk("LIST", 0xFFFFFFF0, []byte("INFO"))),
		"huge-fmt":         riff(rawChunk("fmt ", 0xFFFFFFFF, fmtBody(1, 1, 8000, 16))),
		"adpcm":            riff(chunk("fmt ", fmtBody(2, 1, 8000, 4)), chunk("data", pcm[:20])),
		"ext-short":        riff(chunk("fmt ", fmtExtensible(1, 2, 8000, 16, 16)[:30]), chunk("data", pcm)),
		"low-rate-float":   riff(chunk("fmt ", fmtBody(3, 3, 1000, 32)), chunk("data", encodeSamples([]float64{math.NaN(), math.Inf(1), 2, -1, 0, 1e-30}, wav.Float, 32))),
	}
}

func FuzzOpen(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		samples, rate, decodeErr := wav.Decode(bytes.NewReader(data))
		src, err := wav.NewSource(bytes.NewReader(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "wav: ") {
				t.Fatalf("error without package prefix: %q", err)
			}
			if decodeErr == nil {
				t.Fatalf("NewSource failed (%v) where Decode succeeded", err)
			}
			return
		}
		if decodeErr != nil {
			t.Fatalf("Decode failed (%v) where NewSource succeeded", decodeErr)
		}
		// Playing yields exactly the file's duration at 8 kHz, rounded up to whole frames.
		want8k := (int64(len(samples))*audio.SampleRate + int64(rate) - 1) / int64(rate)
		wantFrames := int((want8k + audio.FrameSamples - 1) / audio.FrameSamples)
		frame := make([]int16, audio.FrameSamples)
		frames := 0
		for {
			err := src.Read(frame)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Read: %v", err) // a bytes.Reader has no I/O errors to report
			}
			if frames++; frames > wantFrames {
				t.Fatalf("more than the %d frames %d samples at %d Hz should give", wantFrames, len(samples), rate)
			}
		}
		if frames != wantFrames {
			t.Fatalf("played %d frames, want %d (%d samples at %d Hz)", frames, wantFrames, len(samples), rate)
		}
		if err := src.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestWriteFuzzSeeds regenerates testdata/fuzz/FuzzOpen from fuzzSeeds when asked to.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("WAV_WRITE_FUZZ_SEEDS") == "" {
		t.Skip("set WAV_WRITE_FUZZ_SEEDS=1 to rewrite testdata/fuzz/FuzzOpen")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzOpen")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range fuzzSeeds() {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
