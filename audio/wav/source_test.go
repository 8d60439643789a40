package wav_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio"
	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/audio/wav"
)

// playAll reads a Source to the end, checking the frame contract on the way.
func playAll(t *testing.T, src audio.Source) []int16 {
	t.Helper()
	return playFrames(t, src, audio.FrameSamples)
}

// playFrames is playAll with frames of n samples.
func playFrames(t *testing.T, src audio.Source, n int) []int16 {
	t.Helper()
	var all []int16
	frame := make([]int16, n)
	for i := 0; ; i++ {
		err := src.Read(frame)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		all = append(all, frame...)
		if i > 1e6 {
			t.Fatal("source never ends")
		}
	}
	if err := src.Read(frame); err != io.EOF {
		t.Fatalf("Read after EOF = %v, want io.EOF again", err)
	}
	return all
}

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.wav")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A half-scale sine: −9.03 dBFS by audiotest's RMS convention.
const halfScaleDBFS = -9.03

func TestTone48kStereoComesOutAt1kHz(t *testing.T) {
	path := writeTemp(t, toneFile(wav.PCM, 1, 2, 48000, 16, 1000, 0.5, 1))
	src, err := wav.OpenSource(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if f := src.Format(); f.SampleRate != 48000 || f.Channels != 2 || f.BitsPerSample != 16 {
		t.Errorf("Format() = %v", f)
	}
	got := playAll(t, src)
	if len(got) != 8000 {
		t.Errorf("1 s of audio became %d samples, want 8000", len(got))
	}
	found, level, snr := audiotest.DetectTone(got, audio.SampleRate, 1000)
	t.Logf("1 kHz: found=%v level=%.2f dBFS snr=%.1f dB", found, level, snr)
	if !found || math.Abs(level-halfScaleDBFS) > 1 {
		t.Errorf("1 kHz tone after resampling: found=%v at %.2f dBFS, want found within 1 dB of %.2f", found, level, halfScaleDBFS)
	}
	if snr < 60 {
		t.Errorf("SNR after resampling %.1f dB, want at least 60 (16-bit source)", snr)
	}
	if f, _, _ := audiotest.DetectTone(got, audio.SampleRate, 1500); f {
		t.Error("a 1.5 kHz tone was found too")
	}
}

func TestToneAboveNyquistIsFilteredNotAliased(t *testing.T) {
	// 5 kHz cannot exist at 8 kHz; sample dropping would fold it to 3 kHz.
	path := writeTemp(t, toneFile(wav.PCM, 1, 2, 48000, 16, 5000, 0.5, 1))
	src, err := wav.OpenSource(path)
	if err != nil {
		t.Fatal(err)
	}
	got := playAll(t, src)
	src.Close()
	level := audiotest.Level(got)
	_, alias, _ := audiotest.DetectTone(got, audio.SampleRate, 3000)
	// The whole output includes the clicks of the tone starting and stopping (gating a tone
	// spreads it); away from the ends only the filter's stopband leakage is left.
	steady := audiotest.Level(got[80 : len(got)-80])
	t.Logf("5 kHz at 48 kHz → 8 kHz: output %.1f dBFS (%.1f without the first and last 10 ms), at 3 kHz %.1f dBFS; input %.2f dBFS",
		level, steady, alias, halfScaleDBFS)
	if level > halfScaleDBFS-30 || alias > halfScaleDBFS-30 {
		t.Errorf("5 kHz leaks through at %.1f dBFS (3 kHz alias %.1f), want at least 30 dB under %.2f", level, alias, halfScaleDBFS)
	}
}

func TestFormats(t *testing.T) {
	const rate, freq, amp = 8000, 1000.0, 0.5
	samples := sineFrames(800, 1, rate, freq, amp)
	cases := []struct {
		name string
		fmt  []byte
		data []byte
		tol  float64 // largest allowed error, in int16 units
	}{
		{"8-bit unsigned", fmtBody(1, 1, rate, 8), encodeSamples(samples, wav.PCM, 8), 130},
		{"16-bit", fmtBody(1, 1, rate, 16), encodeSamples(samples, wav.PCM, 16), 0},
		{"24-bit", fmtBody(1, 1, rate, 24), encodeSamples(samples, wav.PCM, 24), 1},
		{"32-bit", fmtBody(1, 1, rate, 32), encodeSamples(samples, wav.PCM, 32), 1},
		{"32-bit float", fmtBody(3, 1, rate, 32), encodeSamples(samples, wav.Float, 32), 1},
		{"64-bit float", fmtBody(3, 1, rate, 64), encodeSamples(samples, wav.Float, 64), 1},
		{"µ-law", fmtBody(7, 1, rate, 8), encodeSamples(samples, wav.MuLaw, 8), 520},
		{"extensible 24-bit", fmtExtensible(1, 1, rate, 24, 24), encodeSamples(samples, wav.PCM, 24), 1},
		{"extensible 20 bits in 24", fmtExtensible(1, 1, rate, 24, 20), encodeSamples(samples, wav.PCM, 24), 1},
		{"extensible float", fmtExtensible(3, 1, rate, 32, 32), encodeSamples(samples, wav.Float, 32), 1},
		{"18-byte fmt chunk", append(fmtBody(1, 1, rate, 16), 0, 0), encodeSamples(samples, wav.PCM, 16), 0},
	}
	for _, c := range cases {
		got, gotRate, err := wav.Decode(bytes.NewReader(riff(chunk("fmt ", c.fmt), chunk("data", c.data))))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if gotRate != rate || len(got) != len(samples) {
			t.Errorf("%s: %d samples at %d Hz, want %d at %d", c.name, len(got), gotRate, len(samples), rate)
			continue
		}
		worst := 0.0
		for i, v := range got {
			worst = math.Max(worst, math.Abs(float64(v)-samples[i]*32768))
		}
		if worst > c.tol+0.5 { // +0.5: the ideal is not rounded
			t.Errorf("%s: samples off by up to %.0f, want at most %.0f", c.name, worst, c.tol)
		}
	}
}

func TestALaw(t *testing.T) {
	// A-law 0xD5 is the smallest positive value (+8), 0x55 the smallest negative, 0xAA and
	// 0x2A the extremes (±32256).
	data := []byte{0xD5, 0x55, 0xAA, 0x2A}
	got, _, err := wav.Decode(bytes.NewReader(riff(chunk("fmt ", fmtBody(6, 1, 8000, 8)), chunk("data", data))))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int16{8, -8, 32256, -32256}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("A-law decodes to %v, want %v", got, want)
	}
}

func TestDownmixAveragesChannels(t *testing.T) {
	// Left +0.5, right -0.5 cancel; left 0.5 and right 0 average to 0.25.
	data := encodeSamples([]float64{0.5, -0.5, 0.5, 0, -1, -1}, wav.PCM, 16)
	got, _, err := wav.Decode(bytes.NewReader(riff(chunk("fmt ", fmtBody(1, 2, 8000, 16)), chunk("data", data))))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int16{0, 8192, -32768}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("downmix = %v, want %v", got, want)
	}
}

func TestLengthAndPadding(t *testing.T) {
	for _, c := range []struct {
		rate, n int
		want    int // 8 kHz samples before padding
	}{
		{8000, 8000, 8000},
		{8000, 161, 161},
		{44100, 44100, 8000},
		{44100, 1000, 182}, // 181.4 rounds up
		{48000, 5, 1},
		{16000, 3200, 1600},
		{11025, 11025 / 2, 4000},
	} {
		data := encodeSamples(sineFrames(c.n, 1, c.rate, 440, 0.5), wav.PCM, 16)
		src, err := wav.NewSource(bytes.NewReader(riff(chunk("fmt ", fmtBody(1, 1, c.rate, 16)), chunk("data", data))))
		if err != nil {
			t.Fatal(err)
		}
		got := playAll(t, src)
		frames := (c.want + audio.FrameSamples - 1) / audio.FrameSamples
		if len(got) != frames*audio.FrameSamples {
			t.Errorf("%d samples at %d Hz gave %d frames, want %d", c.n, c.rate, len(got)/audio.FrameSamples, frames)
			continue
		}
		for i, v := range got[c.want:] {
			if v != 0 {
				t.Errorf("%d samples at %d Hz: padding sample %d is %d, want 0", c.n, c.rate, c.want+i, v)
				break
			}
		}
	}
}

func TestEmptyDataIsImmediateEOF(t *testing.T) {
	src, err := wav.NewSource(bytes.NewReader(riff(chunk("fmt ", fmtBody(1, 1, 44100, 16)), rawChunk("data", 2, nil))))
	if err != nil {
		t.Fatal(err)
	}
	if got := playAll(t, src); len(got) != 0 {
		t.Fatalf("empty file played %d samples", len(got))
	}
}

func TestTolerance(t *testing.T) {
	fmtc := chunk("fmt ", fmtBody(1, 1, 8000, 16))
	pcm := encodeSamples(sineFrames(1000, 1, 8000, 440, 0.5), wav.PCM, 16)
	cases := []struct {
		name string
		file []byte
		want int
	}{
		{"unknown chunks before and after fmt", riff(chunk("LIST", []byte("INFOISFT\x05\x00\x00\x00sox\x00\x00")), fmtc, chunk("fact", []byte{1, 2, 3, 4}), chunk("data", pcm)), 1000},
		{"odd-sized chunk with pad byte", riff(fmtc, chunk("junk", []byte{1, 2, 3}), chunk("data", pcm)), 1000},
		{"odd-sized fmt chunk", riff(chunk("fmt ", append(fmtBody(1, 1, 8000, 16), 0)), chunk("data", pcm)), 1000},
		{"data larger than the file", riff(fmtc, rawChunk("data", 1<<30, pcm)), 1000},
		{"data size 0 (writer killed)", riff(fmtc, rawChunk("data", 0, pcm)), 1000},
		{"data size 0xFFFFFFFF (streamed)", riff(fmtc, rawChunk("data", math.MaxUint32, pcm)), 1000},
		{"data ends mid-sample", riff(fmtc, rawChunk("data", 2001, pcm[:2001])), 1000},
		{"data shorter than declared, odd", riff(fmtc, rawChunk("data", 3000, pcm[:1001])), 500},
		{"chunks after data", riff(fmtc, chunk("data", pcm), chunk("LIST", []byte("INFO"))), 1000},
		{"wrong RIFF size", append([]byte("RIFF\x00\x00\x00\x00"), riff(fmtc, chunk("data", pcm))[8:]...), 1000},
	}
	for _, c := range cases {
		got, _, err := wav.Decode(bytes.NewReader(c.file))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if len(got) != c.want {
			t.Errorf("%s: %d samples, want %d", c.name, len(got), c.want)
		}
	}
}

func TestMalformed(t *testing.T) {
	fmtc := chunk("fmt ", fmtBody(1, 1, 8000, 16))
	data := chunk("data", make([]byte, 320))
	cases := []struct {
		name    string
		file    []byte
		is      error
		message string
	}{
		{"empty file", nil, wav.ErrNotRIFF, "not a RIFF file"},
		{"wrong magic", []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00"), wav.ErrNotRIFF, "not a RIFF file"},
		{"three bytes", []byte("RIF"), wav.ErrNotRIFF, "not a RIFF file"},
		{"truncated RIFF header", []byte("RIFF\x24\x00"), wav.ErrTruncated, "truncated RIFF header"},
		{"not WAVE", []byte("RIFF\x04\x00\x00\x00AVI "), wav.ErrNotWAVE, `"AVI "`},
		{"RIFX", []byte("RIFX\x04\x00\x00\x00WAVE"), wav.ErrUnsupported, "RIFX"},
		{"RF64", []byte("RF64\xff\xff\xff\xffWAVE"), wav.ErrUnsupported, "RF64"},
		{"no chunks", riff(), wav.ErrNoData, "no data chunk"},
		{"fmt chunk missing", riff(data), wav.ErrNoFormat, "no fmt chunk"},
		{"fmt only", riff(fmtc), wav.ErrNoData, "no data chunk"},
		{"truncated chunk header", append(riff(fmtc), "dat"...), wav.ErrTruncated, "chunk header"},
		{"truncated fmt chunk", riff(rawChunk("fmt ", 16, fmtBody(1, 1, 8000, 16)[:10])), wav.ErrTruncated, "fmt chunk"},
		{"short fmt chunk", riff(chunk("fmt ", fmtBody(1, 1, 8000, 16)[:14]), data), wav.ErrBadFormat, "fmt chunk is 14 bytes"},
		{"huge fmt chunk", riff(rawChunk("fmt ", math.MaxUint32, fmtBody(1, 1, 8000, 16)), data), wav.ErrTruncated, `"fmt " chunk`},
		{"huge unknown chunk", riff(fmtc, rawChunk("LIST", 0xFFFFFFF0, []byte("INFO")), data), wav.ErrTruncated, `"LIST" chunk at offset 36: declares 4294967280 bytes`},
		{"zero channels", riff(chunk("fmt ", fmtBody(1, 0, 8000, 16)), data), wav.ErrBadFormat, "0 channels"},
		{"65535 channels", riff(chunk("fmt ", fmtBody(1, 65535, 8000, 16)), data), wav.ErrUnsupported, "channel count 65535"},
		{"zero rate", riff(chunk("fmt ", fmtBody(1, 1, 0, 16)), data), wav.ErrUnsupported, "sample rate 0 Hz"},
		{"huge rate", riff(chunk("fmt ", fmtBody(1, 1, math.MaxUint32, 16)), data), wav.ErrUnsupported, "sample rate 4294967295 Hz"},
		{"ADPCM", riff(chunk("fmt ", fmtBody(2, 1, 8000, 4)), data), wav.ErrUnsupported, "format code 0x0002 (Microsoft ADPCM)"},
		{"MP3", riff(chunk("fmt ", fmtBody(0x55, 1, 8000, 0)), data), wav.ErrUnsupported, "format code 0x0055 (MPEG Layer 3)"},
		{"0-bit PCM", riff(chunk("fmt ", fmtBody(1, 1, 8000, 0)), data), wav.ErrUnsupported, "0-bit PCM"},
		{"48-bit PCM", riff(chunk("fmt ", fmtBody(1, 1, 8000, 48)), data), wav.ErrUnsupported, "48-bit PCM"},
		{"16-bit float", riff(chunk("fmt ", fmtBody(3, 1, 8000, 16)), data), wav.ErrUnsupported, "16-bit float"},
		{"wrong block align", riff(chunk("fmt ", fmtBody(1, 2, 8000, 16)[:12]), data), wav.ErrBadFormat, ""},
		{"extensible too short", riff(chunk("fmt ", fmtExtensible(1, 1, 8000, 16, 16)[:24]), data), wav.ErrBadFormat, "EXTENSIBLE needs a 40-byte"},
		{"extensible odd GUID", riff(chunk("fmt ", append(fmtExtensible(1, 1, 8000, 16, 16)[:39], 0)), data), wav.ErrUnsupported, "subformat GUID"},
		{"extensible ADPCM", riff(chunk("fmt ", fmtExtensible(2, 1, 8000, 16, 16)), data), wav.ErrUnsupported, "0x0002"},
	}
	// The block align case needs a body whose align field disagrees with the rest.
	bad := fmtBody(1, 2, 8000, 16)
	le.PutUint16(bad[12:], 3)
	cases[24].file = riff(chunk("fmt ", bad), data)
	cases[24].message = "block align 3, want 4"

	for _, c := range cases {
		_, err := wav.NewSource(bytes.NewReader(c.file))
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !errors.Is(err, c.is) || !strings.HasPrefix(err.Error(), "wav: ") || !strings.Contains(err.Error(), c.message) {
			t.Errorf("%s: error %q, want one that Is %q and mentions %q", c.name, err, c.is, c.message)
		}
	}
}

func TestOpenSourceErrorsNameTheFile(t *testing.T) {
	path := writeTemp(t, []byte("this is not audio"))
	_, err := wav.OpenSource(path)
	if want := fmt.Sprintf("wav: %s: not a RIFF file", path); err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	if _, err := wav.OpenSource(filepath.Join(t.TempDir(), "missing.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v, want an error wrapping os.ErrNotExist", err)
	}
	if _, _, err := wav.ReadAll(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("ReadAll error %v, want one naming %s", err, path)
	}
}

func TestSourceClose(t *testing.T) {
	path := writeTemp(t, toneFile(wav.PCM, 1, 1, 8000, 16, 440, 0.5, 0.1))
	src, err := wav.OpenSource(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := src.Read(make([]int16, audio.FrameSamples)); err == nil || err == io.EOF {
		t.Fatalf("Read after Close = %v, want an error", err)
	}
}

// TestRateChangeMidFileSkipsNothing: a 1 s tone at 8 kHz played in a 16 kHz call whose codec
// changes to 48 kHz mid-file carries on where it was: the tone lasts to the end, give or take
// the filter's delay. The resampler read up to a block ahead, and that look-ahead was lost at
// the change: up to 120 ms of the file skipped, and silence padded at the end instead.
func TestRateChangeMidFileSkipsNothing(t *testing.T) {
	for _, frames := range []int{3, 7, 11, 20} { // where in its look-ahead the change comes
		src, err := wav.OpenSource(writeTemp(t, toneFile(wav.PCM, 1, 1, 8000, 16, 440, 0.5, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if err := src.SetRate(16000); err != nil {
			t.Fatal(err)
		}
		for range frames {
			if err := src.Read(make([]int16, 320)); err != nil {
				t.Fatal(err)
			}
		}
		if err := src.SetRate(48000); err != nil {
			t.Fatal(err)
		}
		var after []int16
		for {
			f := make([]int16, 960)
			if err := src.Read(f); err != nil {
				break
			}
			after = append(after, f...)
		}
		src.Close()
		end := len(after)
		for end > 0 && after[end-1] > -200 && after[end-1] < 200 && (end < 2 || after[end-2] > -200 && after[end-2] < 200) {
			end-- // trailing silence
		}
		if tail := time.Duration(len(after)-end) * time.Second / 48000; tail > 10*time.Millisecond {
			t.Errorf("change after %d frames: the tone stops %v before the end: file audio was skipped", frames, tail)
		}
	}
}
