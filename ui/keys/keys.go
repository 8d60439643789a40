// Package keys is the softphone's one keymap: every binding the screen reacts to, with the
// help text the help bar and the ? overlay are generated from.
package keys

import "charm.land/bubbles/v2/key"

// KeyMap holds the bindings. Widgets read it; the root model enables and disables bindings
// as the state changes, so the help only offers what works right now.
type KeyMap struct {
	// Global.
	Dial     key.Binding
	Messages key.Binding
	Answer   key.Binding
	Reject   key.Binding
	Hangup   key.Binding
	Mute     key.Binding
	DTMF     key.Binding
	Hold     key.Binding // hold or resume the selected call
	Swap     key.Binding // talk to the selected held call, holding the other
	Transfer key.Binding // open the transfer line for the selected call
	DND      key.Binding // do not disturb on/off
	NextPane key.Binding
	PrevPane key.Binding
	Help     key.Binding
	Quit     key.Binding

	// Inside panes.
	Up        key.Binding
	Down      key.Binding
	Top       key.Binding
	Bottom    key.Binding
	Redial    key.Binding
	ToggleSIP key.Binding
	Ladder    key.Binding // the SIP ladder pane

	// Messages pane: open a conversation, start one, and (while writing) send and scroll.
	Open       key.Binding
	NewMessage key.Binding
	Send       key.Binding
	ScrollUp   key.Binding
	ScrollDown key.Binding

	// Transfer line: Enter transfers to the typed target (blind) or to the call picked with the
	// arrows (attended); Esc (Leave) cancels.
	TransferNow key.Binding
	PickCall    key.Binding

	// Dialer.
	DialNow  key.Binding
	Leave    key.Binding
	Complete key.Binding
	Account  key.Binding

	// Quit confirmation.
	Yes key.Binding
	No  key.Binding

	// First-run form.
	NextField key.Binding
	PrevField key.Binding
	Cycle     key.Binding
	Submit    key.Binding
	Skip      key.Binding
}

// DTMFKeys are the keys that send a DTMF digit during an answered call.
var DTMFKeys = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#"}

// Default returns the standard bindings.
func Default() *KeyMap {
	b := key.NewBinding
	k, h := key.WithKeys, key.WithHelp
	return &KeyMap{
		Dial:     b(k("d"), h("d", "dial")),
		Messages: b(k("t"), h("t", "messages")),
		Answer:   b(k("a"), h("a", "answer")),
		Reject:   b(k("r"), h("r", "reject")),
		Hangup:   b(k("h"), h("h", "hang up")),
		Mute:     b(k("m"), h("m", "mute")),
		DTMF:     b(k(DTMFKeys...), h("0-9*#", "DTMF")),
		// Capitals for the mid-call actions: the lower-case letters are taken (d dial, t
		// messages, a answer, h hang up) and a capital needs a deliberate shift. space holds
		// too, as the biggest key on the keyboard for the most frequent of them.
		Hold:     b(k("H", "space"), h("H/space", "hold/resume")),
		Swap:     b(k("x"), h("x", "swap calls")),
		Transfer: b(k("T"), h("T", "transfer")),
		DND:      b(k("D"), h("D", "do not disturb")),
		NextPane: b(k("tab"), h("tab", "next pane")),
		PrevPane: b(k("shift+tab"), h("shift+tab", "prev pane")),
		Help:     b(k("?"), h("?", "help")),
		Quit:     b(k("q", "ctrl+c"), h("q", "quit")),

		Up:        b(k("up", "k"), h("↑/k", "up")),
		Down:      b(k("down", "j"), h("↓/j", "down")),
		Top:       b(k("home", "g"), h("g", "top")),
		Bottom:    b(k("end", "G"), h("G", "bottom")),
		Redial:    b(k("enter"), h("enter", "redial")),
		ToggleSIP: b(k("s"), h("s", "SIP trace on/off")),
		Ladder:    b(k("L"), h("L", "SIP ladder")),

		Open:       b(k("enter"), h("enter", "open / write")),
		NewMessage: b(k("n"), h("n", "new message")),
		Send:       b(k("enter"), h("enter", "send")),
		// While a message is being written the letters are text, so only the arrows and the
		// page keys scroll the conversation.
		ScrollUp:   b(k("up", "pgup"), h("↑/pgup", "scroll up")),
		ScrollDown: b(k("down", "pgdown"), h("↓/pgdown", "scroll down")),

		TransferNow: b(k("enter"), h("enter", "transfer")),
		PickCall:    b(k("up", "down"), h("↑/↓", "pick a call (attended)")),

		DialNow:  b(k("enter"), h("enter", "call")),
		Leave:    b(k("esc"), h("esc", "leave")),
		Complete: b(k("tab"), h("tab", "complete")),
		// ctrl+o ("other account"): the dialer's text input owns the plain keys, arrows and
		// the usual readline chords, so the account switch needs a chord it does not use.
		Account: b(k("ctrl+o"), h("ctrl+o", "account")),

		Yes: b(k("y", "Y"), h("y", "yes")),
		No:  b(k("n", "N", "esc"), h("n", "no")),

		NextField: b(k("tab", "down"), h("tab/↓", "next field")),
		PrevField: b(k("shift+tab", "up"), h("shift+tab/↑", "prev field")),
		Cycle:     b(k("left", "right", "space"), h("←/→", "change choice")),
		Submit:    b(k("enter"), h("enter", "next / save")),
		Skip:      b(k("esc"), h("esc", "skip (echo test only)")),
	}
}
