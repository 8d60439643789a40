package wav_test

import (
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/audio"
	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/audio/wav"
)

// sox is an independent implementation of WAV: files it writes must play, and files we write
// must satisfy it.
func needSox(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("sox")
	if err != nil {
		t.Skip("sox is not installed (apt install sox), so files from an independent writer cannot be checked")
	}
	return path
}

func TestPlaysFilesMadeBySox(t *testing.T) {
	sox := needSox(t)
	cases := []struct {
		name string
		args []string // output format options
	}{
		{"44.1 kHz stereo 16-bit", []string{"-r", "44100", "-c", "2", "-b", "16"}},
		{"48 kHz mono 24-bit (extensible)", []string{"-r", "48000", "-c", "1", "-b", "24"}},
		{"96 kHz stereo 32-bit float", []string{"-r", "96000", "-c", "2", "-e", "floating-point", "-b", "32"}},
		{"22.05 kHz 8-bit unsigned", []string{"-r", "22050", "-c", "1", "-e", "unsigned", "-b", "8"}},
		{"8 kHz µ-law", []string{"-r", "8000", "-c", "1", "-e", "mu-law"}},
		{"8 kHz A-law", []string{"-r", "8000", "-c", "1", "-e", "a-law"}},
		{"16 kHz 6 channels 32-bit", []string{"-r", "16000", "-c", "6", "-e", "signed", "-b", "32"}},
	}
	for _, c := range cases {
		path := filepath.Join(t.TempDir(), "sox.wav")
		args := append([]string{"-n"}, c.args...)
		args = append(args, path, "synth", "1", "sine", "1000", "vol", "0.5")
		if out, err := exec.Command(sox, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s: sox %s: %v\n%s", c.name, strings.Join(args, " "), err, out)
		}
		src, err := wav.OpenSource(path)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got := playAll(t, src)
		src.Close()
		found, level, snr := audiotest.DetectTone(got, audio.SampleRate, 1000)
		t.Logf("%-32s %v: %d samples, 1 kHz found=%v at %.2f dBFS, SNR %.1f dB", c.name, src.Format(), len(got), found, level, snr)
		if !found || math.Abs(level-halfScaleDBFS) > 1 || snr < 30 {
			t.Errorf("%s: 1 kHz found=%v at %.2f dBFS with SNR %.1f dB, want it within 1 dB of %.2f and SNR ≥ 30 dB", c.name, found, level, snr, halfScaleDBFS)
		}
		if frames := len(got) / audio.FrameSamples; frames != 50 {
			t.Errorf("%s: 1 s played as %d frames, want 50", c.name, frames)
		}
	}
}

func TestSoxReadsOurRecordings(t *testing.T) {
	sox := needSox(t)
	path := filepath.Join(t.TempDir(), "ours.wav")
	sink, err := wav.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tone := audiotest.NewTone(1000, 0.5)
	frame := make([]int16, audio.FrameSamples)
	for range 75 {
		_ = tone.Read(frame)
		_ = sink.Write(frame)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sox, "--i", path).CombinedOutput()
	if err != nil {
		t.Fatalf("sox --i: %v\n%s", err, out)
	}
	info := string(out)
	for _, want := range []string{"Channels       : 1", "Sample Rate    : 8000", "Precision      : 16-bit", "00:00:01.50 = 12000 samples", "Signed Integer PCM"} {
		if !strings.Contains(info, want) {
			t.Errorf("sox --i does not say %q:\n%s", want, info)
		}
	}
}
