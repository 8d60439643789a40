package main

import (
	"errors"
	"testing"
)

// TestAnswerBookSaysWhyAudioDidNotClose: the calls still up when answer stops (the phone
// stopped under them) have their audio closed at the end, and a recording that could not be
// finished is reported, not dropped (it was, behind exit 0).
func TestAnswerBookSaysWhyAudioDidNotClose(t *testing.T) {
	b := newAnswerBook()
	full := errors.New("write rec.wav: no space left on device")
	closed := 0
	b.active["c1"] = &callAudio{closers: []func() error{func() error { closed++; return full }}}
	b.active["c2"] = &callAudio{closers: []func() error{func() error { closed++; return nil }}}
	b.spare = &callAudio{closers: []func() error{func() error { closed++; return nil }}}
	var said []error
	b.closeAll(func(err error) { said = append(said, err) })
	if closed != 3 {
		t.Errorf("%d of 3 audios closed", closed)
	}
	if len(said) != 1 || !errors.Is(said[0], full) {
		t.Errorf("reported %v, want the recording's error once", said)
	}
	if b.up() != 0 || b.spare != nil {
		t.Errorf("book still holds audio: %d up, spare %v", b.up(), b.spare)
	}
}
