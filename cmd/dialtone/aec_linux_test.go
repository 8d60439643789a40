//go:build cgo && !noportaudio

package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/audio/aec"
	"github.com/dialtone/dialtone/audio/wav"
	"github.com/dialtone/dialtone/interop/peers"
)

// TestEchoCancellationWiring opens a call's audio the way call, answer and the TUI do, on a
// private PulseAudio's devices: both devices come wrapped in the canceller; --no-aec, the
// config key, files and the null backend leave the audio as it was.
func TestEchoCancellationWiring(t *testing.T) {
	if !aec.Available {
		t.Skip("echo cancellation is not built in (no cgo, or the nospeexdsp tag)")
	}
	pa := peers.StartPulseAudio(t)
	for _, kv := range pa.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	dir := t.TempDir()
	play := filepath.Join(dir, "in.wav")
	w, err := wav.Create(play)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(make([]int16, 160))
	w.Close()
	cfgOn, cfgOff := filepath.Join(dir, "on.toml"), filepath.Join(dir, "off.toml")
	os.WriteFile(cfgOn, []byte("[audio]\nbackend = \"device\"\n"), 0o600)
	os.WriteFile(cfgOff, []byte("[audio]\nbackend = \"device\"\necho_cancellation = false\n"), 0o600)
	for _, tc := range []struct {
		name      string
		cfg       string
		noAEC     bool
		f         audioFlags
		record    string
		src, sink bool // wrapped
	}{
		{name: "devices", cfg: cfgOn, src: true, sink: true},
		{name: "--no-aec", cfg: cfgOn, noAEC: true},
		{name: "echo_cancellation = false", cfg: cfgOff},
		{name: "--play", cfg: cfgOn, f: audioFlags{Play: play}},
		{name: "--record", cfg: cfgOn, record: filepath.Join(dir, "out.wav")},
		{name: "--audio null", cfg: cfgOn, f: audioFlags{Audio: "null"}},
	} {
		e := &env{cli: &cli{Config: tc.cfg, NoAEC: tc.noAEC}, log: slog.New(slog.DiscardHandler)}
		ca, err := e.openAudio(tc.f, tc.record)
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, pa.Log())
		}
		if aec.Wrapped(ca.Source) != tc.src || aec.Wrapped(ca.Sink) != tc.sink {
			t.Errorf("%s: source wrapped %v, sink wrapped %v; want %v, %v", tc.name,
				aec.Wrapped(ca.Source), aec.Wrapped(ca.Sink), tc.src, tc.sink)
		}
		if tc.src {
			frame := make([]int16, 160)
			if err := ca.Sink.Write(frame); err != nil {
				t.Errorf("%s: write through the canceller: %v", tc.name, err)
			}
			if err := ca.Source.Read(frame); err != nil {
				t.Errorf("%s: read through the canceller: %v", tc.name, err)
			}
		}
		if err := ca.Close(); err != nil {
			t.Errorf("%s: close: %v", tc.name, err)
		}
	}
}
