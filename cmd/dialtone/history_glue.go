package main

import (
	"context"

	"github.com/dialtone/dialtone/phone"
)

// openHistory opens the message and call history. Until the SQLite store lands it keeps
// nothing (the phone then recognises retransmissions in memory).
func (e *env) openHistory() (phone.MessageStore, func(), error) {
	return nil, func() {}, nil
}

var _ = context.Background
