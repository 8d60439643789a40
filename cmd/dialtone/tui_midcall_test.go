package main

import (
	"slices"
	"testing"

	"github.com/dialtone/dialtone/audio"
	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/phone"
)

func TestCallWaitingFollowsCalls(t *testing.T) {
	var w callWaiting
	st := func(id string, s phone.CallState) phone.CallStatus { return phone.CallStatus{ID: id, State: s} }
	steps := []struct {
		ev   phone.CallStatus
		want bool
	}{
		{st("c1", phone.CallIncoming), false}, // one call ringing: the ringer, not a beep
		{st("c1", phone.CallAnswered), false},
		{st("c2", phone.CallIncoming), true}, // a second call while talking: beep
		{st("c3", phone.CallIncoming), true},
		{st("c2", phone.CallEnded), true}, // c3 still rings
		{st("c3", phone.CallAnswered), false},
		{st("c4", phone.CallIncoming), true},
		{st("c1", phone.CallEnded), true}, // c3 still talks
		{st("c3", phone.CallEnded), false},
	}
	for i, s := range steps {
		w.update(s.ev)
		if got := w.on.Load(); got != s.want {
			t.Errorf("step %d (%s %v): waiting=%v, want %v", i, s.ev.ID, s.ev.State, got, s.want)
		}
	}
}

// The beep is a 440 Hz tone for 300 ms every 3 s mixed over what the far end says, and
// nothing at all is changed while no call waits.
func TestWaitingSinkBeeps(t *testing.T) {
	var w callWaiting
	rec := audiotest.NewRecorder()
	ca := &callAudio{CallAudio: phone.CallAudio{Sink: rec}}
	w.wrap(ca)
	voice := audiotest.NewTone(1000, 0.3) // the far end talking
	frame := make([]int16, audio.FrameSamples)
	write := func(n int) {
		for range n {
			if err := voice.Read(frame); err != nil {
				t.Fatal(err)
			}
			sent := slices.Clone(frame)
			if err := ca.Sink.Write(frame); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(frame, sent) {
				t.Fatal("the sink changed the caller's frame")
			}
		}
	}
	write(50)
	if found, _, _ := audiotest.DetectTone(rec.Samples(), audio.SampleRate, beepHz); found {
		t.Fatal("a beep with no call waiting")
	}
	w.on.Store(true)
	write(2 * beepCycleFrames)
	all := rec.Samples()
	span := func(from, to int) []int16 {
		return all[(50+from)*audio.FrameSamples : (50+to)*audio.FrameSamples]
	}
	for _, c := range []struct {
		name     string
		from, to int
		want     bool
	}{
		{"first beep", 0, beepFrames, true},
		{"first pause", beepFrames, beepCycleFrames, false},
		{"second beep", beepCycleFrames, beepCycleFrames + beepFrames, true},
		{"second pause", beepCycleFrames + beepFrames, 2 * beepCycleFrames, false},
	} {
		s := span(c.from, c.to)
		found, level, _ := audiotest.DetectTone(s, audio.SampleRate, beepHz)
		if found != c.want {
			t.Errorf("%s: 440 Hz found=%v (%.1f dBFS), want %v", c.name, found, level, c.want)
		}
		if ok, _, _ := audiotest.DetectTone(s, audio.SampleRate, 1000); !ok {
			t.Errorf("%s: the far end's voice is gone", c.name)
		}
	}
	// Beeping stops at once, and the next waiting call starts with a beep again.
	w.on.Store(false)
	write(20)
	tail := rec.Samples()[len(all):]
	if found, _, _ := audiotest.DetectTone(tail, audio.SampleRate, beepHz); found {
		t.Error("the beep went on after the waiting call stopped ringing")
	}
}

func TestMixBeepSaturates(t *testing.T) {
	out := make([]int16, audio.FrameSamples)
	for i := range out {
		out[i] = 32000
	}
	mixBeep(out, 0)
	for i, v := range out {
		if v < 32000-beepAmplitude-1 {
			t.Fatalf("sample %d wrapped round to %d", i, v)
		}
	}
}

// TestReplacedCallKeepsItsDevices: when a call goes on as another (we were transferred), the
// old call's end must not close the devices the new call now uses; the new call's end does.
func TestReplacedCallKeepsItsDevices(t *testing.T) {
	closed := 0
	var d callDevices
	d.keep("c1", &callAudio{closers: []func() error{func() error { closed++; return nil }}})
	d.follow(phone.CallReplaced{CallID: "c1", NewCallID: "c2"})
	d.follow(phone.CallStatus{ID: "c1", State: phone.CallEnded})
	d.closing.Wait() // devices are closed in the background (calldevices.go)
	if closed != 0 || !d.has("c2") {
		t.Fatal("the replaced call's end closed the devices the new call uses")
	}
	d.follow(phone.CallStatus{ID: "c2", State: phone.CallAnswered})
	d.follow(phone.CallStatus{ID: "c2", State: phone.CallEnded})
	d.closing.Wait()
	if closed != 1 || d.has("c2") {
		t.Fatalf("the new call's end closed the devices %d times, want 1", closed)
	}
	d.closeAll()
	if closed != 1 {
		t.Fatal("closeAll closed a released call again")
	}
}
