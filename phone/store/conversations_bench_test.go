package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// fillMessages writes n messages among peers peers in one transaction (a history of years,
// made in a second), every tenth incoming one unread.
func fillMessages(tb testing.TB, s *Store, n, peers int) {
	tb.Helper()
	ctx := context.Background()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO messages (direction, account, peer, text, time_us, status, code, sip_call_id, cseq, read)
VALUES (?, 'a', ?, 'some text of a message', ?, ?, 200, ?, 1, ?)`)
	if err != nil {
		tb.Fatal(err)
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	for i := range n {
		dir, status, cid := Outgoing, StatusSent, ""
		if i%2 == 0 {
			dir, status, cid = Incoming, StatusReceived, fmt.Sprint("cid-", i)
		}
		read := i%10 != 0 || dir == Outgoing
		if _, err := st.ExecContext(ctx, dir, fmt.Sprintf("sip:peer%d@example.com", i%peers), t0+int64(i)*1e6, status, cid, read); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkConversations is the messages view's list after every message: a history of
// 100 000 messages with 1000 peers.
func BenchmarkConversations(b *testing.B) {
	s := openFile(b, tempDB(b))
	fillMessages(b, s, 100_000, 1000)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		convs, err := s.Conversations(ctx)
		if err != nil || len(convs) == 0 {
			b.Fatal(len(convs), err)
		}
	}
}

// TestConversationsAsTheWholeWindow: the indexed query lists what the window over every message
// did (the newest message of each peer, ties broken by id, and its unread count), on histories
// with equal times, read and unread, both directions.
func TestConversationsAsTheWholeWindow(t *testing.T) {
	ctx := context.Background()
	s := newMemory(t)
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3000 {
		dir, status, cid := Outgoing, StatusSent, ""
		if rng.IntN(2) == 0 {
			dir, status, cid = Incoming, StatusReceived, fmt.Sprint("c", i)
		}
		m := Message{Direction: dir, Peer: fmt.Sprintf("sip:p%d@example.com", rng.IntN(700)), Text: "t",
			Time: t0.Add(time.Duration(rng.IntN(2000)) * time.Second), Status: status, SIPCallID: cid, CSeq: 1, Read: rng.IntN(3) == 0}
		if _, err := s.AddMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Conversations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.r.QueryContext(ctx, `
WITH ranked AS (
	SELECT `+messageCols+`,
		row_number() OVER (PARTITION BY peer ORDER BY time_us DESC, id DESC) AS rn,
		sum(direction = 'incoming' AND read = 0) OVER (PARTITION BY peer) AS unread
	FROM messages
)
SELECT `+messageCols+`, unread FROM ranked WHERE rn = 1
ORDER BY time_us DESC, id DESC LIMIT ?`, MaxConversations)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var want []Conversation
	for rows.Next() {
		var c Conversation
		m, err := scanMessage(rows, &c.Unread)
		if err != nil {
			t.Fatal(err)
		}
		c.Peer, c.Last = m.Peer, m
		want = append(want, c)
	}
	if len(got) != len(want) || len(got) != MaxConversations {
		t.Fatalf("%d conversations, the window %d, want %d", len(got), len(want), MaxConversations)
	}
	for i := range want {
		if got[i].Peer != want[i].Peer || got[i].Last.ID != want[i].Last.ID || got[i].Unread != want[i].Unread {
			t.Fatalf("conversation %d: %s #%d unread %d, the window %s #%d unread %d", i,
				got[i].Peer, got[i].Last.ID, got[i].Unread, want[i].Peer, want[i].Last.ID, want[i].Unread)
		}
	}
}
