package wav

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestSinkSaysWhenTheRecordingWasCut: a recording that reached the format's size limit (4 GiB,
// here a test's smaller one) keeps what it holds as a valid file, and Close says the recording
// was cut and when, where it said nothing (the call went on and the recording stopped silently).
func TestSinkSaysWhenTheRecordingWasCut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.wav")
	s, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	s.maxData = 2 * 8000 * 3 // three seconds at 8 kHz
	frame := make([]int16, 160)
	var writeErr error
	for range 200 { // four seconds
		if writeErr = s.Write(frame); writeErr != nil {
			break
		}
	}
	if !errors.Is(writeErr, ErrFull) {
		t.Fatalf("writing past the limit: %v, want ErrFull", writeErr)
	}
	err = s.Close()
	if !errors.Is(err, ErrFull) || !strings.Contains(err.Error(), "cut after 0:00:03") {
		t.Fatalf("Close: %v, want it to say the recording was cut after 0:00:03", err)
	}
	src, err := OpenSource(path)
	if err != nil {
		t.Fatalf("the cut recording is not a valid file: %v", err)
	}
	src.Close()
}
