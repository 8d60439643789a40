package portaudio

import (
	"errors"
	"fmt"
	"testing"

	"github.com/dialtone/dialtone/audio"
)

func TestUnavailableMatchesBothSentinels(t *testing.T) {
	err := fmt.Errorf("open audio: %w", unavailable("no sound device found"))
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, audio.ErrUnavailable) {
		t.Errorf("%v should match ErrUnavailable and audio.ErrUnavailable", err)
	}
	if !errors.Is(ErrUnavailable, audio.ErrUnavailable) {
		t.Error("ErrUnavailable should match audio.ErrUnavailable")
	}
	if errors.Is(errors.New("other"), ErrUnavailable) {
		t.Error("unrelated error matches")
	}
}
