package main

import (
	"testing"

	"github.com/dialtone/dialtone/phone/config"
)

// TestEchoCancellationChoice: sound devices on both ends get echo cancellation unless the
// flag or the config turns it off; files and the null backend never do.
func TestEchoCancellationChoice(t *testing.T) {
	on, off := true, false
	for _, tc := range []struct {
		name    string
		f       audioFlags
		record  string
		backend string
		cfg     config.Audio
		noAEC   bool
		want    bool
	}{
		{name: "devices", backend: "device", want: true},
		{name: "devices, config on", backend: "device", cfg: config.Audio{EchoCancellation: &on}, want: true},
		{name: "devices, config off", backend: "device", cfg: config.Audio{EchoCancellation: &off}},
		{name: "devices, --no-aec", backend: "device", noAEC: true},
		{name: "devices, config on, --no-aec", backend: "device", cfg: config.Audio{EchoCancellation: &on}, noAEC: true},
		{name: "--play", f: audioFlags{Play: "x.wav"}, backend: "device"},
		{name: "--record", record: "x.wav", backend: "device"},
		{name: "null", backend: "null"},
	} {
		e := &env{cli: &cli{NoAEC: tc.noAEC}}
		if got := e.wantEchoCancellation(tc.f, tc.record, tc.backend, tc.cfg); got != tc.want {
			t.Errorf("%s: echo cancellation %v, want %v", tc.name, got, tc.want)
		}
	}
}
