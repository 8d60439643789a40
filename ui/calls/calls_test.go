package calls

import (
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
	"github.com/dialtone/dialtone/ui/styles"
)

func status(id string, st phone.CallState) phone.CallStatus {
	s := phone.CallStatus{ID: id, Direction: phone.Incoming, Peer: "sip:" + id + "@example.org", State: st}
	if st == phone.CallAnswered {
		s.Answered = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	}
	return s
}

func selected(t *testing.T, m *Model, want string) {
	t.Helper()
	c, ok := m.Selected()
	if got := c.Status.ID; !ok || got != want {
		t.Errorf("selected %q (%v), want %q", got, ok, want)
	}
}

// A call that rings in while another is talked to leaves the selection where it is, so the
// hang-up and hold keys still act on the call talked to; with nothing selected it is taken.
func TestNewCallKeepsTheSelection(t *testing.T) {
	m := New(common.NewCommon(styles.New(true, true)))
	m.Update(status("a", phone.CallAnswered))
	selected(t, m, "a") // nothing was selected: the first call is
	m.Update(status("b", phone.CallIncoming))
	selected(t, m, "a")
	m.Select("b") // answering selects it
	selected(t, m, "b")
	m.Update(status("b", phone.CallEnded))
	selected(t, m, "a") // the selected call is gone: its neighbour is
	m.Update(status("a", phone.CallEnded))
	m.Update(status("c", phone.CallIncoming))
	selected(t, m, "c")
}

// Dial returns the new call's id, and the call's first status may come after that answer:
// Select for a call not yet listed selects it when it appears.
func TestSelectBeforeTheCallAppears(t *testing.T) {
	m := New(common.NewCommon(styles.New(true, true)))
	m.Update(status("a", phone.CallAnswered))
	m.Select("b")
	m.Update(status("c", phone.CallIncoming)) // another call: not the one asked for
	selected(t, m, "a")
	m.Update(status("b", phone.CallCalling))
	selected(t, m, "b")
	// Once used, the request is spent: a later call with no Select does not take over.
	m.Update(status("d", phone.CallIncoming))
	selected(t, m, "b")
}

// TestBothCallsShowInATwoRowPane: at 80×24 the calls pane has a row per call; the selected
// call's detail line (its statistics) took the second row and hid the held or waiting call.
func TestBothCallsShowInATwoRowPane(t *testing.T) {
	m := New(common.NewCommon(styles.New(true, true)))
	m.SetSize(78, 2)
	m.Update(status("a", phone.CallAnswered))
	m.Update(phone.MediaStats{CallID: "a", Stats: phone.StreamStats{PacketsReceived: 250, MOS: 4.3}})
	m.Update(status("b", phone.CallIncoming))
	out := m.View()
	if !strings.Contains(out, "a@example.org") || !strings.Contains(out, "b@example.org") {
		t.Fatalf("both calls should show:\n%s", out)
	}
}
