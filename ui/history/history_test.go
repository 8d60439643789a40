package history

import (
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
	"github.com/dialtone/dialtone/ui/internal/uitest"
	"github.com/dialtone/dialtone/ui/styles"
)

func TestOutcome(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		s    phone.CallStatus
		want string
		good bool
	}{
		{phone.CallStatus{Answered: t0, By: "remote"}, "answered", true},
		{phone.CallStatus{Direction: phone.Incoming, By: "local", Code: 486}, "rejected", false},
		{phone.CallStatus{Direction: phone.Incoming, By: "remote"}, "missed", false},
		{phone.CallStatus{Code: 486, Failure: phone.FailureBusy}, "busy (486)", false},
		{phone.CallStatus{Failure: phone.FailureNoAnswer}, "no answer", false},
		{phone.CallStatus{By: "local", Code: 487}, "cancelled", false},
		{phone.CallStatus{Code: 500}, "failed (500)", false},
	} {
		got, good := Outcome(c.s)
		if got != c.want || good != c.good {
			t.Errorf("Outcome(%+v) = %q, %v; want %q, %v", c.s, got, good, c.want, c.good)
		}
	}
}

func past(peer string, at time.Time) Entry {
	return Entry{Direction: phone.Outgoing, Peer: peer, Outcome: "answered", Good: true, Started: at}
}

func selectedPeer(t *testing.T, m *Model, want string) {
	t.Helper()
	if e, ok := m.Selected(); !ok || e.Peer != want {
		t.Errorf("selected %q (%v), want %q", e.Peer, ok, want)
	}
}

// A call ending while the user is on a row of the focused pane adds a row at the top; the
// selection stays on the entry it was on, the top one too, so Enter redials the same person
// (on the top row it took the new call: Enter dialled whoever had just called). With the pane
// not focused, the newest call is selected.
func TestSelectionFollowsItsEntry(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	m := New(common.NewCommon(styles.New(true, true)))
	m.SetFocused(true)
	old := []Entry{past("sip:a@x", t0), past("sip:b@x", t0.Add(-time.Hour)), past("sip:c@x", t0.Add(-2*time.Hour))}
	m.SetPast(old)
	m.Update(uitest.Key("down"))
	m.Update(uitest.Key("down"))
	selectedPeer(t, m, "sip:c@x")

	end := phone.CallStatus{ID: "c1", Direction: phone.Outgoing, Peer: "sip:d@x", State: phone.CallEnded,
		Started: t0.Add(time.Minute), Answered: t0.Add(time.Minute), Ended: t0.Add(2 * time.Minute)}
	m.Update(end)
	selectedPeer(t, m, "sip:c@x")
	// The persistent history read again now has the ended call too.
	m.SetPast(append([]Entry{past("sip:d@x", end.Started)}, old...))
	if n := len(m.Entries()); n != 4 {
		t.Fatalf("%d entries after the reload, want 4", n)
	}
	selectedPeer(t, m, "sip:c@x")

	m.Update(uitest.Key("g")) // the top row: it stays on its call when another ends
	end.ID, end.Peer = "c2", "sip:e@x"
	m.Update(end)
	selectedPeer(t, m, "sip:d@x")

	m.Update(uitest.Key("g"))
	m.SetFocused(false)
	end.ID, end.Peer = "c3", "sip:f@x"
	m.Update(end)
	selectedPeer(t, m, "sip:f@x")
}

// A redirected call is kept under the number dialled, as the history store keeps it: once
// the store is read again it is one row, not the dialled one and the target beside it.
func TestRedirectedCallIsOneRow(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	m := New(common.NewCommon(styles.New(true, true)))
	end := phone.CallStatus{ID: "c1", Direction: phone.Outgoing, Peer: "sip:bob@x", Dialled: "sip:fwd-bob@x", State: phone.CallEnded,
		Started: t0, Answered: t0.Add(time.Second), Ended: t0.Add(time.Minute)}
	m.Update(end)
	m.SetPast([]Entry{past("sip:fwd-bob@x", t0)})
	if got := m.Entries(); len(got) != 1 || got[0].Peer != "sip:fwd-bob@x" {
		t.Fatalf("entries %+v, want one, the number dialled", got)
	}
}
