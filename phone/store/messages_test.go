package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestMessageRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newMemory(t)
	texts := []string{"héllo ✓", "👋🏽 👨‍👩‍👧 family", "日本語のテキスト", "", "line1\nline2\ttab 'quote' \"dq\" ; DROP TABLE messages; --"}
	var want []Message
	for i, text := range texts {
		m := Message{Direction: Incoming, Account: "acc ✓", Peer: "sip:Bob@example.com", Text: text,
			Time: at(time.Duration(i) * time.Second), Status: StatusReceived, SIPCallID: "cid-" + text, CSeq: 4294967295 - uint32(i)}
		m.ID = addMsg(t, s, m)
		want = append(want, m)
	}
	slices.Reverse(want) // newest first
	got, err := s.Messages(ctx, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Messages:\n got %+v\nwant %+v", got, want)
	}
}

func TestAddMessageValidates(t *testing.T) {
	s := newMemory(t)
	ctx := context.Background()
	for name, m := range map[string]Message{
		"zero time":     {Direction: Incoming, Peer: "sip:a@b", Status: StatusReceived},
		"bad direction": {Direction: "in", Peer: "sip:a@b", Status: StatusReceived, Time: t0},
		"bad status":    {Direction: Incoming, Peer: "sip:a@b", Status: "delivered", Time: t0},
	} {
		if _, err := s.AddMessage(ctx, m); err == nil {
			t.Errorf("%s: AddMessage accepted %+v", name, m)
		}
	}
}

func TestUpdateMessageStatus(t *testing.T) {
	ctx := context.Background()
	s := newMemory(t)
	id := addMsg(t, s, outgoing("sip:bob@example.com", "hi", t0))
	if err := s.UpdateMessageStatus(ctx, id, StatusSent, 202); err != nil {
		t.Fatal(err)
	}
	got, err := s.Messages(ctx, Query{})
	if err != nil || len(got) != 1 || got[0].Status != StatusSent || got[0].Code != 202 {
		t.Fatalf("after update: %+v, %v", got, err)
	}
	if err := s.UpdateMessageStatus(ctx, id+100, StatusFailed, 408); !errors.Is(err, ErrNotFound) {
		t.Errorf("updating a missing message: %v; want ErrNotFound", err)
	}
	if err := s.UpdateMessageStatus(ctx, id, "lost", 0); err == nil {
		t.Error("unknown status accepted")
	}
}

func TestMessageSeenAndDuplicates(t *testing.T) {
	ctx := context.Background()
	s := newMemory(t)
	seen := func(callID string, cseq uint32, from string) bool {
		t.Helper()
		m := incoming(from, "hi", at(1e9)) // the stored one's text, a second later
		m.SIPCallID, m.CSeq = callID, cseq
		ok, err := s.MessageSeen(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if seen("c1", 1, "sip:bob@example.com") {
		t.Fatal("seen before anything was stored")
	}
	m := incoming("sip:bob@example.com", "hi", t0)
	m.SIPCallID, m.CSeq = "c1", 1
	id := addMsg(t, s, m)

	if !seen("c1", 1, `"Bob" <sip:bob@EXAMPLE.COM;transport=udp>;tag=9`) {
		t.Error("not seen with the same key, sender spelled differently")
	}
	for _, k := range []struct {
		callID string
		cseq   uint32
		from   string
	}{{"c1", 2, "sip:bob@example.com"}, {"c2", 1, "sip:bob@example.com"}, {"c1", 1, "sip:Bob@example.com"}, {"", 0, "sip:bob@example.com"}} {
		if seen(k.callID, k.cseq, k.from) {
			t.Errorf("seen %+v, which differs from the stored key", k)
		}
	}

	// A retransmission that races past MessageSeen is still not stored twice.
	dupID, err := s.AddMessage(ctx, m)
	if !errors.Is(err, ErrDuplicate) || dupID != id {
		t.Errorf("storing a retransmission: id %d, %v; want %d, ErrDuplicate", dupID, err, id)
	}
	// Outgoing messages and messages without a Call-ID are never duplicates.
	o := outgoing("sip:bob@example.com", "same key, other direction", t0)
	o.SIPCallID, o.CSeq = "c1", 1
	addMsg(t, s, o)
	addMsg(t, s, incoming("sip:bob@example.com", "no call-id", t0))
	addMsg(t, s, incoming("sip:bob@example.com", "no call-id", t0))
	if got, err := s.Messages(ctx, Query{}); err != nil || len(got) != 4 {
		t.Errorf("stored %d messages, %v; want 4", len(got), err)
	}
}

func TestMessagesQuery(t *testing.T) {
	ctx := context.Background()
	s := newMemory(t)
	a1 := addMsg(t, s, incoming("sip:alice@example.com", "1", at(1*time.Second)))
	b2 := addMsg(t, s, outgoing("sip:bob@example.com", "2", at(2*time.Second)))
	b2tie := addMsg(t, s, incoming("sip:bob@example.com", "2 again", at(2*time.Second)))
	a3 := addMsg(t, s, incoming("sip:alice@example.com", "3", at(3*time.Second)))
	b0 := addMsg(t, s, incoming("sip:bob@example.com", "0, late", at(0))) // stored last, oldest

	tests := []struct {
		name string
		q    Query
		want []int64
	}{
		{"newest first, ties by insertion", Query{}, []int64{a3, b2tie, b2, a1, b0}},
		{"limit", Query{Limit: 2}, []int64{a3, b2tie}},
		{"peer", Query{Peer: "<sip:bob@Example.com>"}, []int64{b2tie, b2, b0}},
		{"since inclusive", Query{Since: at(2 * time.Second)}, []int64{a3, b2tie, b2}},
		{"calls only", Query{Calls: true}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Messages(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if g := msgIDs(got); !slices.Equal(g, tc.want) && !(len(g) == 0 && len(tc.want) == 0) {
				t.Errorf("ids = %v, want %v", g, tc.want)
			}
		})
	}
}

func TestConversationsAndMarkRead(t *testing.T) {
	ctx := context.Background()
	s := newMemory(t)
	addMsg(t, s, incoming("sip:alice@example.com", "a1", at(1*time.Second)))
	addMsg(t, s, incoming("sip:alice@example.com", "a2", at(2*time.Second)))
	addMsg(t, s, outgoing("sip:alice@example.com", "a3 mine", at(3*time.Second)))
	addMsg(t, s, incoming("sip:bob@example.com", "b1", at(5*time.Second)))
	read := incoming("sip:carol@example.com", "c1 seen", at(4*time.Second))
	read.Read = true
	addMsg(t, s, read)

	type summary struct {
		peer, last string
		unread     int
	}
	check := func(want []summary) {
		t.Helper()
		convs, err := s.Conversations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []summary
		for _, c := range convs {
			if c.Peer != c.Last.Peer {
				t.Errorf("conversation peer %q but last message from %q", c.Peer, c.Last.Peer)
			}
			got = append(got, summary{c.Peer, c.Last.Text, c.Unread})
		}
		if !slices.Equal(got, want) {
			t.Errorf("Conversations:\n got %+v\nwant %+v", got, want)
		}
	}
	check([]summary{
		{"sip:bob@example.com", "b1", 1},
		{"sip:carol@example.com", "c1 seen", 0},
		{"sip:alice@example.com", "a3 mine", 2}, // own messages are not unread
	})
	if err := s.MarkRead(ctx, `"Alice" <sip:alice@EXAMPLE.com>`); err != nil {
		t.Fatal(err)
	}
	check([]summary{
		{"sip:bob@example.com", "b1", 1},
		{"sip:carol@example.com", "c1 seen", 0},
		{"sip:alice@example.com", "a3 mine", 0},
	})
	msgs, err := s.Messages(ctx, Query{Peer: "sip:alice@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if !m.Read {
			t.Errorf("after MarkRead: %+v not read", m)
		}
	}
}

func TestConversationsEmpty(t *testing.T) {
	convs, err := newMemory(t).Conversations(context.Background())
	if err != nil || len(convs) != 0 {
		t.Fatalf("Conversations on an empty store = %v, %v", convs, err)
	}
}

// TestMessageKeyReusedLater: a peer that reuses a Call-ID and CSeq (one that restarts its
// CSeq under a fixed Call-ID) sends new messages, not retransmissions: with other text, or
// after DedupeWindow, the message is stored and shown. Before, the key was taken for ever and
// every later message was answered 200 and lost.
func TestMessageKeyReusedLater(t *testing.T) {
	ctx := context.Background()
	s := newMemory(t)
	msg := func(text string, tm time.Time) Message {
		m := incoming("sip:bob@example.com", text, tm)
		m.SIPCallID, m.CSeq = "fixed", 1
		return m
	}
	seen := func(m Message) bool {
		t.Helper()
		ok, err := s.MessageSeen(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	first := msg("hi", t0)
	firstID := addMsg(t, s, first)

	// The same message again within the window is a retransmission.
	again := msg("hi", at(30e9))
	if !seen(again) {
		t.Error("a retransmission 30 s later not seen")
	}
	if id, err := s.AddMessage(ctx, again); !errors.Is(err, ErrDuplicate) || id != firstID {
		t.Errorf("storing a retransmission 30 s later: id %d, %v; want %d, ErrDuplicate", id, err, firstID)
	}
	// Other text under the key is a new message, and its own retransmission is one again.
	other := msg("second message", at(40e9))
	if seen(other) {
		t.Error("a new text under a reused key taken for a retransmission")
	}
	otherID := addMsg(t, s, other)
	if id, err := s.AddMessage(ctx, msg("second message", at(41e9))); !errors.Is(err, ErrDuplicate) || id != otherID {
		t.Errorf("storing the second message's retransmission: id %d, %v; want %d, ErrDuplicate", id, err, otherID)
	}
	// The first message's retransmission, now that the second took the key: still one.
	if !seen(msg("hi", at(45e9))) {
		t.Error("a retransmission of the first message after the second took the key not seen")
	}
	if id, err := s.AddMessage(ctx, msg("hi", at(45e9))); !errors.Is(err, ErrDuplicate) || id != firstID {
		t.Errorf("storing the first message's late retransmission: id %d, %v; want %d, ErrDuplicate", id, err, firstID)
	}
	// The first text once more, after the window: a new message too.
	later := msg("second message", at(40e9+DedupeWindow+time.Second))
	if seen(later) {
		t.Error("the same text after the window taken for a retransmission")
	}
	addMsg(t, s, later)

	got, err := s.Messages(ctx, Query{})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range got {
		texts = append(texts, m.Text)
	}
	if want := []string{"second message", "second message", "hi"}; !slices.Equal(texts, want) { // newest first
		t.Errorf("stored %q, want %q", texts, want)
	}
}

// TestMessagesRacingUnderOneKey: many messages under one reused key at once, each sent twice
// (a retransmission racing its original): every message is stored once. Retiring the key
// and inserting are separate statements, so they interleave; a message whose insert found
// the key taken by another message (not its own copy) was answered 200 and lost.
func TestMessagesRacingUnderOneKey(t *testing.T) {
	ctx := context.Background()
	s := newMemory(t)
	const n = 20
	var wg sync.WaitGroup
	for i := range 2 * n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := incoming("sip:bob@example.com", fmt.Sprintf("message %d", i%n), t0)
			m.SIPCallID, m.CSeq = "fixed", 1
			if _, err := s.AddMessage(ctx, m); err != nil && !errors.Is(err, ErrDuplicate) {
				t.Errorf("message %d: %v", i%n, err)
			}
		}()
	}
	wg.Wait()
	got, err := s.Messages(ctx, Query{Limit: 10 * n})
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]int{}
	for _, m := range got {
		texts[m.Text]++
	}
	for i := range n {
		if c := texts[fmt.Sprintf("message %d", i)]; c != 1 {
			t.Errorf("message %d stored %d times, want once", i, c)
		}
	}
}
