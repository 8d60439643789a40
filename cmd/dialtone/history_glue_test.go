package main

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/phone/store"
)

// TestHistoryGlueKeepsPendingAndDuplicates: a message being sent is in the history as pending
// with the time it left, then settled; a second copy of an incoming message reaches the phone as
// phone.ErrDuplicateMessage, and the history's health watch does not take it for a failing disk.
func TestHistoryGlueKeepsPendingAndDuplicates(t *testing.T) {
	ctx := context.Background()
	e := &env{ctx: ctx, cli: &cli{DataDir: t.TempDir()}, log: slog.New(slog.DiscardHandler)}
	h, closeHist, err := e.openHistory()
	if err != nil {
		t.Fatal(err)
	}
	defer closeHist()
	w := &watchedHistory{history: h}
	left := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	out := phone.Message{Time: left, Direction: phone.Outgoing, Peer: "sip:bob@example.com", Text: "hi", Status: "pending"}
	id, err := w.SavePending(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := h.s.Messages(ctx, store.Query{})
	if err != nil || len(rows) != 1 || rows[0].Status != store.StatusPending {
		t.Fatalf("after leaving: %+v, %v; want one pending message", rows, err)
	}
	out.Status, out.Code = "sent", 200
	if err := w.Settle(ctx, id, out); err != nil {
		t.Fatal(err)
	}
	rows, _ = h.s.Messages(ctx, store.Query{})
	if len(rows) != 1 || rows[0].Status != store.StatusSent || rows[0].Code != 200 || !rows[0].Time.Equal(left) {
		t.Fatalf("settled: %+v; want sent 200 at the time it left", rows)
	}

	in := phone.Message{Time: left, Direction: phone.Incoming, Peer: "sip:carol@example.com", Text: "yo", Status: "received"}
	if err := w.SaveMessage(ctx, in, "cid-1", 3); err != nil {
		t.Fatal(err)
	}
	if err := w.SaveMessage(ctx, in, "cid-1", 3); !errors.Is(err, phone.ErrDuplicateMessage) {
		t.Fatalf("second copy: %v, want phone.ErrDuplicateMessage", err)
	}
	if w.failing {
		t.Fatal("a duplicate counted as the history failing")
	}
}
