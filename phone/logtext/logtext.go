// Package logtext rewrites the text of log attributes. The handler that masks SRTP keys
// (cmd/dialtone) and the one that cuts what sipgo logs of the network's messages (phone) walk
// an attribute the same way: a string, or a value that prints as one, and a group's members.
package logtext

import "log/slog"

// Map returns a with f applied where a holds text: its value when that is a string or prints
// as one (an error, a []byte, a Stringer), else each member of a group; any other value is
// returned as it was (resolved). f gets the attribute, its value resolved, and the text.
func Map(a slog.Attr, f func(a slog.Attr, text string) slog.Attr) slog.Attr {
	a.Value = a.Value.Resolve()
	switch a.Value.Kind() {
	case slog.KindString:
		return f(a, a.Value.String())
	case slog.KindGroup:
		g := a.Value.Group()
		out := make([]any, len(g))
		for i, x := range g {
			out[i] = Map(x, f)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		switch x := a.Value.Any().(type) {
		case error:
			return f(a, x.Error())
		case []byte:
			return f(a, string(x))
		case interface{ String() string }:
			return f(a, x.String())
		}
	}
	return a
}
