package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// sipgo logs every message it cannot parse at Error level with the whole message as "data".
// Anyone who can reach our SIP port could so write up to 64 KB a datagram to stderr, to
// --log-file or to the TUI's log pane, as fast as they send. Such records become warnings
// with the message's first unparsedShown bytes, at most one every unparsedEvery, each saying
// how many were left out before it.
const (
	unparsedMsg   = "failed to parse" // sipgo v1.7's UDP, TCP and WS transports
	unparsedShown = 256
	unparsedEvery = time.Minute
)

// setSIPLogger makes log, with its unparsed messages limited, sipgo's process-wide logger.
func setSIPLogger(log *slog.Logger) {
	sip.SetDefaultLogger(slog.New(limitUnparsed(log.Handler())))
}

func limitUnparsed(h slog.Handler) slog.Handler {
	return unparsedLimit{next: h, state: &unparsedState{}}
}

type unparsedLimit struct {
	next  slog.Handler
	state *unparsedState // shared by the handlers With makes: sipgo's transports each have one
}

type unparsedState struct {
	mu     sync.Mutex
	last   time.Time // when the last one was logged
	held   int       // left out since
	logged bool
}

// take says whether a record at t is logged, and how many were left out before it.
func (s *unparsedState) take(t time.Time) (bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.logged && t.Sub(s.last) < unparsedEvery {
		s.held++
		return false, 0
	}
	n := s.held
	s.logged, s.last, s.held = true, t, 0
	return true, n
}

func (u unparsedLimit) Enabled(ctx context.Context, l slog.Level) bool {
	return u.next.Enabled(ctx, l)
}

func (u unparsedLimit) Handle(ctx context.Context, r slog.Record) error {
	if r.Message != unparsedMsg {
		return u.next.Handle(ctx, r)
	}
	ok, held := u.state.take(r.Time)
	if !ok || !u.next.Enabled(ctx, slog.LevelWarn) {
		return nil
	}
	out := slog.NewRecord(r.Time, slog.LevelWarn, "dropped a SIP message that does not parse", r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if v := a.Value.Resolve(); a.Key == "data" && v.Kind() == slog.KindString {
			s := v.String()
			out.AddAttrs(slog.Int("bytes", len(s)))
			if len(s) > unparsedShown {
				s = s[:unparsedShown] + "…"
			}
			a = slog.String(a.Key, s)
		}
		out.AddAttrs(a)
		return true
	})
	if held > 0 {
		out.AddAttrs(slog.Int("more_dropped_before", held))
	}
	return u.next.Handle(ctx, out)
}

func (u unparsedLimit) WithAttrs(as []slog.Attr) slog.Handler {
	return unparsedLimit{next: u.next.WithAttrs(as), state: u.state}
}

func (u unparsedLimit) WithGroup(name string) slog.Handler {
	return unparsedLimit{next: u.next.WithGroup(name), state: u.state}
}
