package store

import (
	"context"
	"database/sql"
	"fmt"
)

// A migration moves the schema from version i to i+1, where i is its index
// in migrations. PRAGMA user_version holds the current version.
type migration struct {
	name string
	sql  string
}

// migrations is append-only: a released entry is never edited, because
// files out there have already run it. Tests apply a prefix of it to build
// old files.
var migrations = []migration{
	{name: "calls and messages", sql: `
CREATE TABLE calls (
	id          INTEGER PRIMARY KEY,
	call_id     TEXT    NOT NULL DEFAULT '',
	direction   TEXT    NOT NULL CHECK (direction IN ('incoming', 'outgoing')),
	account     TEXT    NOT NULL DEFAULT '',
	peer        TEXT    NOT NULL,
	peer_name   TEXT    NOT NULL DEFAULT '',
	start_us    INTEGER,
	answer_us   INTEGER,
	end_us      INTEGER,
	code        INTEGER NOT NULL DEFAULT 0,
	reason      TEXT    NOT NULL DEFAULT '',
	ended_by    TEXT    NOT NULL DEFAULT '',
	duration_ns INTEGER NOT NULL DEFAULT 0
);
-- AddCall upserts on call_id; calls without one are always new rows.
CREATE UNIQUE INDEX calls_call_id ON calls (call_id) WHERE call_id <> '';
CREATE INDEX calls_start ON calls (start_us);

CREATE TABLE messages (
	id          INTEGER PRIMARY KEY,
	direction   TEXT    NOT NULL CHECK (direction IN ('incoming', 'outgoing')),
	account     TEXT    NOT NULL DEFAULT '',
	peer        TEXT    NOT NULL,
	text        TEXT    NOT NULL,
	time_us     INTEGER NOT NULL,
	status      TEXT    NOT NULL CHECK (status IN ('received', 'sent', 'failed', 'pending')),
	code        INTEGER NOT NULL DEFAULT 0,
	sip_call_id TEXT    NOT NULL DEFAULT '',
	cseq        INTEGER NOT NULL DEFAULT 0
);
-- A retransmitted MESSAGE has the same Call-ID, CSeq and sender; storing it
-- twice would show the text twice. Unique, so that two retransmissions
-- racing past MessageSeen still cannot both be stored.
CREATE UNIQUE INDEX messages_dedupe ON messages (sip_call_id, cseq, peer)
	WHERE direction = 'incoming' AND sip_call_id <> '';
CREATE INDEX messages_time ON messages (time_us);
`},
	{name: "read flag and per-peer indexes", sql: `
ALTER TABLE messages ADD COLUMN read INTEGER NOT NULL DEFAULT 0;
-- Messages from before unread tracking existed were seen back then; do not
-- greet the upgraded user with their whole history as unread.
UPDATE messages SET read = 1;
CREATE INDEX messages_peer_time ON messages (peer, time_us);
CREATE INDEX calls_peer_start ON calls (peer, start_us);
`},
	// NULL quality columns: a call from before this version, or one that never had media.
	{name: "call quality summary", sql: `
ALTER TABLE calls ADD COLUMN codec TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN mos_min REAL;
ALTER TABLE calls ADD COLUMN mos_avg REAL;
ALTER TABLE calls ADD COLUMN loss_pct REAL;
ALTER TABLE calls ADD COLUMN jitter_max_ms REAL;
ALTER TABLE calls ADD COLUMN rtt_ms REAL;
`},
	// The address book (contacts.go). A URI belongs to one contact, so a peer has one name;
	// names are unique ignoring ASCII case, so "remove NAME" and imports can find a contact.
	{name: "contacts", sql: `
CREATE TABLE contacts (
	id   INTEGER PRIMARY KEY,
	name TEXT NOT NULL COLLATE NOCASE,
	note TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX contacts_name ON contacts (name);
CREATE TABLE contact_uris (
	contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
	pos        INTEGER NOT NULL,
	uri        TEXT    NOT NULL
);
CREATE UNIQUE INDEX contact_uris_uri ON contact_uris (uri);
CREATE INDEX contact_uris_contact ON contact_uris (contact_id, pos);
`},
	// A call's two legs on one machine (dialtone calling a dialtone answerer, or one account
	// calling another through a proxy that keeps the Call-ID) share the SIP Call-ID: keyed on
	// it alone, the second leg's record replaced the first.
	{name: "a call's two legs", sql: `
DROP INDEX calls_call_id;
CREATE UNIQUE INDEX calls_call_id_direction ON calls (call_id, direction) WHERE call_id <> '';
`},
	// The conversations list counts each peer's unread messages after every message: from
	// this index, instead of every message of every peer.
	{name: "unread messages", sql: `
CREATE INDEX messages_unread ON messages (peer) WHERE direction = 'incoming' AND read = 0;
`},
	// An incoming message's dedupe key (Call-ID, CSeq, sender) identifies a retransmission for
	// a minute (DedupeWindow), not for ever: a peer that reuses a Call-ID and CSeq (one that
	// restarts its CSeq with a fixed Call-ID) had every later message taken for the first one,
	// answered 200 and lost. A row whose key a new message takes over is retired from the index.
	{name: "message dedupe window", sql: `
ALTER TABLE messages ADD COLUMN dedupe_retired INTEGER NOT NULL DEFAULT 0;
DROP INDEX messages_dedupe;
CREATE UNIQUE INDEX messages_dedupe ON messages (sip_call_id, cseq, peer)
	WHERE direction = 'incoming' AND sip_call_id <> '' AND dedupe_retired = 0;
`},
	// A contact's address keeps the URI parameters it was given (";transport=tls"), beside
	// the key it is matched by: dialling a contact by name lost them.
	{name: "contact address parameters", sql: `
ALTER TABLE contact_uris ADD COLUMN params TEXT NOT NULL DEFAULT '';
`},
	// A retransmission is found by its key and text among every message, also those whose
	// key another message took since (retired): from this index, not a scan of them all.
	{name: "message keys", sql: `
CREATE INDEX messages_key ON messages (sip_call_id, cseq, peer)
	WHERE direction = 'incoming' AND sip_call_id <> '';
`},
	// AddMessage looks a retransmission up and inserts in one transaction, which SQLite
	// serialises with every other writer: a unique key, and the retiring of it that the
	// dedupe window needed, guard nothing more.
	{name: "message dedupe by look-up", sql: `
DROP INDEX messages_dedupe;
ALTER TABLE messages DROP COLUMN dedupe_retired;
`},
}

// migrate applies the migrations the database has not had yet, each in its
// own transaction together with its user_version bump, so a crash leaves
// the file at a version boundary. It returns how many it applied. The
// version is read again inside each (write-locked) transaction, so two
// processes opening an old file at once do not both apply a step.
func migrate(ctx context.Context, db *sql.DB, ms []migration) (applied int, err error) {
	for {
		done, err := migrateStep(ctx, db, ms)
		if err != nil || done {
			return applied, err
		}
		applied++
	}
}

func migrateStep(ctx context.Context, db *sql.DB, ms []migration) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrating: %w", err)
	}
	defer func() {
		if err != nil || done {
			tx.Rollback()
		}
	}()
	v, err := userVersion(ctx, tx)
	if err != nil {
		return false, err
	}
	switch {
	case v > len(ms):
		return false, tooNew(v, len(ms))
	case v == len(ms):
		return true, nil
	}
	m := ms[v]
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("migration %d (%s): %w", v+1, m.name, err)
	}
	// PRAGMA takes no parameters; v+1 is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		return false, fmt.Errorf("migration %d (%s): setting user_version: %w", v+1, m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %d (%s): commit: %w", v+1, m.name, err)
	}
	return false, nil
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func userVersion(ctx context.Context, q queryRower) (int, error) {
	var v int
	if err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("reading schema version: %w", err)
	}
	return v, nil
}

func tooNew(have, know int) error {
	return fmt.Errorf("%w: the file is at version %d, this dialtone knows up to %d; upgrade dialtone (the file was left untouched)", ErrSchemaTooNew, have, know)
}
