package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoDeviceHintFitsTheFrontEnd: without sound devices, the headless commands point at their
// flags and the TUI at the config file, never at flags it does not have (issue 11).
func TestNoDeviceHintFitsTheFrontEnd(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{"HOME": dir, "XDG_RUNTIME_DIR": dir, "XDG_CONFIG_HOME": dir,
		"PULSE_SERVER": "unix:" + dir + "/none", "PULSE_RUNTIME_PATH": dir} {
		t.Setenv(k, v)
	}
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte("[audio]\nbackend = \"device\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, hint, want, never string
	}{
		{"headless", "", "use --audio null or --play/--record files", "[audio]"},
		{"tui", `to call without sound, set backend = "null" under [audio] in ` + cfg, `backend = "null" under [audio]`, "--audio"},
	} {
		e := &env{cli: &cli{Config: cfg}, log: slog.New(slog.DiscardHandler), noDeviceHint: tc.hint}
		ca, err := e.openAudio(audioFlags{}, "")
		if err == nil {
			ca.Close()
			t.Skip("this machine has sound devices, so the no-device error cannot be seen")
		}
		msg := err.Error()
		if !strings.Contains(msg, "no sound") || !strings.Contains(msg, tc.want) || strings.Contains(msg, tc.never) {
			t.Errorf("%s: %q; want it to say %q and never %q", tc.name, msg, tc.want, tc.never)
		}
	}
}
