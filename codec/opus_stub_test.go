//go:build !cgo || noopus

package codec

import "testing"

// TestOpusAbsent: a build without libopus offers no Opus, and still has G.711.
func TestOpusAbsent(t *testing.T) {
	if Opus != nil {
		t.Fatalf("Opus = %v in a build without libopus", Opus)
	}
	for _, name := range []string{"opus", "opus/48000/2"} {
		if c, ok := ByName(name); ok {
			t.Errorf("ByName(%q) = %s", name, c.Name())
		}
	}
	if _, ok := ByPayloadType(111); ok {
		t.Error("payload type 111 found")
	}
	if c, ok := ByName("PCMU/8000"); !ok || c != PCMU {
		t.Error("PCMU missing")
	}
}
