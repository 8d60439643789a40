package logpane

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/dialtone/dialtone/ui/common"
	"github.com/dialtone/dialtone/ui/internal/uitest"
	"github.com/dialtone/dialtone/ui/styles"
)

func lines(prefix string, n int) []Line {
	out := make([]Line, n)
	for i := range out {
		out[i] = Line{Level: "INFO", Text: fmt.Sprintf("%s%d", prefix, i)}
	}
	return out
}

// texts is the text column of the pane's rows.
func texts(view string) []string {
	var out []string
	for _, row := range strings.Split(ansi.Strip(view), "\n") {
		f := strings.Fields(row)
		out = append(out, f[len(f)-1])
	}
	return out
}

// Scrolled up, each new line moves the user's place up one; once the scrollback is full
// the oldest lines go, and the place must not point above the oldest line kept.
func TestScrolledUpPastTheCap(t *testing.T) {
	m := New(common.NewCommon(styles.New(true, true)))
	m.SetSize(60, 3)
	m.SetFocused(true)
	m.Append(lines("p", maxLines)...)
	m.Update(uitest.Key("up"))
	if got := strings.Join(texts(m.View()), " "); got != "p4996 p4997 p4998" {
		t.Fatalf("scrolled up one: %q", got)
	}
	// A trim that spares the lines on screen keeps them there.
	m.Append(lines("a", 2)...)
	if got := strings.Join(texts(m.View()), " "); got != "p4996 p4997 p4998" {
		t.Errorf("after two more lines: %q, want the same lines", got)
	}
	// A trim that takes them shows the oldest lines kept.
	m.Append(lines("b", maxLines)...)
	if got := strings.Join(texts(m.View()), " "); got != "b0 b1 b2" {
		t.Errorf("after the lines read were trimmed: %q, want the oldest kept", got)
	}
	m.Update(uitest.Key("down"))
	if got := strings.Join(texts(m.View()), " "); got != "b1 b2 b3" {
		t.Errorf("one down from the top: %q", got)
	}
}
