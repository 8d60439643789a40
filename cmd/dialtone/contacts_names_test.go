package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/phone/store"
)

// TestEventsShowContactNames: a contact's name goes where a display name went, in the human
// lines and as peer_name in NDJSON; a peer that is no contact prints as before.
func TestEventsShowContactNames(t *testing.T) {
	names := newContactNames([]store.Contact{{Name: "Bob Builder", URIs: []string{"sip:bob@example.com", "tel:+15550100"}}})
	if got := names.name("sip:+1-555-0100@provider.example;user=phone"); got != "Bob Builder" {
		t.Errorf("a provider's address with Bob's number: name %q", got)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		json      bool
		st        phone.CallStatus
		want, not string
	}{
		{false, phone.CallStatus{ID: "c1", State: phone.CallIncoming, Peer: "sip:bob@example.com", PeerName: "bob (sent)", Time: at},
			"incoming call from Bob Builder <sip:bob@example.com>", "bob (sent)"},
		{false, phone.CallStatus{ID: "c2", State: phone.CallCalling, Peer: "<sip:bob@EXAMPLE.com>", Time: at},
			"calling Bob Builder <", ""},
		{false, phone.CallStatus{ID: "c3", State: phone.CallIncoming, Peer: "sip:eve@example.com", PeerName: "Eve", Time: at},
			`incoming call from "Eve" <sip:eve@example.com>`, "Bob"},
		{true, phone.CallStatus{ID: "c4", State: phone.CallIncoming, Peer: "sip:bob@example.com", PeerName: "bob (sent)", Time: at},
			`"peer":"sip:bob@example.com","peer_name":"Bob Builder"`, ""},
		{true, phone.CallStatus{ID: "c5", State: phone.CallIncoming, Peer: "sip:eve@example.com", PeerName: "Eve", Time: at},
			`"peer_name":"Eve"`, ""},
	} {
		var b bytes.Buffer
		p := &printer{w: &b, json: tc.json, names: names}
		p.call(tc.st)
		if out := b.String(); !strings.Contains(out, tc.want) || tc.not != "" && strings.Contains(out, tc.not) {
			t.Errorf("%s: %q; want %q without %q", tc.st.ID, out, tc.want, tc.not)
		}
	}
	var b bytes.Buffer
	(&printer{w: &b, names: names}).message(phone.Message{Direction: phone.Incoming, Peer: "sip:bob@example.com", Text: "hi", Time: at})
	if !strings.Contains(b.String(), "message from Bob Builder <sip:bob@example.com>: hi") {
		t.Errorf("message: %q", b.String())
	}
	b.Reset()
	(&printer{w: &b}).message(phone.Message{Direction: phone.Incoming, Peer: "sip:bob@example.com", Text: "hi", Time: at})
	if !strings.Contains(b.String(), "message from sip:bob@example.com: hi") {
		t.Errorf("message without an address book: %q", b.String())
	}
}

// TestHistoryShowsContactNames: `dialtone history` lists a contact's calls and messages under
// its name, and --json has it as peer_name beside the peer.
func TestHistoryShowsContactNames(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	data := filepath.Join(dir, "data")
	s, err := store.Open(filepath.Join(data, "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t0 := time.Now().Add(-time.Hour)
	for _, c := range []store.Call{
		{CallID: "a", Direction: store.Outgoing, Peer: "sip:bob@example.com", Start: t0, Answer: t0, End: t0.Add(time.Minute), Code: 200, Reason: "OK"},
		{CallID: "b", Direction: store.Incoming, Peer: "sip:eve@example.com", PeerName: "Eve", Start: t0.Add(time.Minute), Code: 487},
	} {
		if _, err := s.AddCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddMessage(ctx, store.Message{Direction: store.Incoming, Peer: "sip:bob@example.com", Text: "hello", Time: t0.Add(2 * time.Minute), Status: store.StatusReceived}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddContact(ctx, store.Contact{Name: "Bob Builder", URIs: []string{"bob@example.com"}}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	code, out, errb := runArgs(t, "--data-dir", data, "history")
	if code != 0 {
		t.Fatalf("history: exit %d %q", code, errb)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "← Bob Builder") || !strings.Contains(lines[2], "call outgoing Bob Builder") ||
		strings.Contains(lines[2], "sip:bob") || !strings.Contains(lines[1], "sip:eve@example.com") {
		t.Errorf("history:\n%s", out)
	}
	code, out, _ = runArgs(t, "--data-dir", data, "--json", "history")
	var recs []record
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var r record
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		recs = append(recs, r)
	}
	if code != 0 || len(recs) != 3 || recs[0].PeerName != "Bob Builder" || recs[1].PeerName != "Eve" ||
		recs[2].PeerName != "Bob Builder" || recs[2].Peer != "sip:bob@example.com" {
		t.Errorf("history --json: %+v", recs)
	}
}

// TestContactTarget: a contact's name (any case) dials its first address; addresses, unknown
// names and an empty book pass through as typed.
func TestContactTarget(t *testing.T) {
	n := newContactNames([]store.Contact{
		{Name: "Bob Builder", URIs: []string{"sip:bob@example.com", "tel:+15550100"}},
		{Name: "alice", URIs: []string{"tel:+15550199"}},
	})
	for typed, want := range map[string]string{
		"Bob Builder":           "sip:bob@example.com",
		"  bob builder ":        "sip:bob@example.com",
		"ALICE":                 "tel:+15550199",
		"bob":                   "bob", // a user part: no contact is named just "bob"
		"sip:alice@example.com": "sip:alice@example.com",
		"alice@example.com":     "alice@example.com",
		"+15550100":             "+15550100",
	} {
		if got := n.target(typed); got != want {
			t.Errorf("target(%q) = %q, want %q", typed, got, want)
		}
	}
	var none *contactNames
	if got := none.target("alice"); got != "alice" {
		t.Errorf("no address book: target(alice) = %q", got)
	}
}
