package logtext

import (
	"errors"
	"log/slog"
	"net/netip"
	"testing"
)

type lazy struct{}

func (lazy) LogValue() slog.Value { return slog.StringValue("resolved") }

// TestMap: f sees the text of strings, errors, bytes, Stringers and LogValuers, in groups too;
// numbers pass untouched.
func TestMap(t *testing.T) {
	var seen []string
	upper := func(a slog.Attr, text string) slog.Attr {
		seen = append(seen, a.Key+"="+text)
		return slog.String(a.Key, "<"+text+">")
	}
	out := Map(slog.Group("g", slog.String("s", "a"), slog.Any("e", errors.New("b")), slog.Any("b", []byte("c")),
		slog.Any("ip", netip.MustParseAddr("192.0.2.1")), slog.Any("l", lazy{}), slog.Int("n", 7)), upper)
	want := "g.s=<a> g.e=<b> g.b=<c> g.ip=<192.0.2.1> g.l=<resolved> g.n=7"
	if got := attrText(out); got != want {
		t.Fatalf("Map gave %q, want %q", got, want)
	}
	if len(seen) != 5 {
		t.Fatalf("f saw %q: want the five texts, not the number", seen)
	}
}

// attrText prints a group's members as key=value, the group's name before each key.
func attrText(a slog.Attr) string {
	s := ""
	for _, m := range a.Value.Group() {
		if s != "" {
			s += " "
		}
		s += a.Key + "." + m.Key + "=" + m.Value.String()
	}
	return s
}
