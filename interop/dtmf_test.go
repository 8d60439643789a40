package interop

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// digitsOf joins the digits of the dtmf events, in order.
func digitsOf(evs []event) string {
	var b strings.Builder
	for _, e := range evs {
		if e.name() == "dtmf" {
			b.WriteString(e.str("digit"))
		}
	}
	return b.String()
}

// baresipDigits joins the keys of baresip's CALL_DTMF_START events, in order.
func baresipDigits(b *peers.Baresip) string {
	var s strings.Builder
	for _, ev := range b.Events() {
		if ev.Type == "CALL_DTMF_START" {
			s.WriteString(ev.Param)
		}
	}
	return s.String()
}

// TestDTMFToBaresip: dialtone calls an auto-answering baresip with --dtmf; baresip recognises
// every digit of the RFC 4733 events once, in order (its CALL_DTMF_START events and its
// "received DTMF" log lines), the ',' pause included.
func TestDTMFToBaresip(t *testing.T) {
	t.Parallel()
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", AutoAnswer: true, ToneHz: 700})
	const digits = "159#*0,D2"
	code, evs, p := runDialtone(t, 40*time.Second, nil, "call", bob.AOR(), "--json", "--audio", "null",
		"--dtmf", digits, "--duration", "4s")
	if code != 0 {
		t.Fatalf("exit %d\n%s\nbaresip:\n%s", code, p.transcript(), bob.Log())
	}
	if _, ok := findEvent(evs, "answered"); !ok {
		t.Fatalf("no answered event: %v", names(evs))
	}
	want := strings.ReplaceAll(digits, ",", "")
	eventually(t, 5*time.Second, "baresip received the digits", func() (bool, string) {
		got := baresipDigits(bob)
		return got == want, "CALL_DTMF_START keys " + got + ", want " + want
	})
	// Its audio log: each event starts once and ends once (the End repeats are absorbed).
	var started, ended strings.Builder
	for _, m := range regexp.MustCompile(`received event: '(.)' \(end=([01])\)`).FindAllStringSubmatch(bob.Log(), -1) {
		map[string]*strings.Builder{"0": &started, "1": &ended}[m[2]].WriteString(m[1])
	}
	if started.String() != want || ended.String() != want {
		t.Errorf("baresip's log: events started %q ended %q, want %q each", started.String(), ended.String(), want)
	}
}

// TestDTMFAnswerToBaresip: baresip calls `dialtone answer --dtmf`; after answering, dialtone
// sends the digits and baresip recognises them. Baresip then sends digits itself (its
// sndcode command, RFC 4733) and dialtone reports them as dtmf events.
func TestDTMFAnswerToBaresip(t *testing.T) {
	t.Parallel()
	alice := startDialtone(t, nil, "answer", "--listen", "127.0.0.1:0", "--auto", "--json", "--count", "1",
		"--audio", "null", "--dtmf", "42")
	addr := alice.waitEvent("listening", 10*time.Second).str("addr")
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", ToneHz: 600})
	if err := bob.Dial("sip:alice@" + addr); err != nil {
		t.Fatal(err)
	}
	alice.waitEvent("answered", 15*time.Second)
	if _, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("baresip: %v\n%s", err, bob.Log())
	}
	eventually(t, 5*time.Second, "baresip received 42", func() (bool, string) {
		got := baresipDigits(bob)
		return got == "42", "CALL_DTMF_START keys " + got
	})
	if _, err := bob.Command("sndcode", "7*9"); err != nil {
		t.Fatalf("baresip sndcode: %v", err)
	}
	var got strings.Builder
	for got.Len() < 3 {
		got.WriteString(alice.waitEvent("dtmf", 5*time.Second).str("digit"))
	}
	if got.String() != "7*9" {
		t.Errorf("dialtone reported %q from baresip, want 7*9", got.String())
	}
	if err := bob.Hangup(); err != nil {
		t.Fatal(err)
	}
	if code, _ := alice.wait(20 * time.Second); code != 0 {
		t.Fatalf("answer exit %d\n%s", code, alice.transcript())
	}
}

// TestDTMFSippEcho: sipp answers with telephone-event as payload type 96 (not dialtone's 101)
// and echoes every RTP packet; dialtone hears its own RFC 4733 digits come back as dtmf events,
// each once and in order: the events were sent with the negotiated type, one timestamp per
// digit, and the End repeats did not double any digit.
func TestDTMFSippEcho(t *testing.T) {
	t.Parallel()
	s := peers.StartSippUAS(t, peers.SippOptions{Scenario: "testdata/sipp_uas_echo_te96.xml", RTPEcho: true})
	const digits = "0123456789*#ABCD"
	code, evs, p := runDialtone(t, 30*time.Second, nil, "call", s.URI("echo"), "--json", "--audio", "null",
		"--dtmf", digits, "--duration", "6s")
	if code != 0 {
		t.Fatalf("exit %d\n%s\nsipp:\n%s", code, p.transcript(), s.Log())
	}
	if got := digitsOf(evs); got != digits {
		t.Fatalf("echoed digits %q, want %q\n%s", got, digits, p.transcript())
	}
	if c, err := s.Wait(10 * time.Second); err != nil || c != 0 {
		t.Fatalf("sipp exit %d (%v)\n%s", c, err, s.Messages())
	}
}

// TestDTMFByInfoToSipp: sipp answers without telephone-event (a PBX set to DTMF by SIP INFO);
// dialtone's --dtmf digits go as INFO requests with application/dtmf-relay bodies, 5 then #,
// which the scenario checks (sipp fails otherwise). Before, no digit was sent at all.
func TestDTMFByInfoToSipp(t *testing.T) {
	t.Parallel()
	s := peers.StartSippUAS(t, peers.SippOptions{Scenario: "testdata/sipp_uas_takes_info_dtmf.xml"})
	code, _, p := runDialtone(t, 30*time.Second, nil, "call", s.URI("ivr"), "--json", "--audio", "null",
		"--dtmf", "5#", "--duration", "3s")
	if code != 0 {
		t.Fatalf("exit %d\n%s\nsipp:\n%s", code, p.transcript(), s.Messages())
	}
	if strings.Contains(p.transcript(), "--dtmf") {
		t.Fatalf("--dtmf reported a failure:\n%s", p.transcript())
	}
	if c, err := s.Wait(10 * time.Second); err != nil || c != 0 {
		t.Fatalf("sipp exit %d (%v): the INFOs were not 5 then # as dtmf-relay\n%s", c, err, s.Messages())
	}
}

// TestDTMFInfoFromSipp: sipp (no telephone-event) sends DTMF by SIP INFO in the dialog;
// dialtone answers 200 and reports each digit as a dtmf event; a text/plain INFO gets 415
// with Accept, a dtmf-relay body without Signal 400, an INFO for no dialog 481 (the
// scenario checks each response); the call goes on and ends normally.
func TestDTMFInfoFromSipp(t *testing.T) {
	t.Parallel()
	s := peers.StartSippUAS(t, peers.SippOptions{Scenario: "testdata/sipp_uas_info_dtmf.xml"})
	code, evs, p := runDialtone(t, 30*time.Second, nil, "call", s.URI("ivr"), "--json", "--audio", "null")
	if code != 0 {
		t.Fatalf("exit %d\n%s\nsipp:\n%s", code, p.transcript(), s.Messages())
	}
	if got := digitsOf(evs); got != "5##" {
		t.Fatalf("INFO digits %q, want 5##\n%s", got, p.transcript())
	}
	if h, _ := findEvent(evs, "hangup"); h.str("by") != "remote" {
		t.Errorf("hangup %v, want by remote", h)
	}
	if c, err := s.Wait(10 * time.Second); err != nil || c != 0 {
		t.Fatalf("sipp exit %d (%v): a response was not the expected one\n%s", c, err, s.Messages())
	}
}
