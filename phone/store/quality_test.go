package store

import (
	"context"
	"testing"
	"time"
)

func TestCallQualityRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newMemory(t)
	q := &CallQuality{MOSMin: 3.68, MOSAvg: 4.12, LossPct: 2.5, JitterMax: 12500 * time.Microsecond, RTT: 40 * time.Millisecond}
	addCall(t, s, Call{CallID: "q1", Direction: Outgoing, Peer: "sip:a@example.com", Start: t0, Codec: "opus", Quality: q})
	addCall(t, s, Call{CallID: "q2", Direction: Outgoing, Peer: "sip:a@example.com", Start: at(1e9), Codec: "PCMU",
		Quality: &CallQuality{MOSMin: 4.3, MOSAvg: 4.35}}) // no RTT measured
	addCall(t, s, Call{CallID: "q3", Direction: Incoming, Peer: "sip:a@example.com", Start: at(2e9)}) // missed: no media
	calls, err := s.Calls(ctx, Query{})
	if err != nil || len(calls) != 3 {
		t.Fatalf("Calls = %v, %v", calls, err)
	}
	if c := calls[2]; c.Codec != "opus" || c.Quality == nil || *c.Quality != *q {
		t.Errorf("q1: codec %q quality %+v, want opus %+v", c.Codec, c.Quality, *q)
	}
	if c := calls[1]; c.Quality == nil || c.Quality.RTT != 0 || c.Quality.MOSAvg != 4.35 {
		t.Errorf("q2: quality %+v, want MOS 4.35 and no RTT", c.Quality)
	}
	if c := calls[0]; c.Quality != nil || c.Codec != "" {
		t.Errorf("q3 (no media): codec %q quality %+v, want none", c.Codec, c.Quality)
	}
	// The upsert replaces the summary too (a call recorded early, then at its end).
	addCall(t, s, Call{CallID: "q1", Direction: Outgoing, Peer: "sip:a@example.com", Start: t0, Codec: "G722",
		Quality: &CallQuality{MOSMin: 2, MOSAvg: 3}})
	calls, _ = s.Calls(ctx, Query{})
	if c := calls[2]; c.Codec != "G722" || c.Quality == nil || c.Quality.MOSMin != 2 || c.Quality.JitterMax != 0 {
		t.Errorf("q1 after upsert: codec %q quality %+v", c.Codec, c.Quality)
	}
}

// TestUpgradeFromV2 opens a file the previous schema left, with a call in it: the call
// survives without a summary, and new calls keep theirs.
func TestUpgradeFromV2(t *testing.T) {
	ctx := context.Background()
	path := tempDB(t)
	db := rawDB(t, path)
	if n, err := migrate(ctx, db, migrations[:2]); err != nil || n != 2 {
		t.Fatalf("migrate to v2: applied %d, %v", n, err)
	}
	if _, err := db.Exec(`INSERT INTO calls (call_id, direction, account, peer, peer_name, start_us, answer_us, end_us, code, reason, ended_by, duration_ns)
		VALUES ('old', 'outgoing', 'me', 'sip:bob@example.com', '', ?, ?, ?, 200, 'OK', 'local', 5000000000)`,
		t0.UnixMicro(), t0.UnixMicro(), at(5e9).UnixMicro()); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s := openFile(t, path)
	if v := pragmaInt(t, s.w, "user_version"); v != len(migrations) {
		t.Fatalf("after upgrade user_version = %d, want %d", v, len(migrations))
	}
	addCall(t, s, Call{CallID: "new", Direction: Incoming, Peer: "sip:bob@example.com", Start: at(10e9), Codec: "PCMU",
		Quality: &CallQuality{MOSMin: 4.1, MOSAvg: 4.3, LossPct: 0.5, JitterMax: 3 * time.Millisecond, RTT: 20 * time.Millisecond}})
	calls, err := s.Calls(ctx, Query{})
	if err != nil || len(calls) != 2 {
		t.Fatalf("Calls = %v, %v", calls, err)
	}
	if old := calls[1]; old.CallID != "old" || old.Duration != 5*time.Second || old.Code != 200 || old.Quality != nil || old.Codec != "" {
		t.Errorf("call from v2: %+v", old)
	}
	if c := calls[0]; c.Quality == nil || c.Quality.RTT != 20*time.Millisecond || c.Codec != "PCMU" {
		t.Errorf("new call: %+v quality %+v", c, c.Quality)
	}
}

// TestReadOnlyListsV2: a history that cannot be upgraded (read-only directory) and was last
// written before quality was kept still lists its calls, without summaries; a file older
// than that is still refused.
func TestReadOnlyListsV2(t *testing.T) {
	ctx := context.Background()
	for _, v := range []int{1, 2} {
		path := tempDB(t)
		db := rawDB(t, path)
		if _, err := migrate(ctx, db, migrations[:v]); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO calls (call_id, direction, peer, start_us, code) VALUES ('old', 'incoming', 'sip:bob@example.com', ?, 486)`, t0.UnixMicro()); err != nil {
			t.Fatal(err)
		}
		db.Close()
		s, err := OpenReadOnly(path)
		if v == 1 {
			if err == nil {
				s.Close()
				t.Error("a version-1 file opened read-only")
			}
			continue
		}
		if err != nil {
			t.Fatalf("version %d: %v", v, err)
		}
		calls, err := s.Calls(ctx, Query{})
		s.Close()
		if err != nil || len(calls) != 1 || calls[0].Code != 486 || calls[0].Quality != nil || calls[0].Codec != "" {
			t.Fatalf("version %d read-only: %+v, %v", v, calls, err)
		}
		if v := pragmaInt(t, rawDB(t, path), "user_version"); v != 2 {
			t.Errorf("the read-only open changed the schema to version %d", v)
		}
	}
}
