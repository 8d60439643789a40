package store

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// TestIntegrityCheck: a sound history passes, through Open and OpenReadOnly; one whose last
// page was overwritten with garbage (what a torn write on a dying disk leaves) is reported.
func TestIntegrityCheck(t *testing.T) {
	ctx := context.Background()
	path := tempDB(t)
	s := openFile(t, path)
	for i := range 200 {
		if _, err := s.AddMessage(ctx, Message{Direction: Incoming, Peer: "sip:bob@example.com", Text: fmt.Sprintf("message %d with some text to fill pages", i),
			Time: at(time.Duration(i) * time.Second), Status: "received", SIPCallID: fmt.Sprintf("call-%d", i), CSeq: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatalf("a fresh history: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := ro.IntegrityCheck(ctx); err != nil {
		t.Fatalf("read-only: %v", err)
	}
	ro.Close()

	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	if st.Size() < 3*page {
		t.Fatalf("history only %d bytes: too small to damage a page beyond the schema", st.Size())
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	garbage := make([]byte, page)
	for i := range garbage {
		garbage[i] = byte(i*7 + 3)
	}
	if _, err := f.WriteAt(garbage, st.Size()-page); err != nil {
		t.Fatal(err)
	}
	f.Close()
	ro, err = OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	err = ro.IntegrityCheck(ctx)
	if err == nil {
		t.Fatal("a history with a page of garbage passed the integrity check")
	}
	t.Logf("damaged: %v", err)
}
