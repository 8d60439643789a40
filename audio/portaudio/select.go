//go:build cgo && !noportaudio

package portaudio

import (
	"fmt"
	"strconv"
	"strings"

	pa "github.com/gordonklaus/portaudio"
)

// pick chooses the device for name among those with channels in the wanted direction:
// "" is def (or the first capable device when PortAudio has no default), then an exact name,
// then an index, then a case-insensitive substring that must match exactly one device (or
// equal one ignoring case). Names are tried before indexes so a device called "2" is
// reachable; substrings last, so a short exact name ("pulse") is not ambiguous.
func pick(devs []*pa.DeviceInfo, def *pa.DeviceInfo, name string, input bool) (*pa.DeviceInfo, error) {
	dir := "output"
	if input {
		dir = "input"
	}
	capable := func(d *pa.DeviceInfo) bool {
		if input {
			return d.MaxInputChannels > 0
		}
		return d.MaxOutputChannels > 0
	}
	var usable []*pa.DeviceInfo
	for _, d := range devs {
		if capable(d) {
			usable = append(usable, d)
		}
	}
	if len(usable) == 0 {
		return nil, unavailable("no sound " + dir + " device found")
	}
	if name == "" {
		if def != nil && capable(def) {
			return def, nil
		}
		return usable[0], nil
	}
	for _, d := range usable {
		if d.Name == name {
			return d, nil
		}
	}
	if i, err := strconv.Atoi(name); err == nil {
		for _, d := range devs {
			if d.Index != i {
				continue
			}
			if !capable(d) {
				return nil, fmt.Errorf("sound device %d (%s) has no %s channels; %s devices: %s", i, d.Name, dir, dir, list(usable))
			}
			return d, nil
		}
	}
	var matches []*pa.DeviceInfo
	for _, d := range usable {
		if strings.EqualFold(d.Name, name) {
			return d, nil
		}
		if strings.Contains(strings.ToLower(d.Name), strings.ToLower(name)) {
			matches = append(matches, d)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return nil, fmt.Errorf("no sound %s device matches %q; %s devices: %s", dir, name, dir, list(usable))
	}
	return nil, fmt.Errorf("sound %s device %q is ambiguous, it matches: %s", dir, name, list(matches))
}

// list renders devices for error messages as `0 "name", 3 "other"`: what the user can type.
func list(devs []*pa.DeviceInfo) string {
	parts := make([]string, len(devs))
	for i, d := range devs {
		parts[i] = fmt.Sprintf("%d %q", d.Index, d.Name)
	}
	return strings.Join(parts, ", ")
}
