//go:build cgo && !noportaudio

package portaudio

import (
	"errors"
	"strings"
	"testing"

	pa "github.com/gordonklaus/portaudio"

	"github.com/dialtone/dialtone/audio"
)

func TestPick(t *testing.T) {
	devs := []*pa.DeviceInfo{
		{Index: 0, Name: "HDA Intel PCH: ALC257 Analog (hw:0,0)", MaxInputChannels: 2, MaxOutputChannels: 2},
		{Index: 1, Name: "HDA Intel PCH: HDMI 0 (hw:0,3)", MaxOutputChannels: 8},
		{Index: 2, Name: "USB Headset: Audio (hw:1,0)", MaxInputChannels: 1, MaxOutputChannels: 2},
		{Index: 3, Name: "pulse", MaxInputChannels: 32, MaxOutputChannels: 32},
		{Index: 4, Name: "default", MaxInputChannels: 32, MaxOutputChannels: 32},
		{Index: 5, Name: "pulse-echo", MaxInputChannels: 1},
	}
	for _, tc := range []struct {
		name  string
		input bool
		want  int // -1: an error containing err
		err   string
	}{
		{"", true, 4, ""},
		{"pulse", true, 3, ""},  // exact, although "pulse-echo" contains it too
		{"PULSE", false, 3, ""}, // equal ignoring case
		{"2", true, 2, ""},      // index
		{"usb", false, 2, ""},   // unique substring
		{"hdmi", false, 1, ""},
		{"hdmi", true, -1, `no sound input device matches "hdmi"`}, // output only
		{"1", true, -1, "has no input channels"},
		{"hda", false, -1, "ambiguous"},
		{"nonesuch", false, -1, `4 "default"`}, // lists what exists
	} {
		d, err := pick(devs, devs[4], tc.name, tc.input)
		switch {
		case tc.want >= 0 && (err != nil || d.Index != tc.want):
			t.Errorf("pick(%q, input=%v) = %v, %v; want device %d", tc.name, tc.input, d, err, tc.want)
		case tc.want < 0 && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("pick(%q, input=%v) error = %v; want one containing %q", tc.name, tc.input, err, tc.err)
		}
	}
}

func TestPickNoDevice(t *testing.T) {
	outOnly := []*pa.DeviceInfo{{Index: 0, Name: "hdmi", MaxOutputChannels: 2}}
	_, err := pick(outOnly, nil, "", true)
	if err == nil || err.Error() != "no sound input device found" {
		t.Fatalf("err = %v", err)
	}
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, audio.ErrUnavailable) {
		t.Errorf("%v does not match ErrUnavailable and audio.ErrUnavailable", err)
	}
	if d, err := pick(outOnly, nil, "", false); err != nil || d.Name != "hdmi" {
		t.Errorf("no default output: got %v, %v; want the only output", d, err)
	}
}
