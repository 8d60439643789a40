package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

// t0 is a fixed instant at microsecond precision, the precision times are
// stored with, so values round-trip exactly and compare with ==.
var t0 = time.UnixMicro(time.Date(2025, 3, 1, 12, 0, 0, 123456000, time.UTC).UnixMicro())

func at(d time.Duration) time.Time { return t0.Add(d) }

func newMemory(t testing.TB) *Store {
	t.Helper()
	s, err := OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openFile opens path and closes it at the end of the test; tests that
// close it earlier themselves get a harmless second Close.
func openFile(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func tempDB(t testing.TB) string {
	return filepath.Join(t.TempDir(), "history.db")
}

// rawDB opens path with none of Store's set-up, to build and inspect files
// the way an older or newer dialtone would have left them.
func rawDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path, "_txlock=immediate"))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func pragmaInt(t testing.TB, db *sql.DB, name string) int {
	t.Helper()
	var v int
	if err := db.QueryRowContext(context.Background(), "PRAGMA "+name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

func addMsg(t testing.TB, s *Store, m Message) int64 {
	t.Helper()
	id, err := s.AddMessage(context.Background(), m)
	if err != nil {
		t.Fatalf("AddMessage(%+v): %v", m, err)
	}
	return id
}

func addCall(t testing.TB, s *Store, c Call) int64 {
	t.Helper()
	id, err := s.AddCall(context.Background(), c)
	if err != nil {
		t.Fatalf("AddCall(%+v): %v", c, err)
	}
	return id
}

func incoming(peer, text string, tm time.Time) Message {
	return Message{Direction: Incoming, Account: "me", Peer: peer, Text: text, Time: tm, Status: StatusReceived}
}

func outgoing(peer, text string, tm time.Time) Message {
	return Message{Direction: Outgoing, Account: "me", Peer: peer, Text: text, Time: tm, Status: StatusPending}
}

func msgIDs(ms []Message) []int64 {
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

func callIDs(cs []Call) []int64 {
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}
