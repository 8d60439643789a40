package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/phone/store"
)

// historyPath is the history database: --data-dir, else $XDG_DATA_HOME/dialtone.
func (e *env) historyPath() (string, error) {
	if e.cli.DataDir != "" {
		return filepath.Join(e.cli.DataDir, "history.db"), nil
	}
	return store.DefaultPath()
}

// openHistory opens the call and message history for the phone core.
func (e *env) openHistory() (*history, func(), error) {
	path, err := e.historyPath()
	if err != nil {
		return nil, nil, usageErr("history: %v", err)
	}
	s, err := store.Open(path)
	if err != nil {
		if errors.Is(err, store.ErrSchemaTooNew) {
			return nil, nil, usageErr("%v", err)
		}
		return nil, nil, fmt.Errorf("history %s: %w", path, err)
	}
	return &history{s: s, log: e}, func() { _ = s.Close() }, nil
}

// history adapts the SQLite store to the phone core's MessageStore and CallStore.
type history struct {
	s   *store.Store
	log *env
}

func (h *history) SeenMessage(ctx context.Context, m phone.Message, sipCallID string, cseq uint32) (bool, error) {
	return h.s.MessageSeen(ctx, store.Message{Direction: m.Direction.String(), Peer: m.Peer, Text: m.Text,
		Time: m.Time, SIPCallID: sipCallID, CSeq: cseq})
}

func (h *history) SaveMessage(ctx context.Context, m phone.Message, sipCallID string, cseq uint32) error {
	_, err := h.s.AddMessage(ctx, store.Message{
		Direction: m.Direction.String(), Account: m.Account, Peer: m.Peer, Text: m.Text, Time: m.Time,
		Status: m.Status, Code: m.Code, SIPCallID: sipCallID, CSeq: cseq,
	})
	if errors.Is(err, store.ErrDuplicate) {
		// A retransmission raced the first copy past SeenMessage: it is stored, and the
		// phone must not show it twice.
		return fmt.Errorf("%w: %w", phone.ErrDuplicateMessage, err)
	}
	return err
}

// SavePending stores a message we are sending before its answer (phone.PendingMessages).
func (h *history) SavePending(ctx context.Context, m phone.Message) (int64, error) {
	return h.s.AddMessage(ctx, store.Message{
		Direction: m.Direction.String(), Account: m.Account, Peer: m.Peer, Text: m.Text, Time: m.Time,
		Status: store.StatusPending,
	})
}

// Settle records the outcome of a message SavePending stored.
func (h *history) Settle(ctx context.Context, id int64, m phone.Message) error {
	return h.s.UpdateMessageStatus(ctx, id, m.Status, m.Code)
}

func (h *history) SaveCall(ctx context.Context, c phone.CallStatus) error {
	_, err := h.s.AddCall(ctx, store.Call{
		CallID: c.SIPCallID, Direction: c.Direction.String(), Account: c.Account, Peer: c.Peer, PeerName: c.PeerName,
		Start: c.Started, Answer: c.Answered, End: c.Ended, Code: c.Code, Reason: c.Reason, By: c.By, Duration: c.Duration(),
		Codec: c.Codec, Quality: storedQuality(c.Quality),
	})
	return err
}
