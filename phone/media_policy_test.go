package phone

import (
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/codec"
)

// TestSRTPCallBetweenPhones: a caller that requires SRTP and a callee with the default
// policy (answers what it is offered) talk over SRTP: both answered events name the suite and
// the codec with its rate, and each side hears the other's tone through the encryption.
func TestSRTPCallBetweenPhones(t *testing.T) {
	callee, calleeAddr, calleeEv := runPhone(t, Config{})
	caller, _, callerEv := runPhone(t, Config{MediaEncryption: "sdes-required", Codecs: []string{"G722", "PCMU"}})
	callerHeard, calleeHeard := audiotest.NewRecorder(), audiotest.NewRecorder()
	id, err := caller.Dial("", "sip:x@"+calleeAddr, CallAudio{Source: audiotest.NewTone(6000, 0.5), Sink: callerHeard}, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	answerNext(t, callee, calleeEv, CallAudio{Source: audiotest.NewTone(1000, 0.5), Sink: calleeHeard})
	got := waitCall(t, callerEv, id, CallAnswered)
	if got.SRTP == "" || got.Codec != "G722" || got.CodecRate != 16000 {
		t.Fatalf("caller answered with %q at %d Hz, SRTP %q; want G722 at 16000 over SRTP", got.Codec, got.CodecRate, got.SRTP)
	}
	time.Sleep(1500 * time.Millisecond)
	// 6 kHz only survives a wideband codec: G.722 carried it, inside SRTP.
	if found, level, _ := audiotest.DetectTone(calleeHeard.Samples(), calleeHeard.Rate(), 6000); !found {
		t.Errorf("the callee did not hear the caller's 6 kHz tone over SRTP G.722 (level %.1f dBFS, rate %d)", level, calleeHeard.Rate())
	}
	if found, level, _ := audiotest.DetectTone(callerHeard.Samples(), callerHeard.Rate(), 1000); !found {
		t.Errorf("the caller did not hear the callee's 1 kHz tone over SRTP (level %.1f dBFS)", level)
	}
	if err := caller.Hangup(id); err != nil {
		t.Fatal(err)
	}
	waitCall(t, callerEv, id, CallEnded)
}

// TestSRTPPolicyMismatch: a caller requiring SRTP and a callee refusing it (none) fail as
// insecure on both sides: the callee answers 488 with a Warning before ringing, the caller's
// call ends with FailureInsecure; and the other way round (a plain offer to a callee that
// requires SRTP) likewise.
func TestSRTPPolicyMismatch(t *testing.T) {
	for _, c := range []struct{ caller, callee string }{{"sdes-required", "none"}, {"none", "sdes-required"}} {
		t.Run(c.caller+"_to_"+c.callee, func(t *testing.T) {
			_, calleeAddr, calleeEv := runPhone(t, Config{MediaEncryption: c.callee})
			caller, _, callerEv := runPhone(t, Config{MediaEncryption: c.caller})
			id, err := caller.Dial("", "sip:x@"+calleeAddr, CallAudio{}, DialOptions{RingTimeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			end := waitCall(t, callerEv, id, CallEnded)
			if end.Code != 488 {
				t.Errorf("caller: ended %d %q, want 488", end.Code, end.Reason)
			}
			if c.caller == "sdes-required" && end.Failure != FailureInsecure {
				t.Errorf("caller requiring SRTP: failure %v, want insecure", end.Failure)
			}
			refused := waitCall(t, calleeEv, "", CallEnded)
			if refused.Failure != FailureInsecure || refused.Code != 488 || refused.Direction != Incoming {
				t.Errorf("callee: %+v, want an incoming call ended 488 as insecure", refused)
			}
		})
	}
}

// TestCodecPreferenceAndRates: each codec this build has, as the only one both sides allow,
// is the one negotiated, reported with its audio rate, and carries a tone both ways.
func TestCodecPreferenceAndRates(t *testing.T) {
	for _, cd := range codec.All() {
		t.Run(cd.Name(), func(t *testing.T) {
			callee, calleeAddr, calleeEv := runPhone(t, Config{Codecs: []string{cd.Name()}})
			caller, _, callerEv := runPhone(t, Config{})
			heard := audiotest.NewRecorder()
			id, err := caller.Dial("", "sip:x@"+calleeAddr, CallAudio{Sink: heard}, DialOptions{})
			if err != nil {
				t.Fatal(err)
			}
			answerNext(t, callee, calleeEv, CallAudio{Source: audiotest.NewTone(1000, 0.5)})
			got := waitCall(t, callerEv, id, CallAnswered)
			if got.Codec != cd.Name() || got.CodecRate != cd.SampleRate() || got.SRTP != "" {
				t.Fatalf("answered %q at %d Hz (SRTP %q), want %s at %d plain", got.Codec, got.CodecRate, got.SRTP, cd.Name(), cd.SampleRate())
			}
			time.Sleep(time.Second)
			if found, level, _ := audiotest.DetectTone(heard.Samples(), heard.Rate(), 1000); !found || heard.Rate() != cd.SampleRate() {
				t.Errorf("%s: tone found %v (%.1f dBFS) in a recording at %d Hz", cd.Name(), found, level, heard.Rate())
			}
			if err := caller.Hangup(id); err != nil {
				t.Fatal(err)
			}
			waitCall(t, callerEv, id, CallEnded)
		})
	}
}

// TestPtimeIsChecked: a packet duration to ask for that is not 10 to 60 ms in tens, for the
// phone or an account, is refused by New, before any call could carry it.
func TestPtimeIsChecked(t *testing.T) {
	if _, err := New(Config{Ptime: 25}); err == nil {
		t.Error("New accepted Ptime 25")
	}
	acc := Account{Name: "a", AOR: "sip:a@127.0.0.1", Ptime: 70}
	if _, err := New(Config{Accounts: []Account{acc}}); err == nil {
		t.Error("New accepted an account with Ptime 70")
	}
	acc.Ptime = 40
	if _, err := New(Config{Ptime: 30, Accounts: []Account{acc}}); err != nil {
		t.Errorf("New refused ptimes 30 and 40: %v", err)
	}
}
