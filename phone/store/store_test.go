package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestRestartKeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := tempDB(t)
	s := openFile(t, path)
	addCall(t, s, Call{CallID: "c1", Direction: Outgoing, Peer: "sip:alice@example.com", PeerName: "Alice ✓",
		Start: t0, Answer: at(time.Second), End: at(time.Minute), Code: 200, Duration: 59 * time.Second})
	addCall(t, s, Call{CallID: "c2", Direction: Incoming, Peer: "sip:bob@example.com", Start: at(time.Hour), Code: 486})
	addMsg(t, s, incoming("sip:bob@example.com", "héllo ✓ 🙂", at(2*time.Second)))
	id := addMsg(t, s, outgoing("sip:alice@example.com", "reply", at(3*time.Second)))
	if err := s.UpdateMessageStatus(ctx, id, StatusFailed, 480); err != nil {
		t.Fatal(err)
	}
	snapshot := func(s *Store) ([]Call, []Message, []Conversation) {
		t.Helper()
		calls, err := s.Calls(ctx, Query{})
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := s.Messages(ctx, Query{})
		if err != nil {
			t.Fatal(err)
		}
		convs, err := s.Conversations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return calls, msgs, convs
	}
	calls, msgs, convs := snapshot(s)
	if len(calls) != 2 || len(msgs) != 2 || len(convs) != 2 {
		t.Fatalf("before restart: %d calls, %d messages, %d conversations", len(calls), len(msgs), len(convs))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openFile(t, path)
	calls2, msgs2, convs2 := snapshot(s)
	if !slices.Equal(calls, calls2) || !slices.Equal(msgs, msgs2) || !slices.Equal(convs, convs2) {
		t.Errorf("after restart:\ncalls %+v\n   vs %+v\nmsgs %+v\n  vs %+v\nconvs %+v\n   vs %+v",
			calls2, calls, msgs2, msgs, convs2, convs)
	}
}

func TestFilePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	dir := filepath.Join(t.TempDir(), "a", "dialtone")
	path := filepath.Join(dir, "history.db")
	s := openFile(t, path)
	addMsg(t, s, incoming("sip:a@b", "private", t0)) // makes the -wal file exist
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600, path + "-wal": 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", p, got, want)
		}
	}
}

// TestOddPath: the path goes into a URI, so characters that mean something
// there must still name the file they say.
func TestOddPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "my hist?ory#1%20é.db")
	s := openFile(t, path)
	addMsg(t, s, incoming("sip:a@b", "x", t0))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at the path given: %v", err)
	}
	s = openFile(t, path)
	if msgs, err := s.Messages(context.Background(), Query{}); err != nil || len(msgs) != 1 {
		t.Fatalf("reopened: %v, %v", msgs, err)
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/xdg/data")
	if p, err := DefaultPath(); err != nil || p != filepath.Join("/xdg/data", "dialtone", "history.db") {
		t.Errorf("with XDG_DATA_HOME: %q, %v", p, err)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home) // os.UserHomeDir on Windows
	for _, xdg := range []string{"", "relative/dir"} {
		t.Setenv("XDG_DATA_HOME", xdg)
		if p, err := DefaultPath(); err != nil || p != filepath.Join(home, ".local", "share", "dialtone", "history.db") {
			t.Errorf("XDG_DATA_HOME=%q: %q, %v", xdg, p, err)
		}
	}
}

// TestConcurrentUse writes from several goroutines while others read, as
// the phone's goroutines and the UI will; run with -race to mean much.
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	s := openFile(t, tempDB(t))
	const writers, each = 4, 25
	var wg sync.WaitGroup
	ids := make(chan int64, writers*each)
	errs := make(chan error, writers*each+writers)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				m := incoming(fmt.Sprintf("sip:peer%d@example.com", w), fmt.Sprint(i), at(time.Duration(i)*time.Millisecond))
				m.SIPCallID, m.CSeq = fmt.Sprintf("w%d", w), uint32(i)
				id, err := s.AddMessage(ctx, m)
				if err != nil {
					errs <- err
					return
				}
				ids <- id
				if i%5 == 0 {
					if err := s.MarkRead(ctx, m.Peer); err != nil {
						errs <- err
					}
				}
			}
		})
		wg.Go(func() {
			for range each {
				if _, err := s.Conversations(ctx); err != nil {
					errs <- err
					return
				}
				if _, err := s.Messages(ctx, Query{Peer: fmt.Sprintf("sip:peer%d@example.com", w)}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(ids)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	seen := map[int64]bool{}
	for id := range ids {
		if seen[id] {
			t.Errorf("id %d returned twice", id)
		}
		seen[id] = true
	}
	msgs, err := s.Messages(ctx, Query{Limit: writers * each * 2})
	if err != nil || len(msgs) != writers*each || len(seen) != writers*each {
		t.Errorf("stored %d, acknowledged %d, %v; want %d", len(msgs), len(seen), err, writers*each)
	}
}

func TestUseAfterClose(t *testing.T) {
	s, err := OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddMessage(context.Background(), incoming("sip:a@b", "x", t0)); err == nil {
		t.Error("AddMessage on a closed store succeeded")
	}
}

func TestCanceledContext(t *testing.T) {
	s := newMemory(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.AddMessage(ctx, incoming("sip:a@b", "x", t0)); err == nil {
		t.Error("AddMessage with a canceled context succeeded")
	}
}

// TestTwoStoresShareFile: a second Store on the same file, as a history
// command run while the phone is up would open, can read and write while
// the first one writes; WAL and busy_timeout keep both going.
func TestTwoStoresShareFile(t *testing.T) {
	ctx := context.Background()
	path := tempDB(t)
	a := openFile(t, path)
	addMsg(t, a, incoming("sip:a@b", "before", t0))
	b := openFile(t, path) // the file is in WAL mode already: no exclusive lock needed
	var wg sync.WaitGroup
	for _, s := range []*Store{a, b} {
		wg.Go(func() {
			for i := range 20 {
				if _, err := s.AddMessage(ctx, incoming("sip:a@b", fmt.Sprint(i), at(time.Second))); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, s := range []*Store{a, b} {
		if msgs, err := s.Messages(ctx, Query{}); err != nil || len(msgs) != 41 {
			t.Errorf("a store sees %d messages, %v; want 41", len(msgs), err)
		}
	}
}
