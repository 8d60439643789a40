package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone"
)

// TestRedirectedCallPrintsItsStatesOnce: a redirect republishes the call's state with the new
// peer; the "redirected" line says that, so "calling" is not printed twice, while a new state
// (ringing at the new target) and the end still are.
func TestRedirectedCallPrintsItsStatesOnce(t *testing.T) {
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	var out bytes.Buffer
	p := &printer{w: &out, json: true}
	s := phone.CallStatus{ID: "c1", Time: at, State: phone.CallCalling, Peer: "sip:fwd-bob@example.com"}
	p.call(s)
	p.redirected(phone.CallRedirected{Time: at, CallID: "c1", From: s.Peer, To: "sip:bob@example.com", Code: 302, Reason: "Moved Temporarily"})
	s.Peer = "sip:bob@example.com"
	p.call(s)
	s.State = phone.CallRinging
	p.call(s)
	s.State = phone.CallEnded
	p.call(s)
	if got := eventNames(t, out.String()); got != "calling redirected ringing hangup" {
		t.Fatalf("printed %q", got)
	}
}

// TestRedirectWhileRingingPrintsNoSecondCalling: a call that rang at the first target and was
// then redirected prints "redirected", not "calling" again (as when it was still calling),
// then the new target's ringing.
func TestRedirectWhileRingingPrintsNoSecondCalling(t *testing.T) {
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	var out bytes.Buffer
	p := &printer{w: &out, json: true}
	s := phone.CallStatus{ID: "c1", Time: at, State: phone.CallCalling, Peer: "sip:fwd-bob@example.com"}
	p.call(s)
	s.State = phone.CallRinging
	p.call(s)
	// The phone publishes the event, then the status with the new peer (redirect.go).
	p.redirected(phone.CallRedirected{Time: at, CallID: "c1", From: s.Peer, To: "sip:bob@example.com", Code: 302})
	s.Peer, s.State = "sip:bob@example.com", phone.CallCalling
	p.call(s)
	s.State = phone.CallRinging
	p.call(s)
	if got := eventNames(t, out.String()); got != "calling ringing redirected ringing" {
		t.Fatalf("printed %q", got)
	}
}

// eventNames is the "event" of each NDJSON line in out, space-separated.
func eventNames(t *testing.T, out string) string {
	t.Helper()
	var events []string
	for _, l := range jsonLines(t, out) {
		events = append(events, l["event"].(string))
	}
	return strings.Join(events, " ")
}
