package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/dialtone/dialtone/phone/store"
)

type historyCmd struct {
	Calls    bool   `help:"Only calls."`
	Messages bool   `help:"Only messages."`
	Peer     string `help:"Only this peer (a SIP URI)." placeholder:"URI"`
	Limit    int    `help:"At most this many of each, newest first." default:"100"`
}

// Run lists the call and message history, newest first (calls and messages interleaved by time).
func (c *historyCmd) Run(e *env) error {
	if c.Limit < 1 {
		return usageErr("--limit must be at least 1")
	}
	path, err := e.historyPath()
	if err != nil {
		return usageErr("history: %v", err)
	}
	s, err := store.Open(path)
	if err != nil && !errors.Is(err, store.ErrSchemaTooNew) {
		// A directory that cannot be written (read-only, full) still lets the history be read.
		if ro, rerr := store.OpenReadOnly(path); rerr == nil {
			s, err = ro, nil
		}
	}
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("history %s: %w", path, err)}
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	q := store.Query{Calls: c.Calls, Messages: c.Messages, Peer: c.Peer, Limit: c.Limit}
	if c.Peer != "" {
		q.Peer = store.NormalizePeer(c.Peer)
	}
	calls, err := s.Calls(ctx, q)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	msgs, err := s.Messages(ctx, q)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	names := contactNamesOf(ctx, s) // contacts_names.go
	type row struct {
		at  time.Time
		rec record
		txt string
	}
	var rows []row
	for _, cl := range calls {
		d := cl.Duration.Seconds()
		r := record{Event: "call", Time: stamp(cl.Start), Account: cl.Account, SIPCallID: cl.CallID, Direction: cl.Direction,
			Peer: cl.Peer, PeerName: cl.PeerName, Code: cl.Code, Reason: cl.Reason, By: cl.By, Duration: &d}
		who := cl.Peer
		if c := names.name(cl.Peer); c != "" {
			r.PeerName, who = c, c
		}
		outcome := "answered"
		if cl.Answer.IsZero() {
			outcome = "not answered"
		}
		txt := fmt.Sprintf("%s  call %-8s %-30s %s, %s (%d %s)", cl.Start.Local().Format("2006-01-02 15:04"), cl.Direction, who,
			outcome, cl.Duration.Round(time.Second), cl.Code, cl.Reason)
		txt += r.setStoredQuality(cl) // quality.go
		rows = append(rows, row{cl.Start, r, txt})
	}
	for _, m := range msgs {
		text := m.Text
		r := record{Event: "message", Time: stamp(m.Time), Account: m.Account, Direction: m.Direction, Peer: m.Peer,
			Text: &text, Code: m.Code, Status: m.Status}
		who := m.Peer
		if c := names.name(m.Peer); c != "" {
			r.PeerName, who = c, c
		}
		arrow := "→"
		if m.Direction == store.Incoming {
			arrow = "←"
		}
		rows = append(rows, row{m.Time, r, fmt.Sprintf("%s  msg  %s %-30s %s  [%s]", m.Time.Local().Format("2006-01-02 15:04"), arrow, who, oneLine(m.Text), m.Status)})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].at.After(rows[j].at) })
	out := &printer{w: e.stdout, json: e.cli.JSON}
	for _, r := range rows {
		out.emit(r.rec, r.txt)
	}
	return nil
}
