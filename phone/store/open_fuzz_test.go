package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzOpenHistory hands arbitrary bytes to the code that reads the history file from disk, as
// dialtone does at start-up after a crash, a full disk or a stray editor: Open (the schema
// check and migrations), then every listing the front ends show (calls, messages,
// conversations) and the integrity check. The seeds are a real history file, whole and cut
// short; the fuzzer flips bytes in its pages (SQLite has no checksums, so a damaged page is
// read as it is). Invariants: no panic and no hang; a file Open refuses is left as it was;
// whatever is listed comes back within bounds (no more rows than asked for).
func FuzzOpenHistory(f *testing.F) {
	good := historySeed(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(good[:100]) // the header alone
	f.Add([]byte("SQLite format 3\x00"))
	f.Add([]byte{})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "history.db")
		for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
			if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(path)
		if err != nil {
			if after, rerr := os.ReadFile(path); rerr != nil || string(after) != string(data) {
				t.Fatalf("Open refused the file (%v) but changed it", err)
			}
			return
		}
		defer s.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		q := Query{Limit: 5}
		if calls, err := s.Calls(ctx, q); err == nil && len(calls) > q.Limit {
			t.Fatalf("%d calls for a limit of %d", len(calls), q.Limit)
		}
		if msgs, err := s.Messages(ctx, q); err == nil && len(msgs) > q.Limit {
			t.Fatalf("%d messages for a limit of %d", len(msgs), q.Limit)
		}
		if convs, err := s.Conversations(ctx); err == nil {
			for _, c := range convs {
				if c.Unread < 0 {
					t.Fatalf("conversation with %q: %d unread", c.Peer, c.Unread)
				}
			}
		}
		_ = s.IntegrityCheck(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading the history took over 5 s: %v", ctx.Err())
		}
	})
}

// historySeed is a small real history file: two calls, three messages with two peers.
func historySeed(f *testing.F) []byte {
	path := filepath.Join(f.TempDir(), "seed.db")
	s, err := Open(path)
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	t0 := time.Unix(1_700_000_000, 0)
	for i, c := range []Call{
		{CallID: "c1", Direction: Incoming, Account: "w", Peer: "sip:bob@example.com", PeerName: "Bob",
			Start: t0, Answer: t0.Add(time.Second), End: t0.Add(time.Minute), Code: 200, Reason: "OK", By: "remote", Duration: time.Minute},
		{CallID: "c2", Direction: Outgoing, Account: "w", Peer: "sip:carol@example.com", Start: t0.Add(time.Hour), End: t0.Add(time.Hour), Code: 486, Reason: "Busy Here", By: "remote"},
	} {
		if _, err := s.AddCall(ctx, c); err != nil {
			f.Fatalf("call %d: %v", i, err)
		}
	}
	for i, m := range []Message{
		{Direction: Incoming, Account: "w", Peer: "sip:bob@example.com", Text: "héllo ✓", Time: t0, Status: StatusReceived, Code: 200, SIPCallID: "m1", CSeq: 1},
		{Direction: Outgoing, Account: "w", Peer: "sip:bob@example.com", Text: "hi", Time: t0.Add(time.Second), Status: StatusSent, Code: 200},
		{Direction: Incoming, Account: "w", Peer: "sip:carol@example.com", Text: "?", Time: t0.Add(2 * time.Second), Status: StatusReceived, SIPCallID: "m2", CSeq: 7},
	} {
		if _, err := s.AddMessage(ctx, m); err != nil {
			f.Fatalf("message %d: %v", i, err)
		}
	}
	if err := s.Close(); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return b
}
