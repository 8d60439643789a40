package main

import (
	"errors"
	"os"
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

// TestAnswerBookNumbersACallAfterOneThatEnded: an INVITE admitted right after a call ended, before
// the event loop counted it, took that call's recording name (truncating its file) and a place
// beyond --count. Ending and counting are one step now.
func TestAnswerBookNumbersACallAfterOneThatEnded(t *testing.T) {
	dir := t.TempDir()
	e := &env{cli: &cli{}}
	c := &answerCmd{Count: 3}
	c.Audio, c.Record = "null", dir+"/rx.wav"
	b := newAnswerBook()
	first, code := b.admit(c, e, "c1")
	if code != 0 {
		t.Fatalf("first call turned away with %d", code)
	}
	first.Close()
	if _, mine := b.ended("c1", false); !mine {
		t.Fatal("the first call was not ours")
	}
	// The next INVITE, before the event loop's done.
	second, code := b.admit(c, e, "c2")
	if code != 0 {
		t.Fatalf("second call turned away with %d", code)
	}
	defer second.Close()
	if _, err := os.Stat(dir + "/rx-2.wav"); err != nil {
		t.Fatalf("the second call's recording: %v (it took the first one's name)", err)
	}
	c.Count = 2 // one handled, one up: a third is beyond --count
	if _, code := b.admit(c, e, "c3"); code != 486 {
		t.Fatalf("a third call with --count 2: %d, want 486", code)
	}
}
