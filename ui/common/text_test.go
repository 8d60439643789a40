package common

import (
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"Bob":                     "Bob",
		"Bob\x1b]0;pwned\a":       "Bob\uFFFD]0;pwned\uFFFD",
		"a\tb":                    "a    b",
		"evil\u009b31m":           "evil\uFFFD31m", // C1 CSI
		"line\nbreak":             "line\uFFFDbreak",
		"Zoë ☎":                   "Zoë ☎",
		"sip:a@b;transport=tcp\r": "sip:a@b;transport=tcp\uFFFD",
	} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClock(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                               "00:00",
		-time.Second:                    "00:00",
		83 * time.Second:                "01:23",
		59*time.Minute + 59*time.Second: "59:59",
		time.Hour + 2*time.Minute + 3*time.Second: "1:02:03",
	} {
		if got := Clock(d); got != want {
			t.Errorf("Clock(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestPeer(t *testing.T) {
	for _, c := range []struct{ uri, name, want string }{
		{"sip:bob@example.org", "", "bob@example.org"},
		{"sips:bob@example.org;transport=tls", "Bob", "Bob <bob@example.org>"},
		{"sip:+15551234@pbx?Subject=x", "+15551234@pbx", "+15551234@pbx"},
		{"sip:bob@example.org", "  \x1b[2J ", "\uFFFD[2J <bob@example.org>"},
	} {
		if got := Peer(c.uri, c.name); got != c.want {
			t.Errorf("Peer(%q, %q) = %q, want %q", c.uri, c.name, got, c.want)
		}
	}
}

func TestPadRight(t *testing.T) {
	if got := PadRight("abc", 5); got != "abc  " {
		t.Errorf("pad: %q", got)
	}
	if got := PadRight("abcdef", 4); got != "abc…" {
		t.Errorf("truncate: %q", got)
	}
}

// TestCleanFitsClusters: until the terminal reports mode 2027, every grapheme cluster of
// cleaned text measures the same whole (lipgloss) and code point by code point (a terminal
// without the mode, and Bubble Tea's renderer for it): joined emoji, skin tones, emoji
// variation selectors and lone regional indicators are shown by their first code point.
// Plain, accented, CJK, flag and combining text is left alone; once the mode is reported,
// everything is.
func TestCleanFitsClusters(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Zoë 李小龙 e\u0301te\u0301 ✓", "Zoë 李小龙 e\u0301te\u0301 ✓"},
		{"🇫🇷 🙂", "🇫🇷 🙂"},
		{"👩‍💻 dev", "👩 dev"},
		{"ok 👍🏽", "ok 👍"},
		{"❤️ love", "❤ love"},
		{"flag 🇩 alone", "flag \uFFFD alone"},
		{"1️⃣", "1"},
	} {
		got := Clean(c.in)
		if got != c.want {
			t.Errorf("Clean(%q) = %q, want %q", c.in, got, c.want)
		}
		if ansi.StringWidth(got) != ansi.StringWidthWc(got) {
			t.Errorf("Clean(%q) = %q: %d cells whole, %d code point by code point", c.in, got, ansi.StringWidth(got), ansi.StringWidthWc(got))
		}
	}
	SetGraphemes(true)
	defer SetGraphemes(false)
	for _, s := range []string{"👩‍💻 dev", "ok 👍🏽", "❤️ love"} {
		if got := Clean(s); got != s {
			t.Errorf("with mode 2027: Clean(%q) = %q, want it whole", s, got)
		}
	}
}
