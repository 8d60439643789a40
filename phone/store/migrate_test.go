package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestMigrateFromEmpty(t *testing.T) {
	path := tempDB(t)
	s := openFile(t, path)
	if v := pragmaInt(t, s.w, "user_version"); v != len(migrations) {
		t.Fatalf("user_version = %d, want %d", v, len(migrations))
	}
	var mode string
	if err := s.w.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	if got := pragmaInt(t, s.w, "synchronous"); got != 2 {
		t.Errorf("synchronous = %d, want 2 (FULL)", got)
	}
	if got := pragmaInt(t, s.r, "synchronous"); got != 2 {
		t.Errorf("reader synchronous = %d, want 2 (FULL)", got)
	}
	if got := pragmaInt(t, s.w, "foreign_keys"); got != 1 {
		t.Errorf("foreign_keys = %d, want 1", got)
	}
	if got := pragmaInt(t, s.w, "busy_timeout"); got != busyTimeoutMS {
		t.Errorf("busy_timeout = %d, want %d", got, busyTimeoutMS)
	}
	if _, err := s.r.Exec("DELETE FROM messages"); err == nil {
		t.Error("the read pool accepted a write; want query_only")
	}
}

// TestUpgradeFromV1 builds a file the way the first schema left it, with
// data, and checks that Open upgrades it and the data survives.
func TestUpgradeFromV1(t *testing.T) {
	ctx := context.Background()
	path := tempDB(t)
	db := rawDB(t, path)
	n, err := migrate(ctx, db, migrations[:1])
	if err != nil || n != 1 {
		t.Fatalf("migrate to v1: applied %d, %v", n, err)
	}
	if v := pragmaInt(t, db, "user_version"); v != 1 {
		t.Fatalf("user_version = %d, want 1", v)
	}
	// One statement per Exec: parameters do not carry across statements.
	for _, st := range []struct {
		q    string
		args []any
	}{
		{`INSERT INTO calls (call_id, direction, account, peer, peer_name, start_us, answer_us, end_us, code, reason, ended_by, duration_ns)
			VALUES ('c1', 'incoming', 'me', 'sip:bob@example.com', 'Bob ✓', ?, NULL, ?, 487, 'Request Terminated', 'remote', 0)`,
			[]any{t0.UnixMicro(), at(5e9).UnixMicro()}},
		{`INSERT INTO messages (direction, account, peer, text, time_us, status, code, sip_call_id, cseq)
			VALUES ('incoming', 'me', 'sip:bob@example.com', 'héllo ✓ 👋', ?, 'received', 0, 'm1', 1),
			       ('outgoing', 'me', 'sip:bob@example.com', 'hi', ?, 'sent', 200, '', 0)`,
			[]any{at(1e9).UnixMicro(), at(2e9).UnixMicro()}},
	} {
		if _, err := db.Exec(st.q, st.args...); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s := openFile(t, path)
	if v := pragmaInt(t, s.w, "user_version"); v != len(migrations) {
		t.Fatalf("after upgrade user_version = %d, want %d", v, len(migrations))
	}
	var idx int
	if err := s.r.QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'messages_peer_time'").Scan(&idx); err != nil || idx != 1 {
		t.Fatalf("index messages_peer_time: %d, %v", idx, err)
	}
	calls, err := s.Calls(ctx, Query{})
	if err != nil || len(calls) != 1 {
		t.Fatalf("Calls = %v, %v", calls, err)
	}
	want := Call{ID: calls[0].ID, CallID: "c1", Direction: Incoming, Account: "me", Peer: "sip:bob@example.com",
		PeerName: "Bob ✓", Start: t0, End: at(5e9), Code: 487, Reason: "Request Terminated", By: "remote"}
	if calls[0] != want {
		t.Errorf("call after upgrade:\n got %+v\nwant %+v", calls[0], want)
	}
	msgs, err := s.Messages(ctx, Query{})
	if err != nil || len(msgs) != 2 {
		t.Fatalf("Messages = %v, %v", msgs, err)
	}
	if msgs[1].Text != "héllo ✓ 👋" || msgs[1].SIPCallID != "m1" || msgs[1].CSeq != 1 || !msgs[1].Read {
		t.Errorf("old incoming message after upgrade = %+v; want text, dedupe key kept and marked read", msgs[1])
	}
	// Old messages count as read; new ones are unread again.
	addMsg(t, s, incoming("sip:bob@example.com", "new", at(3e9)))
	convs, err := s.Conversations(ctx)
	if err != nil || len(convs) != 1 || convs[0].Unread != 1 || convs[0].Last.Text != "new" {
		t.Fatalf("Conversations = %+v, %v; want one with 1 unread", convs, err)
	}
	// The dedupe key from v1 still works.
	old := Message{Direction: Incoming, Peer: "<sip:bob@EXAMPLE.com>", Text: "héllo ✓ 👋", Time: at(2e9), SIPCallID: "m1", CSeq: 1}
	if seen, err := s.MessageSeen(ctx, old); err != nil || !seen {
		t.Errorf("MessageSeen(m1) after upgrade = %v, %v; want true", seen, err)
	}
}

func TestReopenUpToDateIsNoop(t *testing.T) {
	ctx := context.Background()
	path := tempDB(t)
	s := openFile(t, path)
	addMsg(t, s, incoming("sip:bob@example.com", "x", t0))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	db := rawDB(t, path)
	before := pragmaInt(t, db, "schema_version")
	n, err := migrate(ctx, db, migrations)
	if err != nil || n != 0 {
		t.Fatalf("migrate on an up-to-date file: applied %d, %v; want 0", n, err)
	}
	if after := pragmaInt(t, db, "schema_version"); after != before {
		t.Errorf("schema_version changed %d -> %d", before, after)
	}
	db.Close()

	s = openFile(t, path)
	if msgs, err := s.Messages(ctx, Query{}); err != nil || len(msgs) != 1 {
		t.Fatalf("after reopening: %v, %v", msgs, err)
	}
}

// TestRefuseNewerSchema: a file from a newer dialtone must be refused with
// a clear error and left byte for byte as it was, whether it is in WAL mode
// (a file that has been used) or still in rollback mode.
func TestRefuseNewerSchema(t *testing.T) {
	for _, journal := range []string{"WAL", "DELETE"} {
		t.Run(journal, func(t *testing.T) {
			path := tempDB(t)
			db := rawDB(t, path)
			future := len(migrations) + 1
			for _, q := range []string{
				"PRAGMA journal_mode = " + journal,
				"CREATE TABLE future (x)",
				"INSERT INTO future VALUES ('keep me')",
				"PRAGMA user_version = " + strconv.Itoa(future),
			} {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			db.Close()
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}

			s, err := Open(path)
			if err == nil {
				s.Close()
				t.Fatal("Open accepted a newer schema")
			}
			if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "version "+strconv.Itoa(future)) {
				t.Errorf("error = %q; want ErrSchemaTooNew naming version %d", err, future)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Error("the refused file was modified")
			}
			if _, err := os.Stat(path + "-wal"); err == nil && journal == "DELETE" {
				t.Error("a -wal file appeared next to a rollback-mode file")
			}
		})
	}
}

// TestUpgradeKeepsACallAndTakesItsOtherLeg: a file from before calls were keyed on Call-ID
// and direction keeps its call, whose end still updates it, and now also takes the same
// Call-ID's other leg as a row of its own.
func TestUpgradeKeepsACallAndTakesItsOtherLeg(t *testing.T) {
	ctx := context.Background()
	path := tempDB(t)
	db := rawDB(t, path)
	if _, err := migrate(ctx, db, migrations[:contactsVersion]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO calls (call_id, direction, peer, start_us) VALUES ('c1', 'incoming', 'sip:bob@example.com', ?)`, t0.UnixMicro()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s := openFile(t, path)
	in := addCall(t, s, Call{CallID: "c1", Direction: Incoming, Peer: "sip:bob@example.com", Start: t0, End: at(5e9), Reason: "BYE"})
	out := addCall(t, s, Call{CallID: "c1", Direction: Outgoing, Peer: "sip:alice@example.com", Start: t0})
	calls, err := s.Calls(ctx, Query{})
	if err != nil || len(calls) != 2 || in == out {
		t.Fatalf("calls %+v, %v; want the old incoming leg (updated) and the new outgoing one", calls, err)
	}
	for _, c := range calls {
		if c.ID == in && c.Reason != "BYE" {
			t.Errorf("the stored leg was not updated: %+v", c)
		}
	}
}
