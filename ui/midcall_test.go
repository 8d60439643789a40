package ui

import (
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/dialtone/dialtone/phone"
)

// callRow is the calls pane's line for the call with peer text, "" when there is none.
func callRow(screen, needle string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, needle) && (strings.Contains(l, "←") || strings.Contains(l, "→")) {
			return l
		}
	}
	return ""
}

func TestHoldAndResumeSelectedCall(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(answered("c1", t0))
	d.keys("H")
	wantCalls(t, d.ph, "hold c1")
	s := d.screen()
	contains(t, s, "call on hold")
	if row := callRow(s, "Bob"); !strings.Contains(row, "holding") {
		t.Errorf("the held call's row is %q, want it to say holding", row)
	}
	// While held, digits are not DTMF for it: they start dialling instead.
	d.keys("space")
	wantCalls(t, d.ph, "hold c1", "resume c1")
	if row := callRow(d.screen(), "Bob"); !strings.Contains(row, "answered") {
		t.Errorf("after resume the row is %q", row)
	}
}

func TestHoldNeedsAnAnsweredCall(t *testing.T) {
	d := newDriver(t, Options{})
	d.keys("H", "x", "T") // no call at all: nothing happens
	d.send(incoming("c1"))
	d.keys("H", "x", "T") // a ringing call is answered or rejected, not held or transferred
	wantCalls(t, d.ph)
	if d.m.transfer.Active() {
		t.Error("T opened a transfer for a ringing call")
	}
	if s := d.screen(); strings.Contains(s, "hold/resume") || strings.Contains(s, "T transfer") {
		t.Errorf("the help bar offers hold or transfer for a ringing call:\n%s", s)
	}
}

func TestHoldErrorShown(t *testing.T) {
	d := newDriver(t, Options{})
	d.ph.holdErr = errors.New("not available yet")
	d.send(answered("c1", t0))
	d.keys("H")
	contains(t, d.screen(), "✗ hold c1: not available yet")
	if row := callRow(d.screen(), "Bob"); strings.Contains(row, "holding") {
		t.Errorf("a failed hold shows the call held: %q", row)
	}
}

// A second call rings while one is answered: the prompt says it is a waiting call, and
// answering it is the core's business (it holds the first).
func TestCallWaitingPrompt(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(answered("c1", t0))
	d.send(incoming("c2"))
	contains(t, d.screen(), "Call waiting on office", "a answer (holds the current call)", "r reject")
	d.keys("a")
	wantCalls(t, d.ph, "answer c2")
}

func TestSwapBetweenTwoCalls(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(answered("c1", t0))
	d.send(answered("c2", t0))
	// A new call does not take the selection: select c2, then hold it.
	d.keys("down", "H")
	d.keys("x") // talk to c2 again, holding c1
	wantCalls(t, d.ph, "hold c2", "hold c1", "resume c2")
	contains(t, d.screen(), "swapped calls")
	calls := d.m.calls.Calls()
	if !calls[0].Holding() || calls[1].Holding() {
		t.Errorf("after the swap c1 holding=%v, c2 holding=%v; want c1 held only", calls[0].Holding(), calls[1].Holding())
	}
	// Resuming the held call with space (selected with ↑) is the same swap.
	d.keys("up", "space")
	wantCalls(t, d.ph, "hold c2", "hold c1", "resume c2", "hold c2", "resume c1")
	if sel, _ := d.m.calls.Selected(); sel.Status.ID != "c1" {
		t.Errorf("selected %s after resuming c1", sel.Status.ID)
	}
	// Hang up one: the other stays.
	d.keys("h")
	d.send(ended(answered("c1", t0), t0, "local"))
	if d.m.calls.Len() != 1 {
		t.Errorf("%d calls left", d.m.calls.Len())
	}
}

func TestSwapWithoutHeldCall(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(answered("c1", t0))
	d.keys("x")
	wantCalls(t, d.ph)
	if strings.Contains(d.screen(), "swap calls") {
		t.Error("the help bar offers a swap with no call on hold")
	}
}

func TestBlindTransfer(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(answered("c1", t0))
	d.keys("T")
	contains(t, d.screen(), "Transfer Bob <bob@example.org> to ❯", "enter transfer", "esc leave")
	// Letters are text in the transfer line: q does not quit, h does not hang up.
	d.typeText("sip:quinn@example.com")
	d.keys("enter")
	wantCalls(t, d.ph, "transfer c1 sip:quinn@example.com")
	if d.quit || d.m.transfer.Active() {
		t.Errorf("quit=%v, transfer line open=%v after Enter", d.quit, d.m.transfer.Active())
	}
	contains(t, d.screen(), "transfer accepted by the far end")
}

func TestTransferCancelAndEmpty(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(answered("c1", t0))
	d.keys("T", "enter") // nothing typed: nothing sent, the line stays
	if !d.m.transfer.Active() {
		t.Fatal("Enter on an empty target closed the transfer line")
	}
	d.keys("esc")
	if d.m.transfer.Active() {
		t.Error("esc did not close the transfer line")
	}
	// The call ends while its transfer is being typed: the line closes and says why.
	d.keys("T")
	d.typeText("sip:x")
	d.send(ended(answered("c1", t0), t0, "remote"))
	if d.m.transfer.Active() {
		t.Error("the transfer line outlived its call")
	}
	contains(t, d.screen(), "transfer: the call ended")
	wantCalls(t, d.ph)
}

func TestAttendedTransferPicksAnotherCall(t *testing.T) {
	d := newDriver(t, Options{})
	c2 := answered("c2", t0)
	c2.Peer, c2.PeerName = "sip:carol@example.com", "Carol"
	d.send(answered("c1", t0))
	d.send(c2)
	d.keys("up", "T", "down")
	contains(t, d.screen(), "Transfer Bob <bob@example.org> to ⇄ Carol <carol@example.com> (attended)", "↑/↓ pick a call")
	// ↓ again goes back to the typed target, ↑ to the call.
	d.keys("down")
	if _, ok := d.m.transfer.Picked(); ok {
		t.Error("the second ↓ kept a call picked")
	}
	d.keys("up", "enter")
	wantCalls(t, d.ph, "transfer-to c1 c2")
}

func TestDoNotDisturbToggle(t *testing.T) {
	d := newDriver(t, Options{})
	d.keys("D")
	wantCalls(t, d.ph, "dnd true")
	s := d.screen()
	contains(t, s, "⊘ do not disturb", "new calls are turned away")
	d.keys("D")
	wantCalls(t, d.ph, "dnd true", "dnd false")
	if strings.Contains(d.screen(), "⊘ do not disturb") {
		t.Error("the status bar still shows do not disturb")
	}
}

// The phone's setting is read at start: a phone started with DND on shows it.
func TestDoNotDisturbReadAtStart(t *testing.T) {
	ph := newFakePhone("office")
	ph.dnd = true
	d := newDriver(t, Options{Phone: ph})
	d.exec(d.m.readDND())
	contains(t, d.screen(), "⊘ do not disturb")
}

func TestHelpOverlayListsMidcallKeys(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(answered("c1", t0))
	// At 80 columns the bar keeps hold, help and quit and leaves transfer to the overlay.
	bar := d.screen()[strings.LastIndex(d.screen(), "\n"):]
	contains(t, bar, "H/space hold/resume", "? help", "q quit")
	d.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	bar = d.screen()[strings.LastIndex(d.screen(), "\n"):]
	contains(t, bar, "H/space hold/resume", "T transfer", "? help", "q quit")
	d.send(keyMsg("?"))
	// The overlay aligns keys and descriptions in columns: compare with single spaces.
	contains(t, strings.Join(strings.Fields(d.screen()), " "), "H/space hold/resume", "x swap calls", "T transfer", "↑/↓ pick a call (attended)", "D do not disturb")
}

func TestTransferProgressShown(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(answered("c1", t0))
	d.send(phone.TransferProgress{Time: t0, CallID: "c1", Code: 180, Reason: "Ringing"})
	contains(t, d.screen(), "transfer: 180 Ringing")
	d.send(phone.TransferProgress{Time: t0, CallID: "c1", Code: 486, Reason: "Busy Here", Final: true})
	contains(t, d.screen(), "✗ transfer failed: 486 Busy Here; the call stays")
	d.send(phone.TransferProgress{Time: t0, CallID: "c1", Code: 200, Reason: "OK", Final: true})
	contains(t, d.screen(), "transferred (200 OK)")
	d.keys("tab", "tab", "tab") // the log pane keeps every step
	contains(t, d.screen(), "call c1: transfer 180 Ringing", "call c1: transfer 486 Busy Here")
}

// Dialling while talking holds the call talked to first; a failed hold dials nothing.
func TestDialHoldsTheCurrentCall(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(answered("c1", t0))
	d.keys("d")
	d.typeText("sip:carol@example.com")
	d.keys("enter")
	wantCalls(t, d.ph, "hold c1", "dial office sip:carol@example.com")
	d.ph.holdErr = errors.New("call c1: not answered, nothing to hold")
	d.send(answered("c1", t0)) // the core's status: c1 talks again
	d.keys("d")
	d.typeText("sip:dave@example.com")
	d.keys("enter")
	wantCalls(t, d.ph, "hold c1", "dial office sip:carol@example.com", "hold c1")
	contains(t, d.screen(), "✗ dial sip:dave@example.com: hold call c1 first")
}

// A dial that fails after the call talked to went on hold resumes that call: it waited on
// hold until someone noticed.
func TestFailedDialResumesTheHeldCall(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(answered("c1", t0))
	d.keys("d")
	d.typeText("bad")
	d.keys("enter")
	wantCalls(t, d.ph, "hold c1", "dial office bad", "resume c1")
	contains(t, d.screen(), "✗ dial bad:")
}

// The REFER's 202 and the first NOTIFY race: progress shown first is not overwritten by the
// older news that the REFER was accepted.
func TestTransferResultAfterProgress(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(answered("c1", t0))
	d.keys("T")
	d.typeText("sip:quinn@example.com")
	_, cmd := d.m.Update(keyMsg("enter")) // the BlindMsg, not yet delivered
	d.send(cmd())                         // delivered: the Transfer command runs and reports
	wantCalls(t, d.ph, "transfer c1 sip:quinn@example.com")
	contains(t, d.screen(), "transfer accepted by the far end")
	d.keys("T")
	d.typeText("sip:rob@example.com")
	_, cmd = d.m.Update(keyMsg("enter"))
	_, run := d.m.Update(cmd()) // the Transfer command, not yet run
	d.send(phone.TransferProgress{Time: t0, CallID: "c1", Code: 100, Reason: "Trying"})
	d.send(run())
	contains(t, d.screen(), "transfer: 100 Trying")
}

// TestRedirectShown: an outgoing call that a 3xx moved shows where it went, on the notice line
// and in the log pane.
func TestRedirectShown(t *testing.T) {
	d := newDriver(t, Options{})
	d.send(phone.CallRedirected{Time: t0, CallID: "c1", From: "sip:fwd-bob@example.com", To: "sip:bob@example.com", Code: 302, Reason: "Moved Temporarily"})
	contains(t, d.screen(), "redirected to sip:bob@example.com")
	d.keys("tab", "tab", "tab")
	contains(t, d.screen(), "call c1: redirected to sip:bob@example.com (302 Moved")
}
