//go:build !cgo || noportaudio

package portaudio

import (
	"errors"
	"testing"

	"github.com/dialtone/dialtone/audio"
)

func TestStubNewFails(t *testing.T) {
	b, err := New(nil)
	if b != nil || !errors.Is(err, ErrUnavailable) || !errors.Is(err, audio.ErrUnavailable) {
		t.Fatalf("New = %v, %v; want an ErrUnavailable error", b, err)
	}
	if Available || Version() != "" {
		t.Error("stub claims PortAudio")
	}
}
