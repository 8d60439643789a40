package interop

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/interop/peers"
	"github.com/dialtone/dialtone/phone"
)

// Transfer against real baresips, with dialtone's core (phone.New) in the test process: the
// `--stdin` front end that would type "transfer sip:..." is another piece of work, and the
// core is what does the SIP.

// xferPhone runs a phone without accounts on 127.0.0.1 for the test's life.
func xferPhone(t *testing.T) (*phone.Phone, <-chan phone.Event) {
	t.Helper()
	p, err := phone.New(phone.Config{ListenAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	events := p.Subscribe(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	select {
	case <-p.Ready():
	case err := <-done:
		cancel()
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("phone not ready after 10 s")
	}
	t.Cleanup(func() { cancel(); <-done })
	return p, events
}

// waitPhone returns the first event that match accepts, failing the test after timeout.
func waitPhone(t *testing.T, events <-chan phone.Event, what string, timeout time.Duration, match func(phone.Event) bool) phone.Event {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("phone stopped while waiting for %s", what)
			}
			if match(ev) {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s within %v", what, timeout)
		}
	}
}

func callState(id string, st phone.CallState) func(phone.Event) bool {
	return func(ev phone.Event) bool {
		s, ok := ev.(phone.CallStatus)
		return ok && (id == "" || s.ID == id) && s.State == st
	}
}

// TestTransferBaresipToBaresip: dialtone, in a call with baresip A, transfers A to baresip B
// (blind, REFER). A calls B, dialtone sees the NOTIFYs' progress up to 200 and hangs up its
// call; A and B then talk, and each one's recording holds the other's tone.
func TestTransferBaresipToBaresip(t *testing.T) {
	t.Parallel()
	a := peers.StartBaresip(t, peers.BaresipOptions{User: "a", AutoAnswer: true, ToneHz: 700})
	b := peers.StartBaresip(t, peers.BaresipOptions{User: "b", AutoAnswer: true, ToneHz: 1100})
	p, events := xferPhone(t)
	heard := audiotest.NewRecorder()
	id, err := p.Dial("", a.AOR(), phone.CallAudio{Source: audiotest.NewTone(1300, 0.5), Sink: heard}, phone.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitPhone(t, events, "answered", 15*time.Second, callState(id, phone.CallAnswered))
	if _, err := a.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, a.Log())
	}
	time.Sleep(2 * time.Second) // the call before the transfer, and a new second for A's next recording
	if err := p.Transfer(id, b.AOR()); err != nil {
		t.Fatalf("transfer: %v\nA:\n%s", err, a.Log())
	}
	var progress []int
	fin := waitPhone(t, events, "final transfer progress", 30*time.Second, func(ev phone.Event) bool {
		tp, ok := ev.(phone.TransferProgress)
		if ok {
			progress = append(progress, tp.Code)
		}
		return ok && tp.Final
	}).(phone.TransferProgress)
	if fin.Code != 200 || fin.CallID != id {
		t.Fatalf("transfer ended %d %q on %s (progress %v)\nA:\n%s", fin.Code, fin.Reason, fin.CallID, progress, a.Log())
	}
	t.Logf("transfer progress %v", progress)
	end := waitPhone(t, events, "our call's end", 10*time.Second, callState(id, phone.CallEnded)).(phone.CallStatus)
	if end.By != "local" {
		t.Errorf("our call ended by %s, want local (our BYE after the 200 NOTIFY)", end.By)
	}
	if found, level, snr := audiotest.DetectTone(heard.Samples(), 8000, 700); !found {
		t.Errorf("dialtone did not hear A before the transfer (level %.1f, snr %.1f)", level, snr)
	}
	if _, err := b.WaitEvent("CALL_ESTABLISHED", 15*time.Second); err != nil {
		t.Fatalf("B: %v\nA:\n%s\nB:\n%s", err, a.Log(), b.Log())
	}
	time.Sleep(4 * time.Second) // A and B talk: audio flows meanwhile
	if err := b.Hangup(); err != nil {
		t.Fatal(err)
	}
	for _, x := range []*peers.Baresip{a, b} {
		if _, err := x.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil { // both of A's calls end
		t.Fatal(err)
	}
	assertBaresipHeard(t, b, 700, 1) // B heard A
	recs, err := a.Recordings()
	if err != nil || len(recs) < 2 {
		t.Fatalf("A's recordings %v %v: want the call with dialtone and the one with B", recs, err)
	}
	if s := toneSeconds(t, recs[len(recs)-1], 1100); s < minToneSeconds {
		t.Fatalf("A heard B's 1100 Hz for only %.2f s", s)
	}
	if !strings.Contains(a.Log(), "REFER") {
		t.Error("A's SIP trace shows no REFER")
	}
}

// TestBaresipTransfersDialtone: baresip A, in a call with dialtone, transfers dialtone to
// baresip B (A's "transfer" command sends REFER). Dialtone accepts, calls B, tells A how it
// goes (NOTIFY sipfrag) and ends the call with A once B answers; dialtone and B hear each other.
func TestBaresipTransfersDialtone(t *testing.T) {
	t.Parallel()
	a := peers.StartBaresip(t, peers.BaresipOptions{User: "a", ToneHz: 700})
	b := peers.StartBaresip(t, peers.BaresipOptions{User: "b", AutoAnswer: true, ToneHz: 1100})
	p, events := xferPhone(t)
	if err := a.Dial("sip:dialtone@" + p.SIPAddr()); err != nil {
		t.Fatal(err)
	}
	in := waitPhone(t, events, "incoming", 15*time.Second, callState("", phone.CallIncoming)).(phone.CallStatus)
	heard := audiotest.NewRecorder()
	if err := p.Answer(in.ID, phone.CallAudio{Source: audiotest.NewTone(1300, 0.5), Sink: heard}); err != nil {
		t.Fatal(err)
	}
	waitPhone(t, events, "answered", 10*time.Second, callState(in.ID, phone.CallAnswered))
	if _, err := a.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, a.Log())
	}
	time.Sleep(2 * time.Second)
	before := len(heard.Samples())
	if _, err := a.Command("transfer", b.AOR()); err != nil {
		t.Fatalf("baresip transfer: %v\n%s", err, a.Log())
	}
	out := waitPhone(t, events, "the transfer's call", 10*time.Second, func(ev phone.Event) bool {
		s, ok := ev.(phone.CallStatus)
		return ok && s.ID != in.ID && s.Direction == phone.Outgoing
	}).(phone.CallStatus)
	if !strings.Contains(out.Peer, b.AOR()[len("sip:"):]) {
		t.Errorf("the new call goes to %s, want %s", out.Peer, b.AOR())
	}
	waitPhone(t, events, "the new call answered", 15*time.Second, callState(out.ID, phone.CallAnswered))
	old := waitPhone(t, events, "the old call's end", 10*time.Second, callState(in.ID, phone.CallEnded)).(phone.CallStatus)
	t.Logf("old call ended by %s (%d %s)", old.By, old.Code, old.Reason)
	if _, err := b.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("B: %v\n%s", err, b.Log())
	}
	if _, err := a.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("A's call did not end: %v\n%s", err, a.Log())
	}
	time.Sleep(4 * time.Second) // dialtone and B talk
	if err := p.Hangup(out.ID); err != nil {
		t.Fatal(err)
	}
	waitPhone(t, events, "the new call's end", 10*time.Second, callState(out.ID, phone.CallEnded))
	if _, err := b.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	log := a.Log()
	for _, want := range []string{"REFER", "NOTIFY", "message/sipfrag", "SIP/2.0 200 OK"} {
		if !strings.Contains(log, want) {
			t.Errorf("A's SIP trace lacks %q", want)
		}
	}
	after := heard.Samples()[before:]
	if found, level, snr := audiotest.DetectTone(after, 8000, 1100); !found {
		t.Errorf("dialtone did not hear B after the transfer (level %.1f, snr %.1f)", level, snr)
	}
	assertBaresipHeard(t, b, 1300, 1) // B heard dialtone
}
