package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestOpenReadOnlyReadsAndRefusesWrites: a history written and closed by Open is listed by
// OpenReadOnly, with the WAL gone (immutable) and with a WAL still present (a writer open).
func TestOpenReadOnlyReadsAndRefusesWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "history.db")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddMessage(ctx, Message{Direction: Incoming, Peer: "sip:bob@example.com", Text: "kept", Time: time.Now(), Status: "received"}); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		r, err := OpenReadOnly(path)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		defer r.Close()
		ms, err := r.Messages(ctx, Query{Limit: 10})
		if err != nil || len(ms) != 1 || ms[0].Text != "kept" {
			t.Fatalf("%s: messages %v, %v; want the one stored", when, ms, err)
		}
		if _, err := r.AddMessage(ctx, Message{Direction: Incoming, Peer: "sip:x@example.com", Text: "no", Time: time.Now(), Status: "received"}); err == nil {
			t.Fatalf("%s: a write through a read-only store succeeded", when)
		}
	}
	check("writer open (WAL present)")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	check("writer closed")
}

func TestOpenReadOnlyMissingFile(t *testing.T) {
	if _, err := OpenReadOnly(filepath.Join(t.TempDir(), "none.db")); err == nil {
		t.Fatal("a missing history opened")
	}
}
