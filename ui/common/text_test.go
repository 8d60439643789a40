package common

import (
	"testing"
	"time"
	"unicode"

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

// TestCleanFitsClusters: while the TUI draws code point by code point (SetFit), every
// grapheme cluster of cleaned text measures the same whole (lipgloss) and code point by code
// point (a terminal without mode 2027, and Bubble Tea's renderer for it): joined emoji, skin
// tones, emoji variation selectors and lone regional indicators are shown by their first code
// point, or U+FFFD where that code point would join what follows. Plain, accented, CJK, flag
// and combining text is left alone; line output (SetFit off, the default) keeps everything.
func TestCleanFitsClusters(t *testing.T) {
	SetFit(true)
	defer SetFit(false)
	for _, c := range []struct{ in, want string }{
		{"Zoë 李小龙 e\u0301te\u0301 ✓", "Zoë 李小龙 e\u0301te\u0301 ✓"},
		{"🇫🇷 🙂", "🇫🇷 🙂"},
		{"👩‍💻 dev", "👩 dev"},
		{"ok 👍🏽", "ok 👍"},
		{"❤️ love", "❤ love"},
		{"flag 🇩 alone", "flag \uFFFD alone"},
		{"1️⃣", "1"},
		// A code point kept would join the next cluster: U+FFFD instead (a later pass).
		{"\u1100\uac00\u1100", ""},
		{"\u0600👩‍💻 x", ""},
	} {
		got := Clean(c.in)
		if c.want != "" && got != c.want {
			t.Errorf("Clean(%q) = %q, want %q", c.in, got, c.want)
		}
		if bad := unfit(got); bad != "" {
			t.Errorf("Clean(%q) = %q: cluster %q measures differently", c.in, got, bad)
		}
		if again := Clean(got); again != got {
			t.Errorf("Clean(Clean(%q)) = %q, not %q", c.in, again, got)
		}
	}
	SetFit(false)
	for _, s := range []string{"👩‍💻 dev", "ok 👍🏽", "❤️ love"} {
		if got := Clean(s); got != s {
			t.Errorf("line output: Clean(%q) = %q, want it whole", s, got)
		}
	}
}

// unfit is the first grapheme cluster of s whose width whole and code point by code point
// differ, or "".
func unfit(s string) string {
	for rest := s; rest != ""; {
		c, w := ansi.FirstGraphemeCluster(rest, ansi.GraphemeWidth)
		if c == "" {
			return rest
		}
		if w != ansi.StringWidthWc(c) {
			return c
		}
		rest = rest[len(c):]
	}
	return ""
}

// FuzzCleanFits: whatever the text, cleaned for the TUI every cluster measures the same both
// ways, nothing is left to clean, and no control character gets through.
func FuzzCleanFits(f *testing.F) {
	for _, s := range []string{"👩‍💻🇫🇷👍🏽 e\u0301te\u0301", "\u1100\uac00\u1100", "\u0600👩‍💻 x", "\u070f❤️", "a\x1b[31mb"} {
		f.Add(s)
	}
	SetFit(true)
	f.Cleanup(func() { SetFit(false) })
	f.Fuzz(func(t *testing.T, s string) {
		got := Clean(s)
		if bad := unfit(got); bad != "" {
			t.Fatalf("Clean(%q) = %q: cluster %q measures differently", s, got, bad)
		}
		if again := Clean(got); again != got {
			t.Fatalf("Clean(Clean(%q)) = %q, not %q", s, again, got)
		}
		for _, r := range got {
			if unicode.IsControl(r) {
				t.Fatalf("Clean(%q) = %q keeps control character %U", s, got, r)
			}
		}
	})
}
