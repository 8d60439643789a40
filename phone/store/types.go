package store

import (
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Directions of calls and messages.
const (
	Incoming = "incoming"
	Outgoing = "outgoing"
)

// Message statuses. An incoming message is always StatusReceived; an
// outgoing one starts as StatusPending and becomes StatusSent or
// StatusFailed when the final response arrives (UpdateMessageStatus).
const (
	StatusReceived = "received"
	StatusSent     = "sent"
	StatusFailed   = "failed"
	StatusPending  = "pending"
)

// Errors callers may test with errors.Is.
var (
	// ErrNotFound: the row to update does not exist.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate: AddMessage was given an incoming message whose
	// (SIPCallID, CSeq, Peer) is stored already, i.e. a retransmission.
	// The returned id is that of the stored message.
	ErrDuplicate = errors.New("duplicate incoming message")
	// ErrSchemaTooNew: the file was written by a newer dialtone. We refuse
	// to touch it rather than guess at a schema we do not know.
	ErrSchemaTooNew = errors.New("history database schema is newer than this dialtone")
)

// Call is one finished (or failed, or missed) call.
type Call struct {
	ID int64
	// CallID identifies the call: dialtone's own id or the SIP Call-ID.
	// When not empty it is unique: AddCall with a CallID that is stored
	// already replaces that row (see AddCall).
	CallID    string
	Direction string // Incoming or Outgoing
	Account   string
	Peer      string // stored as NormalizePeer(Peer)
	PeerName  string // display name, as shown to the user
	// Start is when the call was placed or began ringing, Answer when it
	// was answered, End when it ended. The zero time means "did not
	// happen" (a missed call has no Answer).
	Start, Answer, End time.Time
	Code               int    // final SIP status code, 0 if none
	Reason             string // why it ended, free text
	By                 string // who ended it ("local", "remote", ...), free text
	Duration           time.Duration
	Codec              string       // the codec the call used last, "" if unknown
	Quality            *CallQuality // nil: no media, or recorded before quality was kept
}

// Message is one instant message (SIP MESSAGE), in either direction.
type Message struct {
	ID        int64
	Direction string // Incoming or Outgoing
	Account   string
	Peer      string // stored as NormalizePeer(Peer)
	Text      string
	Time      time.Time // must not be zero
	Status    string    // StatusReceived, StatusSent, StatusFailed or StatusPending
	Code      int       // SIP status code of the final response, 0 if none yet
	SIPCallID string    // Call-ID and CSeq of the MESSAGE request, for dedupe
	CSeq      uint32
	// Read is whether the user has seen an incoming message. Outgoing
	// messages are always stored as read: one's own words are not news.
	Read bool
}

// Query selects history rows. The zero Query is "the newest 100 of each".
type Query struct {
	// Calls and Messages choose what to list; both false means both. Calls
	// returns nothing for a messages-only query and Messages nothing for a
	// calls-only one, so a caller can build one Query from its flags and
	// call both.
	Calls, Messages bool
	Peer            string    // only this peer (normalised); empty = all
	Limit           int       // at most this many rows; 0 = DefaultLimit
	Since           time.Time // only rows at or after this time; zero = all
}

// DefaultLimit is the number of rows a Query with Limit 0 returns.
const DefaultLimit = 100

func (q Query) wantCalls() bool    { return q.Calls || !q.Messages }
func (q Query) wantMessages() bool { return q.Messages || !q.Calls }

func (q Query) limit() (int, error) {
	switch {
	case q.Limit < 0:
		return 0, fmt.Errorf("store: negative limit %d", q.Limit)
	case q.Limit == 0:
		return DefaultLimit, nil
	}
	return q.Limit, nil
}

// Conversation is the message history with one peer, summarised.
type Conversation struct {
	Peer   string
	Last   Message // the newest message with this peer
	Unread int     // incoming messages not yet marked read
}

// toMicros is how times are stored: integer microseconds, NULL for zero,
// so that "no answer" is distinguishable and SQL can order and compare.
func toMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromMicros(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMicro(n.Int64)
}

func validDirection(d string) error {
	if d != Incoming && d != Outgoing {
		return fmt.Errorf("store: direction %q is neither %q nor %q", d, Incoming, Outgoing)
	}
	return nil
}

func validStatus(s string) error {
	switch s {
	case StatusReceived, StatusSent, StatusFailed, StatusPending:
		return nil
	}
	return fmt.Errorf("store: unknown message status %q", s)
}
