package notify

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

func TestSequence(t *testing.T) {
	got := Sequence("dialtone", "Incoming call from Bob")
	want := "\a\x1b]9;dialtone: Incoming call from Bob\a\x1b]777;notify;dialtone;Incoming call from Bob\a"
	if got != want {
		t.Errorf("Sequence = %q, want %q", got, want)
	}
}

// A display name is chosen by the caller: a BEL or ESC in it must not end the OSC early and
// smuggle commands to the terminal.
func TestSequenceStripsControls(t *testing.T) {
	got := Sequence("a;b", "Bob\a\x1b]52;c;cHduZWQ=\x1b\\ \u009c")
	if n := strings.Count(got, "\a"); n != 3 { // the bell and the two terminators
		t.Errorf("%d BELs in %q", n, got)
	}
	if strings.Count(got, "\x1b") != 2 || strings.ContainsRune(got, '\u009c') {
		t.Errorf("control characters got through: %q", got)
	}
	if !strings.Contains(got, "\x1b]777;notify;a,b;") {
		t.Errorf("the OSC 777 title may not contain ';': %q", got)
	}
}

func TestSequenceBounded(t *testing.T) {
	got := Sequence("dialtone", strings.Repeat("x", 1000))
	if len(got) > 2*maxLen+64 {
		t.Errorf("notification is %d bytes", len(got))
	}
}

func TestCmdIsRaw(t *testing.T) {
	msg := Cmd("t", "b")()
	raw, ok := msg.(tea.RawMsg)
	if !ok || raw.Msg != Sequence("t", "b") {
		t.Errorf("Cmd gave %#v", msg)
	}
}
