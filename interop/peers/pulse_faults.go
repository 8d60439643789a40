package peers

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Faults for the device tests: a sound device that goes away mid-call.

// Pactl runs pactl against this server (within 5 s) and returns its output.
func (p *PulseAudio) Pactl(args ...string) ([]byte, error) { return p.run("pactl", args...) }

// ServerPID finds the server's process: the pulseaudio whose command line names this
// server's socket (it is started per test, so exactly one does).
func (p *PulseAudio) ServerPID() (int, error) {
	socket := []byte("socket=" + filepath.Join(p.dir, "native"))
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		return 0, err
	}
	for _, path := range procs {
		b, err := os.ReadFile(path)
		if err != nil || !bytes.HasPrefix(b, []byte("pulseaudio\x00")) || !bytes.Contains(b, socket) {
			continue
		}
		return strconv.Atoi(filepath.Base(filepath.Dir(path)))
	}
	return 0, fmt.Errorf("peers: no pulseaudio process with %s", socket)
}

// UnloadModules unloads the loaded modules that match specs, in the order given, and returns
// how many it unloaded. A spec is a module name, optionally followed by a space and part of its
// argument: "module-null-sink sink_name=dt_play". Unloading module-always-sink and then both null sinks is a
// USB headset unplugged: the streams on them have nowhere to move and are killed.
func (p *PulseAudio) UnloadModules(specs ...string) (int, error) {
	out, err := p.run("pactl", "list", "short", "modules")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, spec := range specs {
		mod, arg, _ := strings.Cut(spec, " ")
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Split(line, "\t") // index, name, argument, ...
			if len(f) < 2 || f[1] != mod || arg != "" && (len(f) < 3 || !strings.Contains(f[2], arg)) {
				continue
			}
			if _, err := p.run("pactl", "unload-module", f[0]); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
