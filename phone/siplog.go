package phone

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dialtone/dialtone/phone/logtext"
)

// sipgo logs what it is sent when it cannot use it: a message it cannot parse whole ("failed
// to parse", with the datagram as "data", up to 32 KB), a request its transactions refuse
// ("Server tx failed to handle request", with the start line and an error that repeats it).
// Anyone who can reach our SIP port could so write up to 40 KB of log a datagram to stderr,
// to --log-file or to the TUI's log pane, as fast as they send. So sipgo's records have every
// string cut to sipShown bytes, and its warnings and errors go out at most once every
// sipEvery for each message and source (its "caller": Transport<UDP>, Transport<TCP>…, so
// that a stranger's datagrams never hide what our registrar's connection says), each saying
// how many of the same were left out before it. The phone gives sipgo's server and clients
// such a logger; the command line makes one sipgo's process-wide logger (its transports').
const (
	sipShown    = 256
	sipEvery    = time.Minute
	sipMaxKinds = 64 // kinds of record tracked; more share one budget
)

// SIPLogger is log with sipgo's records cut and limited, for a logger sipgo is given.
func SIPLogger(log *slog.Logger) *slog.Logger {
	return slog.New(limitSIPLog(log.Handler()))
}

func limitSIPLog(h slog.Handler) slog.Handler {
	return sipLogLimit{next: h, state: &sipLogState{last: map[string]*sipKind{}}}
}

type sipLogLimit struct {
	next   slog.Handler
	caller string       // the "caller" attributes given With, which say which part of sipgo logs
	state  *sipLogState // shared by the handlers With makes
}

type sipLogState struct {
	mu   sync.Mutex
	last map[string]*sipKind // by caller and message
}

type sipKind struct {
	at   time.Time // when one was last logged
	held int       // left out since
}

// take says whether a record of kind key at t is logged, and how many were left out before it.
func (s *sipLogState) take(key string, t time.Time) (bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.last[key]
	if !ok {
		if len(s.last) >= sipMaxKinds {
			key = "" // the rest share one budget
			k = s.last[key]
		}
		if k == nil {
			s.last[key] = &sipKind{at: t}
			return true, 0
		}
	}
	if t.Sub(k.at) < sipEvery {
		k.held++
		return false, 0
	}
	n := k.held
	k.at, k.held = t, 0
	return true, n
}

func (u sipLogLimit) Enabled(ctx context.Context, l slog.Level) bool {
	return u.next.Enabled(ctx, l)
}

func (u sipLogLimit) Handle(ctx context.Context, r slog.Record) error {
	held := 0
	if r.Level >= slog.LevelWarn {
		ok, n := u.state.take(u.caller+"\x00"+r.Message, r.Time)
		if !ok {
			return nil
		}
		held = n
	}
	out := slog.NewRecord(r.Time, r.Level, cut(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(cutAttr(a))
		return true
	})
	if held > 0 {
		out.AddAttrs(slog.Int("more_dropped_before", held))
	}
	return u.next.Handle(ctx, out)
}

func (u sipLogLimit) WithAttrs(as []slog.Attr) slog.Handler {
	caller := u.caller
	for _, a := range as {
		if a.Key == "caller" {
			caller += "/" + a.Value.String()
		}
	}
	cs := make([]slog.Attr, len(as))
	for i, a := range as {
		cs[i] = cutAttr(a)
	}
	return sipLogLimit{next: u.next.WithAttrs(cs), caller: caller, state: u.state}
}

func (u sipLogLimit) WithGroup(name string) slog.Handler {
	return sipLogLimit{next: u.next.WithGroup(name), caller: u.caller, state: u.state}
}

// cutAttr cuts a's value to sipShown bytes when it is, or prints as, a long string (an error,
// a []byte, a Stringer such as sipgo's method), in a group too.
func cutAttr(a slog.Attr) slog.Attr {
	return logtext.Map(a, func(a slog.Attr, s string) slog.Attr {
		if len(s) > sipShown {
			return slog.Group(a.Key, slog.String("start", cut(s)), slog.Int("bytes", len(s)))
		}
		return a
	})
}

// cut is s's first sipShown bytes, not splitting a character, marked as cut.
func cut(s string) string {
	if len(s) <= sipShown {
		return s
	}
	n := sipShown
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
