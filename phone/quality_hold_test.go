package phone

import (
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/phone/media"
)

// TestHoldDoesNotLowerMOS: while a call is on hold no audio flows by design, and the jitter
// buffer counts the end of the stream as missing frames (half a second of them). That is not
// packet loss: the report while on hold keeps the MOS from before it, the one after the
// resume is clean again, and the summary's minimum and loss ignore the hold.
func TestHoldDoesNotLowerMOS(t *testing.T) {
	_, calleeAddr, _ := runPhone(t, Config{AutoAnswer: true,
		AutoAnswerAudio: func(CallStatus) (CallAudio, error) { return CallAudio{Source: audiotest.NewTone(440, 0.3)}, nil }})
	caller, _, events := runPhone(t, Config{})
	id, err := caller.Dial("", "sip:hold@"+calleeAddr, CallAudio{Source: audiotest.NewTone(660, 0.3)}, DialOptions{RingTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	waitCall(t, events, id, CallAnswered)
	next := func(what string) StreamStats {
		t.Helper()
		deadline := time.After(8 * time.Second)
		for {
			select {
			case ev := <-events:
				if m, ok := ev.(MediaStats); ok && m.CallID == id {
					t.Logf("%s: %+v", what, m.Stats)
					return m.Stats
				}
			case <-deadline:
				t.Fatalf("no stats %s", what)
			}
		}
	}
	before := next("talking")
	if err := caller.Hold(id); err != nil {
		t.Fatal(err)
	}
	held := next("on hold")
	if err := caller.Resume(id); err != nil {
		t.Fatal(err)
	}
	after := next("resumed")
	if err := caller.Hangup(id); err != nil {
		t.Fatal(err)
	}
	end := waitCall(t, events, id, CallEnded)
	t.Logf("summary %+v", end.Quality)

	if before.MOS < 4 {
		t.Fatalf("MOS %.2f before the hold, want a clean call's", before.MOS)
	}
	if held.Lost == before.Lost {
		t.Log("the jitter buffer counted nothing at the hold: the test shows less than it could")
	}
	if held.MOS != before.MOS {
		t.Errorf("MOS %.2f on hold (lost %d in all), want the MOS from before the hold, %.2f", held.MOS, held.Lost, before.MOS)
	}
	if after.MOS < 4 {
		t.Errorf("MOS %.2f after the resume, want a clean call's", after.MOS)
	}
	if q := end.Quality; q == nil || q.MOSMin < 4 || q.LossPct > 1 {
		t.Errorf("summary %+v: the hold counted as loss", q)
	}
}

// TestRatingCountsThePacketDuration: the same clean window rates lower when the far end sends
// 60 ms packets (media.Stats.PacketDuration) than 20 ms ones: its packets wait 60 ms to fill.
func TestRatingCountsThePacketDuration(t *testing.T) {
	st := media.Stats{PacketsReceived: 250, Jitter: 4 * time.Millisecond, RTT: 200 * time.Millisecond}
	var short, long callRating
	st.PacketDuration = 20 * time.Millisecond
	r20, _ := short.rate("PCMU", false, st, 40*time.Millisecond)
	st.PacketDuration, st.PacketsReceived = 60*time.Millisecond, 83
	r60, _ := long.rate("PCMU", false, st, 40*time.Millisecond)
	if r20 == 0 || r60 >= r20 {
		t.Fatalf("R %v with 60 ms packets, want below %v with 20 ms", r60, r20)
	}
}
