package main

import (
	"context"
	"errors"
	"sync"

	"github.com/dialtone/dialtone/phone"
)

// watchedHistory is the history as the phone writes it, saying once when writes start failing
// (a full disk, an I/O error) and once when they work again (space came back): not a line per
// message or call. Through the logger, so the TUI shows it in its log pane and a terminal
// gets it on stderr. The phone goes on without the record meanwhile: calls work, and messages
// are shown (phone/message_unkept.go).
type watchedHistory struct {
	*history
	path    string // for the message
	mu      sync.Mutex
	failing bool
}

// watchHistory wraps the phone's history (session.go).
func (e *env) watchHistory(h *history) *watchedHistory {
	path, _ := e.historyPath() // it opened, so the path is known
	return &watchedHistory{history: h, path: path}
}

func (h *watchedHistory) SaveMessage(ctx context.Context, m phone.Message, sipCallID string, cseq uint32) error {
	err := h.history.SaveMessage(ctx, m, sipCallID, cseq)
	h.note(err)
	return err
}

func (h *watchedHistory) SavePending(ctx context.Context, m phone.Message) (int64, error) {
	id, err := h.history.SavePending(ctx, m)
	h.note(err)
	return id, err
}

func (h *watchedHistory) Settle(ctx context.Context, id int64, m phone.Message) error {
	err := h.history.Settle(ctx, id, m)
	h.note(err)
	return err
}

func (h *watchedHistory) SaveCall(ctx context.Context, c phone.CallStatus) error {
	err := h.history.SaveCall(ctx, c)
	h.note(err)
	return err
}

func (h *watchedHistory) note(err error) {
	if errors.Is(err, context.Canceled) {
		return // the phone is stopping: nothing to say about the disk
	}
	if errors.Is(err, phone.ErrDuplicateMessage) {
		err = nil // a copy of a message stored already: the write worked
	}
	h.mu.Lock()
	was := h.failing
	h.failing = err != nil
	h.mu.Unlock()
	switch {
	case err != nil && !was:
		h.log.log.Warn("history: cannot write the history; calls go on and messages are shown, but neither is recorded until it can be written again",
			"path", h.path, "err", innermost(err))
	case err == nil && was:
		h.log.log.Warn("history: written again; what came meanwhile was not recorded", "path", h.path)
	}
}

// innermost is the cause at the bottom of err's chain (SQLite's "database or disk is full"),
// without each layer's restatement.
func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
