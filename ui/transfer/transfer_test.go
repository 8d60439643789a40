package transfer

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
	"github.com/dialtone/dialtone/ui/internal/uitest"
	"github.com/dialtone/dialtone/ui/styles"
)

func call(id, name string) phone.CallStatus {
	return phone.CallStatus{ID: id, Peer: "sip:" + strings.ToLower(name) + "@example.com", PeerName: name}
}

func press(m *Model, k string) tea.Msg {
	if cmd := m.Update(uitest.Key(k)); cmd != nil {
		return cmd()
	}
	return nil
}

func newModel() *Model {
	m := New(common.NewCommon(styles.New(true, true)))
	m.SetSize(80, 1)
	return m
}

// The arrows cycle through the other calls and back to the typed target, both ways.
func TestPickCycles(t *testing.T) {
	m := newModel()
	m.Open(call("c1", "Bob"), []phone.CallStatus{call("c2", "Carol"), call("c3", "Dave")})
	var got []string
	for _, k := range []string{"down", "down", "down", "up", "up"} {
		press(m, k)
		if o, ok := m.Picked(); ok {
			got = append(got, o.ID)
		} else {
			got = append(got, "-")
		}
	}
	if want := "c2 c3 - c3 c2"; strings.Join(got, " ") != want {
		t.Errorf("picks %q, want %q", strings.Join(got, " "), want)
	}
	// Typing goes back to a blind transfer.
	press(m, "x")
	if _, ok := m.Picked(); ok {
		t.Error("typing kept a call picked")
	}
	if msg, ok := press(m, "enter").(BlindMsg); !ok || msg != (BlindMsg{CallID: "c1", Target: "x"}) {
		t.Errorf("enter sent %#v", msg)
	}
	if m.Active() {
		t.Error("the line stayed open after Enter")
	}
}

// A picked call that ends is forgotten, not replaced by whichever call takes its place.
func TestPickedCallEnds(t *testing.T) {
	m := newModel()
	m.Open(call("c1", "Bob"), []phone.CallStatus{call("c2", "Carol"), call("c3", "Dave")})
	press(m, "down")
	press(m, "down") // c3
	m.SetOthers([]phone.CallStatus{call("c3", "Dave")})
	if o, ok := m.Picked(); !ok || o.ID != "c3" {
		t.Errorf("after c2 left the pick is %v %v, want c3", o.ID, ok)
	}
	m.SetOthers([]phone.CallStatus{call("c2", "Carol")})
	if o, ok := m.Picked(); ok {
		t.Errorf("c3 ended but %s is picked", o.ID)
	}
	if msg := press(m, "enter"); msg != nil {
		t.Errorf("Enter with nothing typed or picked sent %#v", msg)
	}
}

func TestAttendedAndView(t *testing.T) {
	m := newModel()
	if m.View() != "" || m.Update(tea.KeyPressMsg{Code: tea.KeyEnter}) != nil {
		t.Fatal("an inactive line draws or acts")
	}
	m.Open(call("c1", "Bob"), []phone.CallStatus{call("c2", "Carol")})
	if v := ansi.Strip(m.View()); !strings.Contains(v, "Transfer Bob <bob@example.com> to ❯") {
		t.Errorf("view %q", v)
	}
	press(m, "down")
	v := ansi.Strip(m.View())
	if !strings.Contains(v, "⇄ Carol <carol@example.com> (attended)") || len([]rune(v)) != 80 {
		t.Errorf("view %q (%d cells), want the picked call in 80", v, len([]rune(v)))
	}
	if msg, ok := press(m, "enter").(AttendedMsg); !ok || msg != (AttendedMsg{CallID: "c1", OtherID: "c2"}) {
		t.Errorf("enter sent %#v", msg)
	}
	m.Open(call("c1", "Bob"), nil)
	press(m, "esc")
	if m.Active() {
		t.Error("esc left the line open")
	}
}
