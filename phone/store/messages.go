package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// DedupeWindow is how long an incoming message's key (SIPCallID, CSeq, Peer) marks a
// retransmission of it: longer than any retransmission (64*T1 = 32 s), so that a sender's
// retry as a new transaction is recognised, and short enough that a peer reusing a Call-ID
// and CSeq later is not taken for a retransmission and lost.
const DedupeWindow = time.Minute

// AddMessage stores a message and returns its row id. When it returns
// without error the message is durable (see the package comment), so an
// incoming MESSAGE may be acknowledged. m.ID is ignored; outgoing messages
// are stored as read.
//
// An incoming message with the same (SIPCallID, CSeq, Peer) and text as one
// stored less than DedupeWindow before it is a retransmission: it is not
// stored again, and AddMessage returns the stored message's id with an error
// wrapping ErrDuplicate. MessageSeen is the cheap check before that; this is
// the race-free one.
func (s *Store) AddMessage(ctx context.Context, m Message) (int64, error) {
	if err := validDirection(m.Direction); err != nil {
		return 0, err
	}
	if err := validStatus(m.Status); err != nil {
		return 0, err
	}
	if m.Time.IsZero() {
		return 0, errors.New("store: message has no time")
	}
	peer := NormalizePeer(m.Peer)
	// Prepared before the transaction: preparing takes the writer's one connection, which the
	// transaction holds.
	insert, err := s.prepared(ctx, insertMessageSQL)
	if err != nil {
		return 0, fmt.Errorf("store: adding message with %s: %w", peer, err)
	}
	var id int64
	dup := false
	// One transaction, serialised with every other writer (_txlock=immediate, in this process
	// or another): nothing comes between the look-up and the insert, so two copies of a
	// message racing each other are stored once.
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if m.Direction == Incoming && m.SIPCallID != "" { // else nothing to tell it from
			cutoff := m.Time.Add(-DedupeWindow).UnixMicro()
			var err error
			if id, err = s.retransmitted(ctx, tx, m.SIPCallID, m.CSeq, peer, m.Text, cutoff); err != nil || id != 0 {
				dup = id != 0
				return err
			}
		}
		read := m.Read || m.Direction == Outgoing
		return tx.StmtContext(ctx, insert).QueryRowContext(ctx, m.Direction, m.Account, peer, m.Text, m.Time.UnixMicro(),
			m.Status, m.Code, m.SIPCallID, int64(m.CSeq), read).Scan(&id)
	})
	switch {
	case err != nil:
		return 0, fmt.Errorf("store: adding message with %s: %w", peer, err)
	case dup:
		return id, fmt.Errorf("store: message from %s (Call-ID %s, CSeq %d): %w", peer, m.SIPCallID, m.CSeq, ErrDuplicate)
	}
	return id, nil
}

// insertMessageSQL inserts a message and gives its id.
const insertMessageSQL = `
INSERT INTO messages (direction, account, peer, text, time_us, status, code, sip_call_id, cseq, read)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
RETURNING id`

// MessageSeen reports whether m, an incoming message, is stored already:
// whether a MESSAGE is a retransmission to acknowledge but not show again. It
// is when a message with its Call-ID, CSeq, sender (normalised) and text was
// stored less than DedupeWindow before m.Time. Without a Call-ID nothing can
// be deduplicated and it reports false.
func (s *Store) MessageSeen(ctx context.Context, m Message) (bool, error) {
	if m.SIPCallID == "" {
		return false, nil
	}
	id, err := s.retransmitted(ctx, s.r, m.SIPCallID, m.CSeq, NormalizePeer(m.Peer), m.Text, m.Time.Add(-DedupeWindow).UnixMicro())
	if err != nil {
		return false, fmt.Errorf("store: checking for a retransmitted message: %w", err)
	}
	return id != 0, nil
}

// messageKeysVersion is the schema version that added the index messages_key.
const messageKeysVersion = 9

// retransmitted finds the latest incoming message stored since cutoff (µs) with the key
// and text (messages_key), or 0; peer must be normalised already.
func (s *Store) retransmitted(ctx context.Context, db queryRower, sipCallID string, cseq uint32, peer, text string, cutoff int64) (int64, error) {
	if s.version != 0 && s.version < messageKeysVersion {
		return 0, nil // an older file, read-only: it stores nothing to be a retransmission of
	}
	var id int64
	// INDEXED BY: without statistics SQLite took messages_peer_time, and read every message
	// of the peer's last minute for each new one (560 µs a message at a few thousand).
	err := db.QueryRowContext(ctx, `
SELECT id FROM messages INDEXED BY messages_key
WHERE direction = 'incoming' AND sip_call_id <> '' AND sip_call_id = ? AND cseq = ? AND peer = ?
	AND text = ? AND time_us >= ?
ORDER BY id DESC LIMIT 1`,
		sipCallID, int64(cseq), peer, text, cutoff).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// UpdateMessageStatus records the outcome of sending a message: status and
// the SIP code of the final response. It fails with ErrNotFound if there is
// no message id.
func (s *Store) UpdateMessageStatus(ctx context.Context, id int64, status string, code int) error {
	if err := validStatus(status); err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, "UPDATE messages SET status = ?, code = ? WHERE id = ?", status, code, id)
	if err != nil {
		return fmt.Errorf("store: updating message %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: updating message %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("store: updating message %d: %w", id, ErrNotFound)
	}
	return nil
}

// MarkRead marks every incoming message from peer (normalised) as read.
func (s *Store) MarkRead(ctx context.Context, peer string) error {
	p := NormalizePeer(peer)
	_, err := s.w.ExecContext(ctx,
		"UPDATE messages SET read = 1 WHERE peer = ? AND direction = 'incoming' AND read = 0", p)
	if err != nil {
		return fmt.Errorf("store: marking messages from %s read: %w", p, err)
	}
	return nil
}

// messageCols is the column list scanMessage expects, in order.
const messageCols = "id, direction, account, peer, text, time_us, status, code, sip_call_id, cseq, read"

// qualified is cols (a comma-separated list) each with prefix, e.g. "m.".
func qualified(prefix, cols string) string {
	return prefix + strings.ReplaceAll(cols, ", ", ", "+prefix)
}

type scanner interface{ Scan(dest ...any) error }

func scanMessage(row scanner, extra ...any) (Message, error) {
	var m Message
	var t sql.NullInt64
	var cseq int64
	dest := append([]any{&m.ID, &m.Direction, &m.Account, &m.Peer, &m.Text, &t,
		&m.Status, &m.Code, &m.SIPCallID, &cseq, &m.Read}, extra...)
	if err := row.Scan(dest...); err != nil {
		return Message{}, err
	}
	m.Time = fromMicros(t)
	m.CSeq = uint32(cseq)
	return m, nil
}

// Messages lists messages, newest first. It returns nothing for a
// calls-only Query.
func (s *Store) Messages(ctx context.Context, q Query) ([]Message, error) {
	if !q.wantMessages() {
		return nil, nil
	}
	limit, err := q.limit()
	if err != nil {
		return nil, err
	}
	sqlText, args := "SELECT "+messageCols+" FROM messages WHERE 1", []any{}
	if q.Peer != "" {
		sqlText += " AND peer = ?"
		args = append(args, NormalizePeer(q.Peer))
	}
	if !q.Since.IsZero() {
		sqlText += " AND time_us >= ?"
		args = append(args, q.Since.UnixMicro())
	}
	// id breaks ties: two messages in the same microsecond keep the order
	// they were stored in.
	sqlText += " ORDER BY time_us DESC, id DESC LIMIT ?"
	args = append(args, limit)

	rows, err := s.r.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("store: listing messages: %w", err)
	}
	defer rows.Close()
	var msgs []Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("store: reading message: %w", err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: listing messages: %w", err)
	}
	return msgs, nil
}

// MaxConversations is how many conversations Conversations lists at most: the most recent.
const MaxConversations = 500

// Conversations lists one entry per peer with its newest message and its unread count, the
// most recently active peer first, at most MaxConversations. It is one query so that the
// counts and the last messages are from the same snapshot. The newest time per peer comes from
// the (peer, time_us) index, the message itself by one index probe per peer, and the unread
// counts from the partial index of unread messages (messages_unread): a window over every
// message took half a second with 100 000 of them, after each message sent or received
// (BenchmarkConversations).
func (s *Store) Conversations(ctx context.Context) ([]Conversation, error) {
	q := `
WITH last AS (
	SELECT peer, max(time_us) AS t FROM messages GROUP BY peer ORDER BY t DESC LIMIT ` + fmt.Sprint(MaxConversations) + `
), unread AS (
	SELECT peer, count(*) AS n FROM messages WHERE direction = 'incoming' AND read = 0 GROUP BY peer
)
SELECT ` + qualified("m.", messageCols) + `, coalesce(unread.n, 0)
FROM last
JOIN messages m ON m.id = (SELECT x.id FROM messages x WHERE x.peer = last.peer ORDER BY x.time_us DESC, x.id DESC LIMIT 1)
LEFT JOIN unread ON unread.peer = last.peer
ORDER BY m.time_us DESC, m.id DESC`
	rows, err := s.r.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: listing conversations: %w", err)
	}
	defer rows.Close()
	var convs []Conversation
	for rows.Next() {
		var c Conversation
		m, err := scanMessage(rows, &c.Unread)
		if err != nil {
			return nil, fmt.Errorf("store: reading conversation: %w", err)
		}
		c.Peer, c.Last = m.Peer, m
		convs = append(convs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: listing conversations: %w", err)
	}
	return convs, nil
}
