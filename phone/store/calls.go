package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// AddCall records a call, normally once when it has ended, and returns its
// row id. It is an upsert on CallID and Direction: recording a call whose
// non-empty CallID is stored already in that direction replaces that row and
// returns its id, so the phone may record a call early (say at answer) and
// again at the end, or retry after an error, without duplicating it; the
// other leg of the same call (its other direction, on this machine) is a row
// of its own. Calls with an empty CallID are always new rows. c.ID is ignored.
func (s *Store) AddCall(ctx context.Context, c Call) (int64, error) {
	if err := validDirection(c.Direction); err != nil {
		return 0, err
	}
	peer := NormalizePeer(c.Peer)
	// The conflict target repeats the partial index's WHERE so SQLite can
	// match the index; RETURNING gives the id in both the insert and the
	// update case, which LastInsertId does not.
	const q = `
INSERT INTO calls (call_id, direction, account, peer, peer_name, start_us, answer_us, end_us,
	code, reason, ended_by, duration_ns, codec, mos_min, mos_avg, loss_pct, jitter_max_ms, rtt_ms)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (call_id, direction) WHERE call_id <> '' DO UPDATE SET
	account = excluded.account, peer = excluded.peer,
	peer_name = excluded.peer_name, start_us = excluded.start_us, answer_us = excluded.answer_us,
	end_us = excluded.end_us, code = excluded.code, reason = excluded.reason,
	ended_by = excluded.ended_by, duration_ns = excluded.duration_ns, codec = excluded.codec,
	mos_min = excluded.mos_min, mos_avg = excluded.mos_avg, loss_pct = excluded.loss_pct,
	jitter_max_ms = excluded.jitter_max_ms, rtt_ms = excluded.rtt_ms
RETURNING id`
	var id int64
	qv := c.Quality.columns()
	st, err := s.prepared(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("store: adding call with %s: %w", peer, err)
	}
	err = st.QueryRowContext(ctx, c.CallID, c.Direction, c.Account, peer, c.PeerName,
		toMicros(c.Start), toMicros(c.Answer), toMicros(c.End),
		c.Code, c.Reason, c.By, int64(c.Duration), c.Codec, qv[0], qv[1], qv[2], qv[3], qv[4]).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: adding call with %s: %w", peer, err)
	}
	return id, nil
}

// Calls lists calls, newest first by start time; calls without a start
// time come last. It returns nothing for a messages-only Query.
func (s *Store) Calls(ctx context.Context, q Query) ([]Call, error) {
	if !q.wantCalls() {
		return nil, nil
	}
	limit, err := q.limit()
	if err != nil {
		return nil, err
	}
	sqlText, args := `
SELECT id, call_id, direction, account, peer, peer_name, start_us, answer_us, end_us,
	code, reason, ended_by, duration_ns, `+s.qualitySelect()+`
FROM calls WHERE 1`, []any{}
	if q.Peer != "" {
		sqlText += " AND peer = ?"
		args = append(args, NormalizePeer(q.Peer))
	}
	if !q.Since.IsZero() {
		sqlText += " AND start_us >= ?"
		args = append(args, q.Since.UnixMicro())
	}
	sqlText += " ORDER BY start_us IS NULL, start_us DESC, id DESC LIMIT ?"
	args = append(args, limit)

	rows, err := s.r.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("store: listing calls: %w", err)
	}
	defer rows.Close()
	var calls []Call
	for rows.Next() {
		var c Call
		var start, answer, end sql.NullInt64
		var dur int64
		var qv qualityColumns
		if err := rows.Scan(&c.ID, &c.CallID, &c.Direction, &c.Account, &c.Peer, &c.PeerName,
			&start, &answer, &end, &c.Code, &c.Reason, &c.By, &dur, &c.Codec, &qv[0], &qv[1], &qv[2], &qv[3], &qv[4]); err != nil {
			return nil, fmt.Errorf("store: reading call: %w", err)
		}
		c.Quality = qv.quality()
		c.Start, c.Answer, c.End = fromMicros(start), fromMicros(answer), fromMicros(end)
		c.Duration = time.Duration(dur)
		calls = append(calls, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: listing calls: %w", err)
	}
	return calls, nil
}
