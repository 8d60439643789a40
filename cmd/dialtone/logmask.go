package main

import (
	"context"
	"log/slog"

	"github.com/dialtone/dialtone/phone/logtext"
	"github.com/dialtone/dialtone/phone/srtp"
)

// maskingHandler masks SRTP keys ("inline:KEY") in every record before its handler sees it: the
// message and every string attribute, groups included. sipgo logs a message it cannot parse
// whole ("data", at Error level), and over TCP that read can hold an SDP answer's key too: it
// reached stderr, --log-file and the TUI's log pane, where the README promises keys never do.
type maskingHandler struct{ next slog.Handler }

func masked(h slog.Handler) slog.Handler { return maskingHandler{h} }

func (m maskingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return m.next.Enabled(ctx, l)
}

func (m maskingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, srtp.MaskCryptoString(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskAttr(a))
		return true
	})
	return m.next.Handle(ctx, out)
}

func (m maskingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	mas := make([]slog.Attr, len(as))
	for i, a := range as {
		mas[i] = maskAttr(a)
	}
	return maskingHandler{m.next.WithAttrs(mas)}
}

func (m maskingHandler) WithGroup(name string) slog.Handler {
	return maskingHandler{m.next.WithGroup(name)}
}

// maskAttr masks a's value: a string, anything that prints as one (an error, a Stringer, a
// []byte), or a group's members.
func maskAttr(a slog.Attr) slog.Attr {
	return logtext.Map(a, func(a slog.Attr, s string) slog.Attr {
		return slog.String(a.Key, srtp.MaskCryptoString(s))
	})
}
